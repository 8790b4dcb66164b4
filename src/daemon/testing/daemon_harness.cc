#include "daemon/testing/daemon_harness.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <utility>

namespace troupe::testing {

using json = nlohmann::json;

DaemonHarness::DaemonHarness(std::string binary)
    : binary_(std::move(binary)),
      data_(dir_.File("data")),
      workspace_(dir_.File("workspace")),
      config_(dir_.File("config.jsonc")),
      env_(HermeticEnv(dir_.File("xdg-config"))) {
  std::filesystem::create_directories(workspace_);
  dir_.Write("workspace/README.md", "# A workspace for troupe's daemon tests\n");
  WriteConfig("{}\n");
}

void DaemonHarness::WriteConfig(const std::string& jsonc) { dir_.Write("config.jsonc", jsonc); }

void DaemonHarness::SetEnv(const std::string& name, std::optional<std::string> value) {
  env_[name] = std::move(value);
}

std::unique_ptr<Process> DaemonHarness::Spawn(const std::vector<std::string>& args) {
  return std::make_unique<Process>(binary_, args, dir_.File(fmt::format("proc{}", ++spawned_)),
                                   env_);
}

std::unique_ptr<Process> DaemonHarness::StartDaemon(const std::string& log_level) {
  auto process = Spawn({"serve", "--data-dir", data_, "--config", config_, "--workspace",
                        workspace_, "--log-level", log_level});
  Client client = Unix();
  return AwaitHealthy(std::move(process), client, kStartTimeoutMs);
}

std::unique_ptr<Process> DaemonHarness::StartMockLlm(int* port) {
  const std::string port_file = dir_.File(fmt::format("mock-llm{}.port", spawned_ + 1));
  auto process = Spawn({"mock-llm", "--port", "0", "--port-file", port_file});
  *port = 0;
  WaitUntil(
      [&] {
        const std::string text = ReadFileBytes(port_file);
        if (!text.empty() && text.back() == '\n') *port = std::atoi(text.c_str());
        return *port > 0 || !process->Running();
      },
      kStartTimeoutMs);
  if (*port <= 0) {
    ADD_FAILURE() << "troupe mock-llm did not start; stderr:\n" << process->Stderr();
    return nullptr;
  }
  return process;
}

json DaemonHarness::Launch(const json& body) {
  json request = body;
  if (!request.contains("owner")) request["owner"] = "harness";
  Reply r = Unix().Post("/v1/tasks", request);
  const long expected = request.contains("wait_ms") ? 200 : 201;
  EXPECT_EQ(r.status, expected) << Describe(r);
  json j = r.Json();
  if (r.status != expected || !j.is_object() || !j.contains("task")) return json();
  return j["task"];
}

json DaemonHarness::GetTask(const std::string& id) {
  Reply r = Unix().Get("/v1/tasks/" + id);
  EXPECT_EQ(r.status, 200) << Describe(r);
  json j = r.Json();
  return j.is_object() && j.contains("task") ? j["task"] : json();
}

json DaemonHarness::ListTasks(const std::string& query) {
  std::string path = "/v1/tasks";
  if (!query.empty()) path.append("?").append(query);
  Reply r = Unix().Get(path);
  EXPECT_EQ(r.status, 200) << Describe(r);
  json j = r.Json();
  return j.is_object() && j.contains("tasks") ? j["tasks"] : json::array();
}

bool DaemonHarness::WaitAll(const std::vector<std::string>& ids, int timeout_ms) {
  Reply r = Unix().Send("POST", "/v1/wait",
                        json{{"task_ids", ids}, {"mode", "all"}, {"timeout_ms", timeout_ms}}.dump(),
                        {}, timeout_ms + 30'000);
  EXPECT_EQ(r.status, 200) << Describe(r);
  return r.status == 200 && r.Json().value("timed_out", true) == false;
}

double DaemonHarness::Metric(const std::string& name_and_labels) {
  Reply r = Unix().Get("/metrics");
  EXPECT_EQ(r.status, 200) << Describe(r);
  std::istringstream lines(r.body);
  const std::string prefix = name_and_labels + " ";
  for (std::string line; std::getline(lines, line);) {
    if (line.compare(0, prefix.size(), prefix) == 0) {
      return std::strtod(line.c_str() + prefix.size(), nullptr);
    }
  }
  return 0;
}

}  // namespace troupe::testing
