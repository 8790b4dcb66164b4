#include "cli/demo.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/daemon_client.h"
#include "core/duration_format.h"

namespace troupe {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Job {
  const char* agent;
  const char* description;
  const char* prompt;
};

// Prompts that make sense in any repository; the offline model searches for their keywords.
constexpr Job kJobs[] = {
    {"explore", "Map the entry points",
     "Find the program's entry points: where `main` is defined, and which build files "
     "(`CMakeLists`, `Makefile`, `package.json`) describe how it is built."},
    {"librarian", "Survey the documentation",
     "Survey the documentation: find the `README` and the `docs` and say what each covers."},
    {"oracle", "Review error handling",
     "Review how errors are reported: find where `Status` values or `error` results are "
     "returned, and point at places that could lose an error."},
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The private daemon's configuration: a pool of two per model, so the third agent waits. No
// default_model unless --model gave one: the daemon then chooses as every daemon does
// (llm/default_model.h), from the API keys in the environment it inherits from this process.
std::string DemoConfig(const std::string& model, double speed) {
  json config = {{"background_task", {{"defaultConcurrency", 2}}}};
  if (!model.empty()) config["default_model"] = model;
  if (speed != 1.0) {
    const int64_t latency = std::max<int64_t>(1, std::llround(300.0 / speed));
    config["providers"]["mock"] = {
        {"type", "mock"}, {"script", fmt::format("latency={}ms tps={:.0f}", latency, 80 * speed)}};
  }
  return config.dump(2) + "\n";
}

// What the live table shows of one task, kept current from the event stream.
struct Row {
  std::string id;
  std::string agent;
  std::string description;
  std::string state = "pending";
  std::string last_tool;
  int queue_position = 0;
  int64_t started_ms = 0;   // local clock, 0 = not yet
  int64_t finished_ms = 0;  // local clock, 0 = not yet
};

bool IsFinalState(const std::string& s) {
  return s == "completed" || s == "error" || s == "cancelled";
}

// pending < running < final: the replayed log may repeat what the launch already showed.
int StateRank(const std::string& s) {
  if (s == "pending") return 0;
  if (s == "running") return 1;
  return 2;
}

class LiveTable {
 public:
  LiveTable(std::vector<Row> rows, bool color, int64_t t0)
      : rows_(std::move(rows)), color_(color), t0_(t0) {}

  Row* Find(const std::string& id) {
    for (Row& r : rows_) {
      if (r.id == id) return &r;
    }
    return nullptr;
  }
  const std::vector<Row>& rows() const { return rows_; }
  bool AllFinal() const {
    return std::all_of(rows_.begin(), rows_.end(),
                       [](const Row& r) { return IsFinalState(r.state); });
  }

  // A terminal gets the table redrawn in place; a pipe gets one line per change.
  void Show(const Row& changed, const std::string& what) {
    if (!color_) {
      fmt::print("  +{:5.2f}s  {}  {:<9}  {}\n", Seconds(NowMs()), changed.id, changed.agent,
                 what);
      std::fflush(stdout);
      return;
    }
    if (drawn_lines_ > 0) fmt::print("\033[{}A", drawn_lines_);
    drawn_lines_ = 0;
    Line(fmt::format("{:<24}  {:<9}  {:<9}  {:<10}  {:<6}  {}", "ID", "AGENT", "STATE", "TIME",
                     "TOOL", "DESCRIPTION"));
    const int64_t now = NowMs();
    for (const Row& r : rows_) {
      std::string time;
      if (r.state == "pending") {
        time = r.queue_position > 0 ? fmt::format("#{} queued", r.queue_position) : "queued";
      } else if (r.started_ms > 0) {
        time = FormatDuration((r.finished_ms > 0 ? r.finished_ms : now) - r.started_ms);
      }
      Line(fmt::format("{:<24}  {:<9}  {}{:<9}\033[0m  {:<10}  {:<6}  {}", r.id, r.agent,
                       Paint(r.state), r.state, time, r.last_tool, r.description));
    }
    std::fflush(stdout);
  }

  double Seconds(int64_t at) const { return static_cast<double>(at - t0_) / 1000.0; }

 private:
  void Line(const std::string& text) {
    fmt::print("\033[2K{}\n", text);
    ++drawn_lines_;
  }
  static const char* Paint(const std::string& state) {
    if (state == "pending") return "\033[33m";
    if (state == "running") return "\033[36m";
    if (state == "completed") return "\033[32m";
    return "\033[31m";
  }

  std::vector<Row> rows_;
  bool color_;
  int64_t t0_;
  int drawn_lines_ = 0;
};

int Fail(const std::string& what) {
  fmt::print(stderr, "troupe demo: {}\n", what);
  return 1;
}

// Stops the private daemon and waits (bounded) until it no longer answers.
void StopDaemon(DaemonClient* client) {
  if (!client->Post("/v1/shutdown", json::object()).ok()) return;
  for (int i = 0; i < 100; ++i) {
    if (!client->Get("/v1/health").ok()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

int RunDemo(const DemoOptions& options) {
  std::error_code ec;
  std::string workspace = fs::canonical(options.workspace, ec).string();
  if (ec) return Fail(fmt::format("workspace {}: {}", options.workspace, ec.message()));

  std::string data_dir = options.data_dir;
  const bool remove_dir = data_dir.empty();
  if (remove_dir) {
    std::string pattern = "/tmp/troupe-demo-XXXXXX";  // short: the socket lives here too
    if (mkdtemp(pattern.data()) == nullptr) return Fail("cannot create a temporary directory");
    data_dir = pattern;
  }
  struct Cleanup {
    std::string dir;
    bool remove;
    ~Cleanup() {
      std::error_code ignored;
      if (remove) fs::remove_all(dir, ignored);
    }
  } cleanup{data_dir, remove_dir};

  const std::string config_path = (fs::path(data_dir) / "demo.jsonc").string();
  {
    fs::create_directories(data_dir, ec);
    std::ofstream out(config_path);
    out << DemoConfig(options.model, options.speed);
    if (!out) return Fail("cannot write " + config_path);
  }

  ClientOptions client_options;
  client_options.data_dir = data_dir;
  client_options.socket = (fs::path(data_dir) / "troupe.sock").string();
  client_options.autostart = true;
  client_options.serve_args = {"--config", config_path, "--workspace", workspace};
  auto client = DaemonClient::Connect(client_options);
  if (!client.ok()) return Fail(client.status().message());
  DaemonClient& daemon = **client;
  struct Stopper {
    DaemonClient* client;
    ~Stopper() { StopDaemon(client); }
  } stopper{&daemon};

  // The model is the daemon's to choose; ask which.
  auto health = daemon.Get("/v1/health");
  if (!health.ok()) return Fail(health.status().message());
  const json default_model = health->value("default_model", json::object());
  fmt::print("troupe demo: 3 agents on {}\n", workspace);
  fmt::print("model {} ({}) with a pool of 2, private daemon on {}\n\n",
             default_model.value("model", "?"), default_model.value("origin", "?"),
             daemon.socket());

  const int64_t t0 = NowMs();
  std::vector<Row> rows;
  for (const Job& job : kJobs) {
    json body = {{"agent", job.agent},    {"description", job.description},
                 {"prompt", job.prompt},  {"workspace", workspace},
                 {"owner", "cli"}};
    auto launched = daemon.Post("/v1/tasks", body);
    if (!launched.ok()) return Fail("launch failed: " + launched.status().message());
    const json& t = (*launched)["task"];
    Row row;
    row.id = t.value("id", "");
    row.agent = t.value("agent", "");
    row.description = t.value("description", "");
    row.state = t.value("state", "pending");
    row.queue_position = t.value("queue_position", 0);
    if (row.state == "running") row.started_ms = NowMs();
    rows.push_back(std::move(row));
  }

  LiveTable table(std::move(rows), options.color, t0);
  for (const Row& r : table.rows()) {
    table.Show(r, r.state == "pending"
                      ? fmt::format("pending (waits for a slot, position {})", r.queue_position)
                      : r.state);
  }

  std::string ids;
  for (const Row& r : table.rows()) ids += (ids.empty() ? "" : ",") + r.id;
  // The log is replayed from the start (this daemon is private), so no change is missed.
  Status streamed = daemon.Events("/v1/events?after=0&task=" + ids, [&](const SseEvent& e) {
    json data = json::parse(e.data, nullptr, false);
    if (!data.is_object()) return true;
    Row* row = table.Find(data.value("task_id", ""));
    if (row == nullptr) return true;
    if (e.event == "task.progress") {
      std::string tool = data.value("tool", "");
      if (tool.empty() || tool == row->last_tool) return true;
      row->last_tool = tool;
      table.Show(*row, fmt::format("... {}", tool));
      return true;
    }
    if (e.event != "task.state") return true;
    const std::string state = data.value("state", "");
    if (state.empty() || StateRank(state) <= StateRank(row->state)) return true;
    row->state = state;
    if (state == "running") row->started_ms = NowMs();
    if (IsFinalState(state)) row->finished_ms = NowMs();
    table.Show(*row, state);
    return !table.AllFinal() && NowMs() - t0 < options.timeout_ms;
  });
  const int64_t wall = NowMs() - t0;
  if (!streamed.ok()) return Fail("event stream: " + streamed.message());
  if (!table.AllFinal()) {
    return Fail(fmt::format("timed out after {}", FormatDuration(options.timeout_ms)));
  }

  int64_t sum = 0;
  bool all_ok = true;
  fmt::print("\n");
  for (const Row& r : table.rows()) {
    auto got = daemon.Get("/v1/tasks/" + r.id);
    if (!got.ok()) return Fail(got.status().message());
    const json& t = (*got)["task"];
    const std::string state = t.value("state", "");
    const int64_t ran = t.value("duration_ms", int64_t{0});
    sum += ran;
    all_ok = all_ok && state == "completed";
    fmt::print("## {} ({}) - {} in {}, waited {}\n\n{}\n\n", t.value("description", ""),
               t.value("agent", ""), state, FormatDuration(ran),
               FormatDuration(t.value("queued_ms", int64_t{0})),
               state == "completed" ? t.value("result", "") : t.value("error", ""));
  }
  fmt::print("parallel wall time {} vs {} if run one after another ({:.2f}x)\n",
             FormatDuration(wall), FormatDuration(sum),
             wall > 0 ? static_cast<double>(sum) / static_cast<double>(wall) : 0.0);
  return all_ok ? 0 : 1;
}

}  // namespace troupe
