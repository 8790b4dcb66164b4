// A whole engine without I/O or gtest, for the api fuzz targets: fake clock, scripted runner
// (testing::McpTestScript: a prompt starting "fail" fails, "slow" takes 3 s, others 1 s), a
// private in-memory SQLite store, the agents explore and librarian, unlimited concurrency.
// Deterministic: the clock and the id generator's seed are fixed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <utility>

#include "agent/agent_catalog.h"
#include "core/fake_clock.h"
#include "core/ids.h"
#include "engine/scripted_runner.h"
#include "engine/task_manager.h"
#include "engine/testing/test_scripts.h"
#include "store/sqlite_store.h"

namespace troupe::testing {

class ScriptedEngine {
 public:
  ScriptedEngine() : runner_(&clock_, McpTestScript), ids_(&clock_, 99) {
    auto store = OpenSqliteStore(":memory:");
    if (!store.ok()) std::abort();
    store_ = std::move(*store);
    catalog_ = AgentCatalog(
        {McpTestAgent("explore", "Finds code"), McpTestAgent("librarian", "Reads docs")}, {});
    TaskManagerOptions options;
    options.limits.default_concurrency = 0;
    options.default_workspace = "/";
    options.prepare_launch = [this](LaunchRequest* r) -> Status {
      if (r->agent.empty()) return Status::Ok();
      return catalog_.Find(r->agent).status();
    };
    manager_ = std::make_unique<TaskManager>(&clock_, store_.get(), &runner_, &ids_, options);
  }

  FakeClock& clock() { return clock_; }

  // The fuzz inputs' "@<ms>": advances the clock by the digits of the first 7 bytes of
  // `digits` (others ignored), at most an hour.
  void AdvanceClock(std::string_view digits) {
    int64_t ms = 0;
    for (char ch : digits.substr(0, 7)) {
      if (ch >= '0' && ch <= '9') ms = ms * 10 + (ch - '0');
    }
    clock_.AdvanceMs(std::min<int64_t>(ms, 3'600'000));
  }
  Store* store() { return store_.get(); }
  TaskManager* manager() { return manager_.get(); }
  const AgentCatalog* catalog() const { return &catalog_; }

 private:
  FakeClock clock_;
  ScriptedRunner runner_;
  IdGenerator ids_;
  std::unique_ptr<Store> store_;
  AgentCatalog catalog_;
  std::unique_ptr<TaskManager> manager_;
};

}  // namespace troupe::testing
