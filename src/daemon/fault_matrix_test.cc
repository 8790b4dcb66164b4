// The fault matrix: every way a model provider fails, played by a real `troupe mock-llm` against
// the real `troupe serve`, one row per fault. A row is a provider of its own (OpenAI or Anthropic
// wire, one slot), the `#mock` directives that script the fault, and what the daemon must make
// of it: the final state; the result, byte for byte, or the words of the error that name the
// cause; the attempts the mock saw and the failed attempts and retries the daemon counted; the
// waits between attempts (at least what retry-after or the backoff prescribes) and the least
// time the task ran; and afterwards no request left open, no slot held, and a follow-up task on
// the same provider that runs.
//
// The binary cannot run on a FakeClock, so durations are short (a 5 s stale timeout, TTLs of
// 2.5-3 s) and only lower bounds of time are asserted: a loaded machine makes things slower,
// never faster. All rows run at once, so the matrix takes about as long as its slowest row.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "daemon/testing/daemon_harness.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using testing::Client;
using testing::DaemonHarness;
using testing::Describe;
using testing::Reply;
using testing::WaitUntil;

enum class Wire { kOpenAi, kAnthropic };

// One row of the matrix: a fault and what must come of it. Built with the setters below, which
// read as the table's columns.
struct FaultRow {
  std::string name;  // also the name of the row's provider and the requests' `id=` marker
  Wire wire = Wire::kOpenAi;
  std::string agent;       // one of the agents written by WriteAgents: timeouts and tools
  std::string directives;  // the row's `#mock` items (besides id=)
  bool refused = false;    // the provider's URL is a port nobody listens on

  std::string state;                   // "completed" or "error"
  std::string result;                  // the whole result, when completed
  std::vector<std::string> error_has;  // words of the error that name the cause
  int requests = 0;                    // model requests the mock saw (every attempt)
  int errors = 0;                      // failed attempts: troupe_provider_errors_total
  int retries = 0;                     // troupe_provider_retries_total
  std::vector<int64_t> min_gaps_ms;    // least wait before each retry (the mock's arrival times)
  int64_t min_run_ms = 0;              // least time the task ran
  std::string tool_output;             // words of the tool result, in the session's messages
  std::string started_file;            // the slow tool wrote it: it started
  std::string process_name;            // the slow tool's argv[0]: no process has it afterwards

  FaultRow& Refused() {
    refused = true;
    return *this;
  }
  FaultRow& Completes(std::string exact_result) {
    state = "completed";
    result = std::move(exact_result);
    return *this;
  }
  FaultRow& Fails(std::vector<std::string> words) {
    state = "error";
    error_has = std::move(words);
    return *this;
  }
  // `n` requests reached the mock; the daemon counted `failed` failed attempts and `retried`
  // retries.
  FaultRow& Attempts(int n, int failed, int retried) {
    requests = n;
    errors = failed;
    retries = retried;
    return *this;
  }
  FaultRow& Waits(std::vector<int64_t> gaps_ms) {
    min_gaps_ms = std::move(gaps_ms);
    return *this;
  }
  FaultRow& RunsAtLeast(int64_t ms) {
    min_run_ms = ms;
    return *this;
  }
  FaultRow& ToolSays(std::string words) {
    tool_output = std::move(words);
    return *this;
  }
  // The tool sandbox runs the tool in its own PID namespace, so the `$$` it could write names
  // nothing on the host: the check looks for the process by a name of its own instead.
  FaultRow& ToolStartsAs(std::string file, std::string name) {
    started_file = std::move(file);
    process_name = std::move(name);
    return *this;
  }
};

FaultRow Row(std::string name, Wire wire, std::string agent, std::string directives) {
  FaultRow row;
  row.name = std::move(name);
  row.wire = wire;
  row.agent = std::move(agent);
  row.directives = std::move(directives);
  return row;
}

// `items` with a reply of four words (four deltas), for the stream faults to break.
std::string FourWords(std::string items) { return items + " reply=\"one two three four\""; }

// The SDKs' backoff is 0.5 s · 2ⁿ less up to 25 % jitter: at least 375 ms, then 750 ms.
constexpr int64_t kFirstBackoffMs = 375;
constexpr int64_t kSecondBackoffMs = 750;
constexpr int64_t kBothBackoffsMs = kFirstBackoffMs + kSecondBackoffMs;
constexpr int64_t kStaleMs = 5'000;
constexpr int64_t kTrickleTtlMs = 2'500;
constexpr int64_t kToolTtlMs = 3'000;

// How a stale task's error names the timeout.
std::string StaleWords() { return fmt::format("(staleTimeoutMs {})", kStaleMs); }

constexpr Wire kOpenAi = Wire::kOpenAi;
constexpr Wire kAnthropic = Wire::kAnthropic;

std::vector<FaultRow> Rows() {
  return {
      // HTTP errors: retried after the wait the server asks for, else the backoff.
      Row("429-retry-after-openai", kOpenAi, "fm-llm",
          "fail=429 retry_after=1s times=1 reply=\"after the 429\"")
          .Completes("after the 429")
          .Attempts(2, 1, 1)
          .Waits({1'000})
          .RunsAtLeast(1'000),
      Row("429-retry-after-ms-anthropic", kAnthropic, "fm-llm",
          "fail=429 retry_after_ms=400 times=1 reply=\"after the 429\"")
          .Completes("after the 429")
          .Attempts(2, 1, 1)
          .Waits({400})
          .RunsAtLeast(400),
      Row("500-once-openai", kOpenAi, "fm-llm", "fail=500 times=1 reply=\"after the 500\"")
          .Completes("after the 500")
          .Attempts(2, 1, 1)
          .Waits({kFirstBackoffMs})
          .RunsAtLeast(kFirstBackoffMs),
      Row("503-always-openai", kOpenAi, "fm-llm", "fail=503")
          .Fails({"HTTP 503", "service unavailable", "after 3 attempts"})
          .Attempts(3, 3, 2)
          .Waits({kFirstBackoffMs, kSecondBackoffMs})
          .RunsAtLeast(kBothBackoffsMs),
      Row("529-twice-anthropic", kAnthropic, "fm-llm", "fail=529 times=2 reply=\"after two 529s\"")
          .Completes("after two 529s")
          .Attempts(3, 2, 2)
          .Waits({kFirstBackoffMs, kSecondBackoffMs})
          .RunsAtLeast(kBothBackoffsMs),
      Row("529-always-anthropic", kAnthropic, "fm-llm", "fail=529")
          .Fails({"HTTP 529", "overloaded_error", "after 3 attempts"})
          .Attempts(3, 3, 2)
          .Waits({kFirstBackoffMs, kSecondBackoffMs})
          .RunsAtLeast(kBothBackoffsMs),
      Row("400-not-retried-openai", kOpenAi, "fm-llm", "fail=400")
          .Fails({"HTTP 400", "invalid_request_error"})
          .Attempts(1, 1, 0),
      // x-should-retry overrides the status, both ways.
      Row("503-should-retry-false-openai", kOpenAi, "fm-llm", "fail=503 should_retry=false")
          .Fails({"HTTP 503"})
          .Attempts(1, 1, 0),
      Row("400-should-retry-true-anthropic", kAnthropic, "fm-llm",
          "fail=400 should_retry=true times=1 reply=\"after the 400\"")
          .Completes("after the 400")
          .Attempts(2, 1, 1)
          .Waits({kFirstBackoffMs}),
      // No server: retried like every transport error.
      Row("connection-refused-openai", kOpenAi, "fm-llm", "")
          .Refused()
          .Fails({"could not connect", "after 3 attempts"})
          .Attempts(0, 3, 2)
          .RunsAtLeast(kBothBackoffsMs),
      // Broken streams: retried; the deltas of the broken attempt are discarded, so the result is
      // the reply exactly once.
      Row("reset-mid-stream-once-openai", kOpenAi, "fm-llm", FourWords("drop_after=2 times=1"))
          .Completes("one two three four")
          .Attempts(2, 1, 1)
          .Waits({kFirstBackoffMs}),
      Row("reset-mid-stream-once-anthropic", kAnthropic, "fm-llm",
          FourWords("drop_after=2 times=1"))
          .Completes("one two three four")
          .Attempts(2, 1, 1)
          .Waits({kFirstBackoffMs}),
      Row("reset-mid-stream-always-anthropic", kAnthropic, "fm-llm", FourWords("drop_after=1"))
          .Fails({"connection lost before the response ended", "after 3 attempts"})
          .Attempts(3, 3, 2)
          .Waits({kFirstBackoffMs, kSecondBackoffMs}),
      Row("truncated-once-openai", kOpenAi, "fm-llm", FourWords("truncate_after=2 times=1"))
          .Completes("one two three four")
          .Attempts(2, 1, 1)
          .Waits({kFirstBackoffMs}),
      Row("truncated-always-anthropic", kAnthropic, "fm-llm", FourWords("truncate_after=2"))
          .Fails({"stream ended early", "no message_stop", "after 3 attempts"})
          .Attempts(3, 3, 2)
          .Waits({kFirstBackoffMs, kSecondBackoffMs}),
      // A malformed reply: no retry repairs it.
      Row("malformed-chunk-openai", kOpenAi, "fm-llm", FourWords("malformed_after=1"))
          .Fails({"openai stream: chunk 3: is not valid JSON"})
          .Attempts(1, 1, 0),
      Row("malformed-chunk-anthropic", kAnthropic, "fm-llm", FourWords("malformed_after=1"))
          .Fails({"anthropic stream: event 5 (content_block_delta): is not valid JSON"})
          .Attempts(1, 1, 0),
      // An error event mid-stream: the server failed; retried.
      Row("error-event-always-openai", kOpenAi, "fm-llm",
          FourWords("error_event=\"upstream exploded\" error_after=2"))
          .Fails({"upstream exploded", "after 3 attempts"})
          .Attempts(3, 3, 2)
          .Waits({kFirstBackoffMs, kSecondBackoffMs}),
      Row("error-event-once-anthropic", kAnthropic, "fm-llm",
          FourWords("error_event=\"Overloaded\" error_after=1 times=1"))
          .Completes("one two three four")
          .Attempts(2, 1, 1)
          .Waits({kFirstBackoffMs}),
      // Servers that hold the connection and send (almost) nothing: a pause shorter than the
      // stale timeout is waited out; a longer silence ends the task as stale; a server that
      // trickles fast enough to look alive meets the task's TTL.
      Row("stall-shorter-than-stale-openai", kOpenAi, "fm-llm",
          FourWords("latency=0 stall=1s stall_after=2"))
          .Completes("one two three four")
          .Attempts(1, 0, 0)
          .RunsAtLeast(1'000),
      Row("accepts-never-answers-openai", kOpenAi, "fm-llm", "hang")
          .Fails({"stale: no output from the provider", StaleWords()})
          .Attempts(1, 0, 0)
          .RunsAtLeast(kStaleMs),
      Row("a-token-a-minute-anthropic", kAnthropic, "fm-llm", FourWords("latency=0 tps=0.0167"))
          .Fails({"stale: no output from the provider", StaleWords()})
          .Attempts(1, 0, 0)
          .RunsAtLeast(kStaleMs),
      Row("trickle-past-the-ttl-openai", kOpenAi, "fm-ttl", "latency=0 tps=5 tokens=100000")
          .Fails({"timed out after 2.5s", "taskTtlMs 2500"})
          .Attempts(1, 0, 0)
          .RunsAtLeast(kTrickleTtlMs),
      // Slow tool processes: the tool's own time limit, then the task's.
      Row("slow-tool-own-timeout-openai", kOpenAi, "fm-tool",
          "latency=0 tool=bash:{\"command\": \"echo started > slow-tool-1; exec -a "
          "troupe-fm-slow-tool-1 sleep 30\", "
          "\"timeout_ms\": 1000} reply=\"the tool timed out\"")
          .Completes("the tool timed out")
          .Attempts(2, 0, 0)
          .RunsAtLeast(1'000)
          .ToolSays("bash: timed out after 1 s; the process group was killed")
          .ToolStartsAs("slow-tool-1", "troupe-fm-slow-tool-1"),
      Row("slow-tool-past-the-ttl-openai", kOpenAi, "fm-tool-ttl",
          "latency=0 tool=bash:{\"command\": \"echo started > slow-tool-2; exec -a "
          "troupe-fm-slow-tool-2 sleep 30\"}")
          .Fails({"timed out after 3.0s", "taskTtlMs 3000"})
          .Attempts(1, 0, 0)
          .RunsAtLeast(kToolTtlMs)
          .ToolStartsAs("slow-tool-2", "troupe-fm-slow-tool-2"),
  };
}

// The agents the rows run as: the timeouts and tools each fault needs.
void WriteAgents(DaemonHarness& h) {
  auto write = [&](const std::string& name, const std::string& front_matter) {
    h.dir().Write(fmt::format("workspace/.troupe/agents/{}.md", name),
                  fmt::format("---\ndescription: fault matrix agent {}\n{}---\nYou answer as the "
                              "mock model is told.\n",
                              name, front_matter));
  };
  write("fm-llm", fmt::format("tools: []\nstale_timeout_ms: {}\n", kStaleMs));
  write("fm-ttl",
        fmt::format("tools: []\ntask_ttl_ms: {}\nstale_timeout_ms: 60000\n", kTrickleTtlMs));
  write("fm-tool", "tools: [bash]\nstale_timeout_ms: 60000\n");
  write("fm-tool-ttl",
        fmt::format("tools: [bash]\ntask_ttl_ms: {}\nstale_timeout_ms: 60000\n", kToolTtlMs));
}

// A loopback port that refuses connections: bound, never listening, held while the test runs.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
    EXPECT_GT(port_, 0);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  ~RefusingPort() {
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string Config(const std::vector<FaultRow>& rows, int mock_port, int refused_port) {
  json providers = json::object();
  json limits = json::object();
  for (const FaultRow& row : rows) {
    const int port = row.refused ? refused_port : mock_port;
    const std::string base = fmt::format("http://127.0.0.1:{}", port);
    providers[row.name] = {{"type", row.wire == Wire::kOpenAi ? "openai" : "anthropic"},
                           {"base_url", row.wire == Wire::kOpenAi ? base + "/v1" : base},
                           {"api_key_env", "FAULT_MATRIX_KEY"}};
    limits[row.name] = 1;  // one slot: a slot that leaked would keep the follow-up pending
  }
  json config = {{"default_model", "mock/scripted"},
                 {"background_task",
                  {{"providerConcurrency", limits},
                   {"staleTimeoutMs", kStaleMs},
                   {"taskTtlMs", 60'000},
                   {"pendingTtlMs", 60'000}}},
                 {"providers", providers}};
  return config.dump(2);
}

// Whether a running (not zombie) process on the machine has `name` as its argv[0].
bool AnyProcessNamed(const std::string& name) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = entry.path().filename().string();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cmdline = testing::ReadFileBytes(entry.path().string() + "/cmdline");
    if (cmdline.substr(0, cmdline.find('\0')) != name) continue;
    const std::string stat = testing::ReadFileBytes(entry.path().string() + "/stat");
    const size_t paren = stat.rfind(')');
    const bool zombie =
        paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
    if (!zombie) return true;
  }
  return false;
}

// The mock's log entries of each marker, in arrival order.
std::map<std::string, std::vector<json>> RequestsByMarker(int mock_port) {
  std::map<std::string, std::vector<json>> out;
  Reply r = Client::Tcp(mock_port).Get("/v1/mock/requests");
  EXPECT_EQ(r.status, 200) << Describe(r);
  json log = r.Json();
  if (!log.is_array()) return out;
  for (const json& entry : log) out[entry.value("marker", "")].push_back(entry);
  return out;
}

TEST(FaultMatrixTest, EveryFaultEndsInItsDefinedStateAndReleasesItsSlot) {
  DaemonHarness h(TROUPE_BINARY);
  int mock_port = 0;
  auto mock_llm = h.StartMockLlm(&mock_port);
  ASSERT_NE(mock_llm, nullptr);
  RefusingPort refused;
  const std::vector<FaultRow> rows = Rows();
  WriteAgents(h);
  h.WriteConfig(Config(rows, mock_port, refused.port()));
  h.SetEnv("FAULT_MATRIX_KEY", "sk-fault-matrix");
  auto daemon = h.StartDaemon("debug");
  ASSERT_NE(daemon, nullptr);

  // Every row at once: each has its own provider and pool.
  std::vector<std::string> ids;
  for (const FaultRow& row : rows) {
    json task = h.Launch({{"prompt", fmt::format("#mock id={} {}\nFault matrix row {}.", row.name,
                                                 row.directives, row.name)},
                          {"agent", row.agent},
                          {"model", row.name + "/mock"},
                          {"description", row.name}});
    ASSERT_TRUE(task.is_object()) << row.name;
    ids.push_back(task.value("id", ""));
  }
  ASSERT_TRUE(h.WaitAll(ids, 120'000));

  for (size_t i = 0; i < rows.size(); ++i) {
    const FaultRow& row = rows[i];
    SCOPED_TRACE(fmt::format("row {}", row.name));
    json task = h.GetTask(ids[i]);
    EXPECT_EQ(task.value("state", ""), row.state) << task.dump(2);
    EXPECT_EQ(task.value("attempt", 0), 1) << task.dump(2);
    if (row.state == "completed") {
      EXPECT_EQ(task.value("result", ""), row.result);
      EXPECT_EQ(task.value("error", ""), "");
    }
    for (const std::string& words : row.error_has) {
      EXPECT_THAT(task.value("error", ""), HasSubstr(words));
    }
    EXPECT_GE(task.value("duration_ms", int64_t{0}) + 2, row.min_run_ms) << task.dump(2);
    std::printf("%-34s %-9s after %5lld ms  %s\n", row.name.c_str(),
                task.value("state", "").c_str(),
                static_cast<long long>(task.value("duration_ms", int64_t{0})),
                task.value("error", "").c_str());

    // What the mock saw: every attempt, the waits between them, and no request left open.
    std::vector<json> seen;
    EXPECT_TRUE(WaitUntil(
        [&] {
          seen = RequestsByMarker(mock_port)[row.name];
          for (const json& e : seen) {
            if (e.value("outcome", "") == "in_progress") return false;
          }
          return true;
        },
        15'000))
        << "a request is still open at the mock: " << json(seen).dump(2);
    EXPECT_EQ(static_cast<int>(seen.size()), row.requests) << json(seen).dump(2);
    for (size_t k = 0; k < row.min_gaps_ms.size() && k + 1 < seen.size(); ++k) {
      const int64_t gap =
          seen[k + 1].value("received_ms", int64_t{0}) - seen[k].value("received_ms", int64_t{0});
      EXPECT_GE(gap, row.min_gaps_ms[k]) << "wait before attempt " << k + 2;
    }

    // What the daemon counted.
    EXPECT_EQ(h.Metric(fmt::format("troupe_provider_errors_total{{provider=\"{}\"}}", row.name)),
              row.errors);
    EXPECT_EQ(h.Metric(fmt::format("troupe_provider_retries_total{{provider=\"{}\"}}", row.name)),
              row.retries);

    if (!row.tool_output.empty()) {
      Reply messages =
          h.Unix().Get(fmt::format("/v1/sessions/{}/messages", task.value("session_id", "")));
      EXPECT_THAT(messages.body, HasSubstr(row.tool_output));
    }
    if (!row.started_file.empty()) {
      EXPECT_EQ(testing::ReadFileBytes(h.workspace() + "/" + row.started_file), "started\n")
          << "the slow tool did not start";
      EXPECT_TRUE(WaitUntil([&] { return !AnyProcessNamed(row.process_name); }, 15'000))
          << "the slow tool's process " << row.process_name << " outlived its time limit";
    }
  }

  // Every slot is free, and every provider runs the next task.
  auto expect_pools_idle = [&] {
    Reply pools = h.Unix().Get("/v1/pools");
    ASSERT_EQ(pools.status, 200) << Describe(pools);
    json j = pools.Json();
    for (const json& pool : j["pools"]) {
      EXPECT_EQ(pool.value("in_use", -1), 0) << pool.dump();
      EXPECT_EQ(pool.value("queued", -1), 0) << pool.dump();
    }
    EXPECT_EQ(j["global"].value("running", -1), 0) << j.dump(2);
  };
  expect_pools_idle();
  std::vector<std::string> follow_ups;
  for (const FaultRow& row : rows) {
    json task = h.Launch({{"prompt", "#mock latency=0 reply=\"follow-up\"\nAnother task."},
                          {"agent", "fm-llm"},
                          {"model", row.name + "/mock"}});
    ASSERT_TRUE(task.is_object()) << row.name;
    follow_ups.push_back(task.value("id", ""));
  }
  ASSERT_TRUE(h.WaitAll(follow_ups, 60'000));
  for (size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(fmt::format("follow-up of row {}", rows[i].name));
    json task = h.GetTask(follow_ups[i]);
    if (rows[i].refused) {
      EXPECT_EQ(task.value("state", ""), "error") << task.dump(2);  // it ran: the slot was free
    } else {
      EXPECT_EQ(task.value("state", ""), "completed") << task.dump(2);
      EXPECT_EQ(task.value("result", ""), "follow-up");
    }
  }
  expect_pools_idle();
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(), 0) << daemon->Stderr();
  mock_llm->Signal(SIGTERM);
  EXPECT_EQ(mock_llm->Wait(), 0) << mock_llm->Stderr();
}

}  // namespace
}  // namespace troupe
