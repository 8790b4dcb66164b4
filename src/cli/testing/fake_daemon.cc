#include "cli/testing/fake_daemon.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

#include "core/text_case.h"

namespace troupe::testing {
namespace {

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

FakeResponse FakeResponse::Json(int status, const nlohmann::json& body) {
  FakeResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

FakeResponse FakeResponse::Error(int status, const std::string& code, const std::string& message,
                                 const std::string& field) {
  nlohmann::json error = {{"status", status}, {"code", code}, {"message", message}};
  if (!field.empty()) error["field"] = field;
  return Json(status, nlohmann::json{{"error", error}});
}

FakeResponse FakeResponse::Stream(std::vector<std::pair<int64_t, std::string>> pieces,
                                  bool hold_open) {
  FakeResponse r;
  r.stream = true;
  r.content_type = "text/event-stream";
  r.pieces = std::move(pieces);
  r.hold_open = hold_open;
  return r;
}

std::unique_ptr<FakeDaemon> FakeDaemon::Start(const std::string& socket_path, Handler handler) {
  std::unique_ptr<FakeDaemon> d(new FakeDaemon());
  d->handler_ = std::move(handler);
  d->socket_ = socket_path;
  if (!socket_path.empty()) {
    d->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path) {
      ADD_FAILURE() << "socket path too long: " << socket_path;
      return nullptr;
    }
    std::strcpy(addr.sun_path, socket_path.c_str());
    ::unlink(socket_path.c_str());
    if (::bind(d->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "bind " << socket_path << ": " << std::strerror(errno);
      return nullptr;
    }
  } else {
    d->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(d->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "bind 127.0.0.1:0: " << std::strerror(errno);
      return nullptr;
    }
    socklen_t len = sizeof addr;
    ::getsockname(d->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    d->port_ = ntohs(addr.sin_port);
  }
  if (::listen(d->listen_fd_, 64) != 0) {
    ADD_FAILURE() << "listen: " << std::strerror(errno);
    return nullptr;
  }
  d->acceptor_ = std::thread([raw = d.get()] { raw->AcceptLoop(); });
  return d;
}

FakeDaemon::~FakeDaemon() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
  }
  for (std::thread& t : workers_) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (!socket_.empty()) ::unlink(socket_.c_str());
}

std::vector<FakeRequest> FakeDaemon::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::vector<FakeRequest> FakeDaemon::RequestsTo(const std::string& prefix) const {
  std::vector<FakeRequest> out;
  for (const FakeRequest& r : requests()) {
    if (r.target.rfind(prefix, 0) == 0) out.push_back(r);
  }
  return out;
}

void FakeDaemon::SetHandler(Handler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

void FakeDaemon::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    connections_.push_back(fd);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

bool FakeDaemon::SleepUnlessStopped(int64_t ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (stopping_) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return !stopping_;
}

bool FakeDaemon::WriteAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void FakeDaemon::Serve(int fd) {
  std::string buffer;
  auto read_more = [&]() -> bool {
    while (!stopping_) {
      pollfd p{fd, POLLIN, 0};
      const int r = ::poll(&p, 1, 20);
      if (r == 0) continue;
      if (r < 0) return false;
      char chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(n));
      return true;
    }
    return false;
  };
  while (!stopping_) {
    size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!read_more()) goto done;
    }
    {
      FakeRequest request;
      const std::string head = buffer.substr(0, head_end);
      buffer.erase(0, head_end + 4);
      size_t line_end = head.find("\r\n");
      const std::string request_line = head.substr(0, line_end);
      const size_t sp1 = request_line.find(' ');
      const size_t sp2 = request_line.find(' ', sp1 + 1);
      request.method = request_line.substr(0, sp1);
      request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t end = head.find("\r\n", pos);
        if (end == std::string::npos) end = head.size();
        const std::string line = head.substr(pos, end - pos);
        const size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          request.headers[AsciiLowercase(line.substr(0, colon))] = value;
        }
        pos = end + 2;
      }
      const size_t length = std::strtoul(request.Header("content-length").c_str(), nullptr, 10);
      while (buffer.size() < length) {
        if (!read_more()) goto done;
      }
      request.body = buffer.substr(0, length);
      buffer.erase(0, length);

      Handler handler;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(request);
        handler = handler_;
      }
      const FakeResponse response = handler ? handler(request) : FakeResponse::Json(200, {});
      if (!response.stream) {
        std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                          Reason(response.status) + "\r\nContent-Type: " + response.content_type +
                          "\r\nContent-Length: " + std::to_string(response.body.size()) +
                          "\r\n\r\n" + response.body;
        if (!WriteAll(fd, out)) goto done;
        continue;
      }
      std::string head_out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                             Reason(response.status) +
                             "\r\nContent-Type: " + response.content_type +
                             "\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
      if (!WriteAll(fd, head_out)) goto done;
      for (const auto& [delay, piece] : response.pieces) {
        if (!SleepUnlessStopped(delay)) goto done;
        if (!WriteAll(fd, piece)) goto done;
      }
      if (response.hold_open) {
        // Until the client goes away or the server stops.
        while (!stopping_) {
          pollfd p{fd, POLLIN, 0};
          if (::poll(&p, 1, 20) > 0) {
            char c;
            if (::recv(fd, &c, 1, 0) <= 0) break;
          }
        }
      }
      goto done;  // a stream ends its connection
    }
  }
done:
  ::shutdown(fd, SHUT_RDWR);
  std::lock_guard<std::mutex> lock(mu_);
  connections_.erase(std::remove(connections_.begin(), connections_.end(), fd), connections_.end());
  ::close(fd);
}

}  // namespace troupe::testing
