// For tests of the client side: a fake troupe daemon on a Unix socket (or 127.0.0.1) that answers
// each request with what a handler returns — JSON, an API error, or a scripted server-sent event
// stream that may stall and drop. It runs on its own threads (the client under test blocks), so
// handlers must be thread-safe; requests are recorded in arrival order.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace troupe::testing {

struct FakeRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};

struct FakeResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // An event stream instead: a head without length, then each piece after its delay, then the
  // connection is closed — or, with hold_open, kept until the client goes or the server stops.
  bool stream = false;
  std::vector<std::pair<int64_t, std::string>> pieces;
  bool hold_open = false;

  static FakeResponse Json(int status, const nlohmann::json& body);
  // {"error": {"status", "code", "message", ...}} as the API sends it.
  static FakeResponse Error(int status, const std::string& code, const std::string& message,
                            const std::string& field = "");
  static FakeResponse Stream(std::vector<std::pair<int64_t, std::string>> pieces,
                             bool hold_open = false);
};

class FakeDaemon {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;

  // Listens on `socket_path` (a Unix socket), or on 127.0.0.1:<any port> when it is empty.
  // nullptr when the socket cannot be bound (the test fails with the reason).
  static std::unique_ptr<FakeDaemon> Start(const std::string& socket_path, Handler handler);
  ~FakeDaemon();  // stops accepting, closes every connection, joins the threads
  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;

  const std::string& socket() const { return socket_; }
  int port() const { return port_; }
  std::vector<FakeRequest> requests() const;
  // Requests whose target starts with `prefix`.
  std::vector<FakeRequest> RequestsTo(const std::string& prefix) const;
  void SetHandler(Handler handler);

 private:
  FakeDaemon() = default;
  void AcceptLoop();
  void Serve(int fd);
  bool WriteAll(int fd, const std::string& bytes);
  // Sleeps up to `ms`, returning false early when the server stops.
  bool SleepUnlessStopped(int64_t ms);

  std::string socket_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  Handler handler_;
  std::vector<FakeRequest> requests_;
  std::vector<int> connections_;
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace troupe::testing
