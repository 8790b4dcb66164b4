// What the HTTP server's tests share (http_server_test.cc, http_server_options_test.cc): a
// handler the tests steer, libcurl in a worker thread (while the test thread runs the server's
// loop) for ordinary requests, and raw non-blocking sockets (read from the loop's thread) for
// what curl would not send: malformed requests, huge heads, slow or vanishing readers, exact
// chunk framing.
#pragma once

#include "http/http_server.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/testing/loop_runner.h"
#include "core/testing/test_dir.h"
#include "core/text_case.h"

namespace troupe::http_test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using json = nlohmann::json;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunLoopFor;
using testing::RunLoopUntil;
using testing::TestDir;

inline constexpr char kToken[] = "s3cret-token-0123456789";

inline const bool kCurlReady = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;

// --- A handler the tests steer ---

class TestHandler : public HttpHandler {
 public:
  // Answers each request; the default echoes it as JSON.
  std::function<void(std::shared_ptr<HttpExchange>)> on_request;
  std::function<void()> on_shutdown;
  std::vector<ApiRequest> requests;
  std::vector<std::shared_ptr<HttpExchange>> held;  // exchanges a test keeps to answer later
  int shutdowns = 0;
  // Paths with their own body limit (HttpHandler::BodyLimit), and the answer to a body over it.
  std::map<std::string, size_t> body_limits;
  std::optional<ApiResponse> too_large;
  std::vector<std::pair<std::string, size_t>> too_large_asked;

  size_t BodyLimit(std::string_view path) const override {
    auto it = body_limits.find(std::string(path));
    return it == body_limits.end() ? 0 : it->second;
  }
  std::optional<ApiResponse> BodyTooLarge(std::string_view path, size_t limit) const override {
    const_cast<TestHandler*>(this)->too_large_asked.emplace_back(std::string(path), limit);
    return too_large;
  }

  void Handle(std::shared_ptr<HttpExchange> exchange) override {
    requests.push_back(exchange->request());
    if (on_request) {
      on_request(std::move(exchange));
    } else {
      Echo(*exchange);
    }
  }
  void Shutdown() override {
    ++shutdowns;
    if (on_shutdown) on_shutdown();
  }

  static void Echo(HttpExchange& exchange) {
    const ApiRequest& r = exchange.request();
    json body{{"method", r.method},  {"target", r.target}, {"path", r.path},
              {"query", r.query},    {"body", r.body},     {"transport", r.transport},
              {"headers", r.headers}};
    ApiResponse response;
    response.body = body.dump();
    exchange.Respond(std::move(response));
  }
};

// --- libcurl in a worker thread ---

struct CurlRequest {
  std::string url;
  std::string unix_socket;  // "" = TCP
  std::string method = "GET";
  std::string body;
  std::vector<std::string> headers;
  bool head_only = false;
};

struct CurlResponse {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string head;
  std::string body;
  long connects = 0;

  json Json() const { return json::parse(body, nullptr, false); }
};

inline size_t AppendTo(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// Runs `requests` in order on one easy handle (so on one connection when it is kept alive).
inline std::vector<CurlResponse> CurlCalls(const std::vector<CurlRequest>& requests) {
  std::vector<CurlResponse> responses;
  CURL* curl = curl_easy_init();
  for (const CurlRequest& r : requests) {
    CurlResponse out;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, r.url.c_str());
    if (!r.unix_socket.empty())
      curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, r.unix_socket.c_str());
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    if (r.head_only) {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (r.method == "POST" || !r.body.empty()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, r.body.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(r.body.size()));
    }
    if (r.method != "GET" && r.method != "POST" && !r.head_only) {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    curl_slist* headers = nullptr;
    for (const std::string& h : r.headers) headers = curl_slist_append(headers, h.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendTo);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, AppendTo);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out.head);
    out.code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &out.connects);
    curl_slist_free_all(headers);
    responses.push_back(std::move(out));
  }
  curl_easy_cleanup(curl);
  return responses;
}

// Runs the loop while a worker thread makes the calls.
inline std::vector<CurlResponse> FetchAll(asio::io_context& io, std::vector<CurlRequest> requests) {
  auto future = std::async(std::launch::async, [requests] { return CurlCalls(requests); });
  RunLoopUntil(
      io, [&] { return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; },
      std::chrono::seconds(20));
  return future.get();
}

inline CurlResponse Fetch(asio::io_context& io, CurlRequest request) {
  return FetchAll(io, {std::move(request)}).front();
}

// --- A raw client on a non-blocking socket ---

class RawClient {
 public:
  static std::unique_ptr<RawClient> Unix(const std::string& path) {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      return nullptr;
    }
    return std::unique_ptr<RawClient>(new RawClient(fd));
  }

  // `receive_buffer` > 0 shrinks the kernel's receive buffer (set before connecting).
  static std::unique_ptr<RawClient> Tcp(int port, int receive_buffer = 0) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      return nullptr;
    }
    return std::unique_ptr<RawClient>(new RawClient(fd));
  }

  ~RawClient() { Close(); }

  // Sends everything (the tests send little; a full socket buffer is waited out briefly).
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{fd_, POLLOUT, 0};
        poll(&p, 1, 10);
        continue;
      }
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Takes what has arrived, without waiting.
  void Pump() {
    if (fd_ < 0) return;
    char buffer[16384];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n > 0) {
        data_.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        eof_ = true;
        if (n < 0) error_ = errno;
      }
      return;
    }
  }

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  const std::string& data() const { return data_; }
  int fd() const { return fd_; }
  bool eof() const { return eof_; }
  // The errno that ended the reading (ECONNRESET for a reset), 0 for an orderly close.
  int error() const { return error_; }
  void Clear() { data_.clear(); }

 private:
  explicit RawClient(int fd) : fd_(fd) { fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK); }

  int fd_;
  std::string data_;
  bool eof_ = false;
  int error_ = 0;
};

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  json Json() const { return json::parse(body, nullptr, false); }
};

// The complete responses at the start of `data` (an incomplete last one is left out).
inline std::vector<RawResponse> ParseResponses(std::string_view data, bool head_request = false) {
  std::vector<RawResponse> out;
  while (!data.empty()) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.skip(head_request);
    boost::system::error_code ec;
    size_t used = 0;
    while (!parser.is_done()) {
      const size_t n = parser.put(asio::buffer(data.data() + used, data.size() - used), ec);
      used += n;
      if (ec || n == 0) break;
    }
    if (!parser.is_done()) break;
    RawResponse r;
    r.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      r.headers[AsciiLowercase(std::string(field.name_string()))] = std::string(field.value());
    }
    r.body = parser.get().body();
    out.push_back(std::move(r));
    data.remove_prefix(used);
  }
  return out;
}

inline std::string Request(const std::string& method, const std::string& target,
                    const std::string& extra_headers = "", const std::string& body = "") {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers;
  if (!body.empty() || method == "POST")
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

inline std::string Auth() { return std::string("Authorization: Bearer ") + kToken + "\r\n"; }

// --- The fixture ---

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerOptions Options() {
    HttpServerOptions o;
    o.unix_socket_path = SocketPath();
    o.tcp_host = "127.0.0.1";
    o.tcp_port = 0;
    o.bearer_token = kToken;
    o.on_response = [this](int status) { statuses_.push_back(status); };
    return o;
  }

  void StartServer(HttpServerOptions options) {
    auto started = HttpServer::Start(io_, &handler_, std::move(options));
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value();
  }
  void StartServer() { StartServer(Options()); }

  std::string SocketPath() const { return dir_.File("api.sock"); }
  std::string TcpUrl(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(server_->tcp_port()) + target;
  }

  CurlResponse GetUnix(const std::string& target) {
    CurlRequest r;
    r.url = "http://localhost" + target;
    r.unix_socket = SocketPath();
    return Fetch(io_, r);
  }

  // Reads from `client` (running the loop) until `count` complete responses are there.
  std::vector<RawResponse> ReadResponses(RawClient& client, size_t count,
                                         bool head_request = false) {
    std::vector<RawResponse> responses;
    RunLoopUntil(io_, [&] {
      client.Pump();
      responses = ParseResponses(client.data(), head_request);
      return responses.size() >= count || client.eof();
    });
    return responses;
  }

  // Runs the loop until the server has closed `client`'s connection.
  bool WaitForEof(RawClient& client, milliseconds limit = milliseconds(5000)) {
    return RunLoopUntil(
        io_,
        [&] {
          client.Pump();
          return client.eof();
        },
        limit);
  }

  bool WaitForRequests(size_t count) {
    return RunLoopUntil(io_, [&] { return handler_.requests.size() >= count; });
  }

  asio::io_context io_;
  TestDir dir_;
  TestHandler handler_;
  std::vector<int> statuses_;
  std::unique_ptr<HttpServer> server_;  // last: goes first
};

}  // namespace troupe::http_test
