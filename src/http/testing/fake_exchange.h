// An HttpExchange without a socket, for handler tests: records the response or the streamed
// bytes, and lets the test play a client that goes away or reads slowly.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/http_exchange.h"

namespace troupe::testing {

class FakeExchange : public HttpExchange {
 public:
  explicit FakeExchange(ApiRequest request) : request_(std::move(request)) {}

  static std::shared_ptr<FakeExchange> Make(std::string method, std::string path,
                                            std::string body = "") {
    ApiRequest r;
    r.method = std::move(method);
    r.target = path;
    r.transport = "unix";
    auto q = path.find('?');
    r.path = path.substr(0, q);
    if (q != std::string::npos) {
      std::string rest = path.substr(q + 1);
      size_t start = 0;
      while (start <= rest.size()) {
        size_t amp = rest.find('&', start);
        std::string pair = rest.substr(start, amp == std::string::npos ? amp : amp - start);
        if (!pair.empty()) {
          size_t eq = pair.find('=');
          r.query[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
        }
        if (amp == std::string::npos) break;
        start = amp + 1;
      }
    }
    r.body = std::move(body);
    if (!r.body.empty()) r.headers["content-type"] = "application/json";
    return std::make_shared<FakeExchange>(std::move(r));
  }

  const ApiRequest& request() const override { return request_; }
  ApiRequest& mutable_request() { return request_; }

  void Respond(ApiResponse response) override {
    if (answered_ || closed_) return;
    answered_ = true;
    response_ = std::move(response);
  }
  using HttpExchange::OpenStream;
  bool OpenStream(int status, std::vector<std::pair<std::string, std::string>> headers) override {
    if (answered_ || closed_) return false;
    stream_status_ = status;
    answered_ = true;
    streaming_ = true;
    stream_headers_ = std::move(headers);
    return true;
  }
  bool Write(std::string bytes) override {
    if (!streaming_ || closed_) return false;
    if (buffer_limit_ && pending_ + bytes.size() > *buffer_limit_) {
      Close();
      return false;
    }
    if (buffer_limit_) pending_ += bytes.size();
    streamed_ += bytes;
    return true;
  }
  size_t buffered() const override { return pending_; }
  void Close() override {
    if (closed_) return;
    closed_ = true;
    if (on_close_) {
      auto cb = std::move(on_close_);
      cb();
    }
  }
  bool closed() const override { return closed_; }
  void Abort() override {
    aborted_ = true;
    Close();
  }
  void OnWriteProgress(std::function<void(WriteProgress)>) override {}
  void OnClose(std::function<void()> callback) override { on_close_ = std::move(callback); }

  // --- test controls
  // The client vanishes (as the server would report it).
  void Disconnect() { Close(); }
  // From now on the client reads nothing: bytes pile up until `limit`, then the stream closes.
  void StopReading(size_t limit) { buffer_limit_ = limit; }

  bool answered() const { return answered_; }
  bool aborted() const { return aborted_; }
  int stream_status() const { return stream_status_; }
  bool streaming() const { return streaming_; }
  const std::optional<ApiResponse>& response() const { return response_; }
  int status() const { return response_ ? response_->status : 0; }
  nlohmann::json json() const {
    return response_ ? nlohmann::json::parse(response_->body, nullptr, false) : nlohmann::json();
  }
  const std::string& streamed() const { return streamed_; }
  const std::vector<std::pair<std::string, std::string>>& stream_headers() const {
    return stream_headers_;
  }

 private:
  ApiRequest request_;
  bool answered_ = false;
  bool streaming_ = false;
  bool closed_ = false;
  bool aborted_ = false;
  int stream_status_ = 0;
  std::optional<ApiResponse> response_;
  std::vector<std::pair<std::string, std::string>> stream_headers_;
  std::string streamed_;
  std::optional<size_t> buffer_limit_;
  size_t pending_ = 0;
  std::function<void()> on_close_;
};

// The JSON messages in an event stream's bytes (each event's `data:` line).
inline std::vector<nlohmann::json> SseMessages(const std::string& bytes) {
  std::vector<nlohmann::json> out;
  size_t pos = 0;
  while ((pos = bytes.find("data: ", pos)) != std::string::npos) {
    const size_t end = bytes.find('\n', pos);
    out.push_back(nlohmann::json::parse(bytes.substr(pos + 6, end - pos - 6)));
    pos = end;
  }
  return out;
}

}  // namespace troupe::testing
