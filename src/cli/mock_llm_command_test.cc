// `troupe mock-llm` as a user runs it: the built binary is started in a child process, talked to
// over HTTP with the repo's HttpClient, and stopped with a signal.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "core/http_client.h"
#include "core/testing/loop_runner.h"
#include "llm/anthropic_codec.h"
#include "llm/openai_codec.h"
#include "wire/sse_parser.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

// A `troupe mock-llm` child process whose stdout and stderr the test reads.
class MockLlmProcess {
 public:
  explicit MockLlmProcess(const std::vector<std::string>& args) {
    int out[2];
    int err[2];
    EXPECT_EQ(pipe(out), 0);
    EXPECT_EQ(pipe(err), 0);
    // Built before fork: the child may only make async-signal-safe calls before exec.
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(TROUPE_BINARY));
    argv.push_back(const_cast<char*>("mock-llm"));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      dup2(err[1], STDERR_FILENO);
      close(out[0]);
      close(out[1]);
      close(err[0]);
      close(err[1]);
      execv(TROUPE_BINARY, argv.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    stdout_ = out[0];
    stderr_ = err[0];
  }

  ~MockLlmProcess() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(stdout_);
    close(stderr_);
  }

  // The first line the process prints, or "" when it exits or stays silent for 30 s.
  std::string FirstLine() {
    std::string line;
    char c;
    while (line.empty() || line.back() != '\n') {
      pollfd p{stdout_, POLLIN, 0};
      if (poll(&p, 1, 30'000) <= 0) return "";
      if (read(stdout_, &c, 1) != 1) return line;
      line += c;
    }
    return line;
  }

  // Sends `signal` (0: none) and returns the exit code (-1: killed by a signal).
  int Wait(int signal = 0) {
    if (signal != 0) kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string Stderr() {
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = read(stderr_, buffer, sizeof buffer)) > 0;) text.append(buffer, n);
    return text;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int stdout_ = -1;
  int stderr_ = -1;
};

struct Answer {
  int status = 0;
  std::string body;
  bool done = false;
  Status result = Status::Internal("not done");
};

class MockLlmCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                             "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
      unsetenv(name);
    }
    char pattern[] = "/tmp/troupe_mock_llm_cli_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The port in the "listening on" line, or 0.
  static int PortOf(const std::string& line) {
    std::smatch m;
    static const std::regex kListening(
        R"(^troupe mock-llm listening on http://127\.0\.0\.1:(\d+)\n$)");
    return std::regex_match(line, m, kListening) ? std::stoi(m[1]) : 0;
  }

  Answer Send(int port, std::string method, std::string path, std::string body = "",
              std::vector<HttpHeader> headers = {}) {
    HttpRequest request;
    request.method = std::move(method);
    request.url = "http://127.0.0.1:" + std::to_string(port) + path;
    request.body = std::move(body);
    request.headers = std::move(headers);
    request.total_timeout_ms = 30'000;
    Answer answer;
    HttpCallbacks cb;
    cb.on_head = [&](const HttpResponseHead& head) { answer.status = head.status; };
    cb.on_data = [&](std::string_view data) { answer.body += data; };
    cb.on_done = [&](Status s, HttpErrorKind) {
      answer.result = std::move(s);
      answer.done = true;
    };
    auto call = client_.Start(std::move(request), std::move(cb));
    EXPECT_TRUE(testing::RunLoopUntil(
        io_, [&] { return answer.done; }, std::chrono::seconds(30)));
    return answer;
  }

  ChatRequest Hello(bool stream) {
    ChatRequest r;
    r.model = "mock-a";
    ChatMessage prompt;
    prompt.text = "Say hello";
    r.messages.push_back(prompt);
    r.max_tokens = 200;
    r.stream = stream;
    return r;
  }

  std::string dir_;
  boost::asio::io_context io_;
  HttpClient client_{io_};
};

TEST_F(MockLlmCommandTest, ServesBothProtocolsAndStopsOnSigterm) {
  const std::string port_file = dir_ + "/port";
  const std::string log_file = dir_ + "/requests.jsonl";
  MockLlmProcess process(
      {"--port-file", port_file, "--log", log_file, "--models", "mock-a,mock-b"});
  const int port = PortOf(process.FirstLine());
  ASSERT_GT(port, 0) << process.Stderr();
  int written = 0;
  std::ifstream(port_file) >> written;
  EXPECT_EQ(written, port);

  Answer models = Send(port, "GET", "/v1/models");
  ASSERT_EQ(models.status, 200);
  json list = json::parse(models.body);
  ASSERT_EQ(list["data"].size(), 2u);
  EXPECT_EQ(list["data"][1]["id"], "mock-b");

  Answer openai =
      Send(port, "POST", "/v1/chat/completions", EncodeOpenAiRequest(Hello(true)).dump(),
           {{"Authorization", "Bearer sk-test"}, {"x-troupe-task", "bg_cli"}});
  ASSERT_EQ(openai.status, 200) << openai.body;
  SseParser parser;
  std::vector<SseEvent> events;
  parser.Feed(openai.body, &events);
  OpenAiStreamDecoder decoder;
  std::vector<StreamDelta> deltas;
  for (const SseEvent& e : events) ASSERT_TRUE(decoder.OnEvent(e, &deltas).ok());
  Result<ChatResult> streamed = decoder.Finish();
  ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
  EXPECT_FALSE(streamed->message.text.empty());

  Answer anthropic = Send(port, "POST", "/v1/messages", EncodeAnthropicRequest(Hello(false)).dump(),
                          {{"x-api-key", "sk-ant"}, {"anthropic-version", "2023-06-01"}});
  ASSERT_EQ(anthropic.status, 200) << anthropic.body;
  Result<ChatResult> whole = DecodeAnthropicResponse(anthropic.body);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_FALSE(whole->message.text.empty());

  EXPECT_EQ(
      Send(port, "POST", "/v1/chat/completions", EncodeOpenAiRequest(Hello(true)).dump()).status,
      401);

  Answer log = Send(port, "GET", "/v1/mock/requests");
  ASSERT_EQ(log.status, 200);
  EXPECT_EQ(json::parse(log.body).size(), 4u);

  EXPECT_EQ(process.Wait(SIGTERM), 0);
  std::ifstream in(log_file);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1]["task"], "bg_cli");
  EXPECT_EQ(lines[1]["protocol"], "openai");
  EXPECT_EQ(lines[1]["outcome"], "completed");
  EXPECT_EQ(lines[3]["status"], 401);
}

TEST_F(MockLlmCommandTest, NoAuthAcceptsRequestsWithoutAKeyAndStopsOnSigint) {
  MockLlmProcess process({"--no-auth"});
  const int port = PortOf(process.FirstLine());
  ASSERT_GT(port, 0) << process.Stderr();
  Answer answer = Send(port, "POST", "/v1/messages", EncodeAnthropicRequest(Hello(false)).dump());
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(process.Wait(SIGINT), 0);
}

// The log's microsecond times are CLOCK_MONOTONIC, so another process (a benchmark) can set them
// against its own steady_clock readings.
TEST_F(MockLlmCommandTest, LogsMicrosecondTimesOnThisMachinesMonotonicClock) {
  MockLlmProcess process({"--no-auth"});
  const int port = PortOf(process.FirstLine());
  ASSERT_GT(port, 0) << process.Stderr();
  auto steady_us = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  const int64_t before_us = steady_us();
  ASSERT_EQ(Send(port, "POST", "/v1/messages", EncodeAnthropicRequest(Hello(true)).dump()).status,
            200);
  const int64_t after_us = steady_us();
  Answer log = Send(port, "GET", "/v1/mock/requests");
  ASSERT_EQ(log.status, 200);
  const json entry = json::parse(log.body).at(0);
  const int64_t head_us = entry["head_received_us"].get<int64_t>();
  const int64_t first_us = entry["first_write_us"].get<int64_t>();
  const int64_t last_us = entry["last_write_us"].get<int64_t>();
  EXPECT_GE(head_us, before_us);
  EXPECT_LE(head_us, first_us);
  EXPECT_LE(first_us, last_us);
  EXPECT_LE(last_us, after_us);
  EXPECT_EQ(process.Wait(SIGTERM), 0);
}

TEST_F(MockLlmCommandTest, ExitsWith1WhenThePortIsTaken) {
  MockLlmProcess first({});
  const int port = PortOf(first.FirstLine());
  ASSERT_GT(port, 0) << first.Stderr();
  MockLlmProcess second({"--port", std::to_string(port)});
  EXPECT_EQ(second.Wait(), 1);
  EXPECT_THAT(second.Stderr(), HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port)));
  EXPECT_EQ(first.Wait(SIGTERM), 0);
}

}  // namespace
}  // namespace troupe
