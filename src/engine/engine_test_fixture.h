// Shared set-up for engine tests: a fake clock, a real SQLite store, a scripted runner, and a
// manager built from them, with every published event recorded.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/fake_clock.h"
#include "core/ids.h"
#include "engine/scripted_runner.h"
#include "engine/task_manager.h"
#include "store/sqlite_store.h"
#include "store/testing/fault_injection_store.h"

namespace troupe {

struct RecordedEvent {
  EngineEvent::Kind kind;
  int64_t id;
  std::string task_id;
  TaskState from;
  TaskState to;
};

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : runner_(&clock_), ids_(&clock_, 99) {}

  // Opens the store at `path` (default: private in-memory) and builds a manager over it.
  void Build(TaskManagerOptions options = {}, const std::string& path = ":memory:") {
    if (!store_) {
      auto store = OpenSqliteStore(path);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      store_ = std::move(*store);
    }
    Store* store = store_.get();
    if (with_faults_) {
      fault_ = std::make_unique<FaultInjectionStore>(store_.get());
      store = fault_.get();
    }
    manager_ = std::make_unique<TaskManager>(&clock_, store, &runner_, &ids_, options);
    manager_->events().Subscribe([this](const EngineEvent& e) {
      events_.push_back({e.kind, e.id, e.task->id, e.from, e.task->state});
    });
  }

  LaunchRequest Req(const std::string& prompt, const std::string& model = "mock/m") {
    LaunchRequest r;
    r.prompt = prompt;
    r.agent = "explore";
    r.model = model;
    r.owner = "test";
    return r;
  }

  std::string LaunchOk(const LaunchRequest& r) {
    auto v = manager_->Launch(r);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->task.id : "";
  }

  TaskState StateOf(const std::string& id) {
    auto v = manager_->Get(id);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->task.state : TaskState::kInterrupted;
  }

  TaskView ViewOf(const std::string& id) {
    auto v = manager_->Get(id);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : TaskView{};
  }

  void CheckInvariants() {
    Status s = manager_->scheduler().CheckInvariants();
    ASSERT_TRUE(s.ok()) << s.message();
  }

  // Script: report progress every `every_ms` for `count` times, then complete.
  static Script Working(int count, int64_t every_ms, const std::string& result = "ok") {
    Script s;
    for (int i = 0; i < count; ++i) {
      ProgressUpdate u;
      u.turns = 1;
      u.tool_calls = 1;
      u.tool = "grep";
      u.output_tokens = 10;
      s.push_back(ScriptStep::Progress(every_ms, u));
    }
    s.push_back(ScriptStep::Complete(every_ms, result));
    return s;
  }

  FakeClock clock_;
  ScriptedRunner runner_;
  IdGenerator ids_;
  std::unique_ptr<Store> store_;
  // Set before Build: the manager writes through fault_, which can fail writes on command;
  // store_ stays the real store underneath.
  bool with_faults_ = false;
  std::unique_ptr<FaultInjectionStore> fault_;
  std::unique_ptr<TaskManager> manager_;
  std::vector<RecordedEvent> events_;
};

}  // namespace troupe

namespace troupe {
// Lets GoogleTest print states by name in failure messages.
inline void PrintTo(TaskState s, std::ostream* os) { *os << TaskStateName(s); }
}  // namespace troupe
