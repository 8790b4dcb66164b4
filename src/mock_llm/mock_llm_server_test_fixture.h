// The fixture of the mock-llm server tests: a server on 127.0.0.1 and the repo's HttpClient on
// one io_context, a planner the test sets, request builders for both protocols, and a raw TCP
// client for what HttpClient would not send.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/event_loop.h"
#include "core/fake_clock.h"
#include "core/http_client.h"
#include "core/testing/loop_runner.h"
#include "llm/anthropic_codec.h"
#include "llm/openai_codec.h"
#include "mock_llm/mock_llm_server.h"
#include "mock_llm/mock_llm_test_support.h"
#include "mock_llm/reply_encoder.h"

namespace troupe::mock_llm_test {

using ::testing::HasSubstr;
using testing::RunLoopFor;
using testing::RunLoopUntil;
using json = nlohmann::json;

// What one HTTP call reported.
struct Exchange {
  std::optional<HttpResponseHead> head;
  std::string body;
  int done_count = 0;
  Status status = Status::Internal("not done");
  HttpErrorKind kind = HttpErrorKind::kNone;

  bool done() const { return done_count > 0; }
  int http_status() const { return head.has_value() ? head->status : 0; }
  std::string Header(std::string_view name) const {
    return head.has_value() ? head->Header(name).value_or("") : "";
  }
  json Json() const { return json::parse(body, nullptr, /*allow_exceptions=*/false); }
};

inline HttpCallbacks Record(Exchange* e) {
  HttpCallbacks cb;
  cb.on_head = [e](const HttpResponseHead& head) { e->head = head; };
  cb.on_data = [e](std::string_view chunk) { e->body += chunk; };
  cb.on_done = [e](Status status, HttpErrorKind kind) {
    ++e->done_count;
    e->status = std::move(status);
    e->kind = kind;
  };
  return cb;
}

inline ChatRequest Hello(bool stream = true) {
  ChatRequest r;
  r.model = "mock-1";
  r.system = "You are a test.";
  r.messages.push_back(UserMessage("Say hello"));
  r.tools.push_back({"read", "Reads a file", json::object()});
  r.tools.push_back({"grep", "Searches", json::object()});
  r.max_tokens = 100;
  r.stream = stream;
  return r;
}

// Connects to 127.0.0.1:`port`, writes what it is given and collects every byte it receives.
class RawClient {
 public:
  RawClient(boost::asio::io_context& io, uint16_t port) : socket_(io) {
    boost::system::error_code ec;
    socket_.connect({boost::asio::ip::make_address_v4("127.0.0.1"), port}, ec);
    EXPECT_FALSE(ec) << ec.message();
    Read();
  }
  void Send(std::string bytes) {
    auto data = std::make_shared<std::string>(std::move(bytes));
    boost::asio::async_write(socket_, boost::asio::buffer(*data),
                             [data](const boost::system::error_code&, size_t) {});
  }
  const std::string& received() const { return received_; }
  bool closed() const { return closed_; }
  const boost::system::error_code& close_reason() const { return close_reason_; }

 private:
  void Read() {
    socket_.async_read_some(boost::asio::buffer(chunk_),
                            [this](const boost::system::error_code& ec, size_t n) {
                              received_.append(chunk_, n);
                              if (ec) {
                                closed_ = true;
                                close_reason_ = ec;
                                return;
                              }
                              Read();
                            });
  }

  boost::asio::ip::tcp::socket socket_;
  char chunk_[4096];
  std::string received_;
  bool closed_ = false;
  boost::system::error_code close_reason_;
};

class MockLlmServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The tests talk to 127.0.0.1 directly, whatever proxy the environment names.
    for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                             "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
      unsetenv(name);
    }
    plan_ = [](const ChatRequest&) {
      MockPlan plan = PlanFor(Reply("Hello from the mock."));
      plan.marker = "hello";
      return plan;
    };
    StartServer();
    client_ = std::make_unique<HttpClient>(io_);
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    RunLoopFor(io_, std::chrono::milliseconds(0));
  }

  // (Re)starts the server with `options`, on the fake clock when `fake` is set.
  void StartServer(MockLlmServerOptions options = {}, bool fake = false) {
    server_.reset();
    Clock* clock = fake ? static_cast<Clock*>(&fake_clock_) : &loop_clock_;
    auto server = MockLlmServer::Start(
        io_, clock,
        [this](const ChatRequest& request) {
          requests_.push_back(request);
          return plan_(request);
        },
        std::move(options));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  HttpRequest Post(std::string path, std::string body, std::vector<HttpHeader> headers = {}) {
    HttpRequest r;
    r.method = "POST";
    r.url = server_->Url(path);
    r.headers = std::move(headers);
    r.headers.push_back({"Content-Type", "application/json"});
    r.body = std::move(body);
    return r;
  }

  HttpRequest Get(std::string path, std::string method = "GET") {
    HttpRequest r;
    r.method = std::move(method);
    r.url = server_->Url(path);
    return r;
  }

  // A chat request as the SDK of `protocol` sends it, with credentials.
  HttpRequest Chat(WireProtocol protocol, const ChatRequest& request) {
    if (protocol == WireProtocol::kOpenAi) {
      return Post("/v1/chat/completions", EncodeOpenAiRequest(request).dump(),
                  {{"Authorization", "Bearer sk-test"}});
    }
    return Post("/v1/messages", EncodeAnthropicRequest(request).dump(),
                {{"x-api-key", "sk-ant-test"}, {"anthropic-version", "2023-06-01"}});
  }

  std::unique_ptr<HttpCall> Start(HttpRequest request, Exchange* e) {
    return client_->Start(std::move(request), Record(e));
  }

  // Runs `request` until the client is done and the server has finished with it (its log entry
  // is complete: the server learns that its last write is done after the client has read it).
  Exchange Fetch(HttpRequest request) {
    Exchange e;
    auto call = Start(std::move(request), &e);
    EXPECT_TRUE(RunLoopUntil(io_, [&] { return e.done() && server_->busy_connections() == 0; }));
    return e;
  }

  // Runs the loop until the server's log has `n` entries that are over.
  bool RunUntilLogged(size_t n) {
    return RunLoopUntil(io_, [&] {
      size_t over = 0;
      for (const RequestLogEntry& e : server_->log().Snapshot()) {
        over += e.outcome != "in_progress" ? 1 : 0;
      }
      return over >= n;
    });
  }

  RequestLogEntry LastEntry() {
    std::vector<RequestLogEntry> entries = server_->log().Snapshot();
    EXPECT_FALSE(entries.empty());
    return entries.empty() ? RequestLogEntry{} : entries.back();
  }

  boost::asio::io_context io_;
  LoopClock loop_clock_{io_};
  FakeClock fake_clock_;
  std::function<MockPlan(const ChatRequest&)> plan_;
  std::vector<ChatRequest> requests_;
  std::unique_ptr<MockLlmServer> server_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace troupe::mock_llm_test
