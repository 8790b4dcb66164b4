// The fixture shared by the HttpClient tests: an io_context, a scripted HttpTestServer on it, a
// client, and a recorder of what each call reported.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/http_client.h"
#include "core/testing/http_test_server.h"
#include "core/testing/loop_runner.h"

// Test-only names live apart from troupe's own.
namespace troupe::http_client_testing {

using ::testing::HasSubstr;
using testing::HttpTestServer;
using testing::RecordedRequest;
using testing::RunLoopFor;
using testing::RunLoopUntil;
using testing::ScriptedResponse;
using testing::TestGate;
using Framing = ScriptedResponse::Framing;
using std::chrono::milliseconds;

// What one call reported, in order.
struct Outcome {
  std::vector<std::string> events;  // "head", "data", "done"
  std::optional<HttpResponseHead> head;
  std::vector<std::string> chunks;
  std::string body;
  int done_count = 0;
  Status status = Status::Internal("not done");
  HttpErrorKind kind = HttpErrorKind::kNone;

  bool done() const { return done_count > 0; }
};

inline HttpCallbacks Record(Outcome* o) {
  HttpCallbacks cb;
  cb.on_head = [o](const HttpResponseHead& head) {
    o->events.push_back("head");
    o->head = head;
  };
  cb.on_data = [o](std::string_view chunk) {
    o->events.push_back("data");
    o->chunks.emplace_back(chunk);
    o->body += chunk;
  };
  cb.on_done = [o](Status status, HttpErrorKind kind) {
    o->events.push_back("done");
    ++o->done_count;
    o->status = std::move(status);
    o->kind = kind;
  };
  return cb;
}

inline HttpRequest Get(std::string url) {
  HttpRequest r;
  r.method = "GET";
  r.url = std::move(url);
  return r;
}

inline std::vector<std::string> Events(std::initializer_list<const char*> names) {
  return {names.begin(), names.end()};
}

inline const char* const kProxyVariables[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                              "HTTPS_PROXY", "all_proxy",  "ALL_PROXY",
                                              "no_proxy",    "NO_PROXY"};

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The tests talk to 127.0.0.1 directly, whatever proxy the environment names.
    for (const char* name : kProxyVariables) {
      if (const char* value = getenv(name)) saved_env_.emplace_back(name, value);
      unsetenv(name);
    }
    auto server = HttpTestServer::Start(io_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    client_ = std::make_unique<HttpClient>(io_);
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    RunLoopFor(io_, milliseconds(0));
    for (const char* name : kProxyVariables) unsetenv(name);
    for (const auto& [name, value] : saved_env_) setenv(name.c_str(), value.c_str(), 1);
  }

  // Starts `request` and runs the loop until it is done.
  Outcome Fetch(HttpRequest request) {
    Outcome outcome;
    auto call = client_->Start(std::move(request), Record(&outcome));
    EXPECT_TRUE(RunLoopUntil(io_, [&] { return outcome.done(); }));
    return outcome;
  }

  boost::asio::io_context io_;
  std::unique_ptr<HttpTestServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::vector<std::pair<std::string, std::string>> saved_env_;
};

}  // namespace troupe::http_client_testing
