#include <gtest/gtest.h>

#include "engine/engine_test_fixture.h"

namespace troupe {
namespace {

// The lead completes at once (it delegated and gave its answer); children take their time.
class ParentWakeupTest : public EngineTest {
 protected:
  void SetUp() override {
    runner_.set_chooser([](const RunRequest& r) -> Script {
      if (r.prompt.starts_with("fail")) return {ScriptStep::Fail(100, "stale")};
      if (r.prompt.starts_with("child")) {
        return {ScriptStep::Complete(r.prompt == "child slow" ? 500 : 100, "found it")};
      }
      return {ScriptStep::Complete(1, "lead done")};
    });
    TaskManagerOptions o;
    o.wake_idle_parents = true;
    Build(o);
    lead_ = manager_->Launch(Req("lead")).value();
    clock_.AdvanceMs(1);
    ASSERT_EQ(StateOf(lead_.task.id), TaskState::kCompleted);
  }

  std::string Child(const std::string& prompt) {
    LaunchRequest r = Req(prompt);
    r.parent_session_id = lead_.task.session_id;
    return LaunchOk(r);
  }

  std::vector<TaskRecord> LeadTasks() {
    TaskFilter f;
    f.session_id = lead_.task.session_id;
    auto v = manager_->List(f);
    std::vector<TaskRecord> out;
    for (auto& t : v.value()) out.push_back(t.task);
    return out;
  }

  TaskView lead_;
};

TEST_F(ParentWakeupTest, IdleParentIsWokenOnceWhenAllChildrenAreDone) {
  Child("child a");
  Child("child b");
  Child("child slow");
  clock_.AdvanceMs(100);  // two finish: deposited silently
  EXPECT_EQ(LeadTasks().size(), 1u);
  clock_.AdvanceMs(400);  // the last one: the lead wakes
  auto tasks = LeadTasks();
  ASSERT_EQ(tasks.size(), 2u);
  const TaskRecord& woken = tasks[0].id == lead_.task.id ? tasks[1] : tasks[0];
  EXPECT_NE(woken.prompt.find("<system-reminder>"), std::string::npos);
  EXPECT_NE(woken.prompt.find("child a"), std::string::npos);
  EXPECT_NE(woken.prompt.find("child slow"), std::string::npos);
  EXPECT_EQ(woken.description, "woken: 3 delegated task(s) finished");
  // Delivered by the wake-up: nothing is left to claim, so nothing is delivered twice.
  EXPECT_TRUE(manager_->ClaimNotifications(lead_.task.session_id).value().empty());
  clock_.AdvanceMs(10);
  EXPECT_EQ(LeadTasks().size(), 2u);  // the woken lead's own completion wakes nothing
}

TEST_F(ParentWakeupTest, AFailedChildWakesTheParentAtOnce) {
  Child("child slow");
  Child("fail now");
  clock_.AdvanceMs(100);
  auto tasks = LeadTasks();
  ASSERT_EQ(tasks.size(), 2u);
  const TaskRecord& woken = tasks[0].id == lead_.task.id ? tasks[1] : tasks[0];
  EXPECT_NE(woken.prompt.find("error"), std::string::npos);
  EXPECT_NE(woken.prompt.find("stale"), std::string::npos);
}

TEST_F(ParentWakeupTest, ARunningParentIsNotWoken) {
  // A second lead turn that runs long, while its child finishes.
  runner_.set_chooser([](const RunRequest& r) -> Script {
    if (r.prompt.starts_with("child")) return {ScriptStep::Complete(10, "x")};
    return {ScriptStep::Complete(1000, "busy lead")};
  });
  auto busy = manager_->Continue(lead_.task.session_id, "keep working");
  ASSERT_TRUE(busy.ok());
  Child("child quick");
  clock_.AdvanceMs(10);
  EXPECT_EQ(LeadTasks().size(), 2u);  // no wake-up task: the running lead reads them itself
  EXPECT_EQ(manager_->ClaimNotifications(lead_.task.session_id).value().size(), 1u);
}

// The running lead's turn was its last: it ends without another request, so the notices that
// came in meanwhile would wait forever. Idle now, with all its children done, it is woken.
TEST_F(ParentWakeupTest, AParentThatEndsItsTurnWithUnseenNoticesIsWokenThen) {
  runner_.set_chooser([](const RunRequest& r) -> Script {
    if (r.prompt.starts_with("child")) return {ScriptStep::Complete(10, "x")};
    return {ScriptStep::Complete(1000, "busy lead")};
  });
  auto busy = manager_->Continue(lead_.task.session_id, "keep working");
  ASSERT_TRUE(busy.ok());
  std::string child = Child("child quick");
  clock_.AdvanceMs(10);
  EXPECT_EQ(LeadTasks().size(), 2u);  // running: not woken
  clock_.AdvanceMs(990);              // its turn ends: idle, with the child's notice unseen
  ASSERT_EQ(StateOf(busy->task.id), TaskState::kCompleted);
  auto tasks = LeadTasks();
  ASSERT_EQ(tasks.size(), 3u);
  const TaskRecord& woken = tasks.back();
  EXPECT_EQ(woken.description, "woken: 1 delegated task(s) finished");
  EXPECT_NE(woken.prompt.find(child), std::string::npos);
  EXPECT_TRUE(manager_->ClaimNotifications(lead_.task.session_id).value().empty());
  clock_.AdvanceMs(10'000);
  EXPECT_EQ(LeadTasks().size(), 3u);  // once
}

// The same, but with a child still at work: the parent waits for it, then wakes once with both
// notices; had the finished child failed, it would wake at once.
TEST_F(ParentWakeupTest, AParentThatEndsItsTurnWaitsForItsOtherChildren) {
  runner_.set_chooser([](const RunRequest& r) -> Script {
    if (r.prompt == "child quick") return {ScriptStep::Complete(10, "x")};
    if (r.prompt == "child slow") return {ScriptStep::Complete(3000, "y")};
    if (r.prompt.starts_with("fail")) return {ScriptStep::Fail(10, "broken")};
    return {ScriptStep::Complete(1000, "busy lead")};
  });
  ASSERT_TRUE(manager_->Continue(lead_.task.session_id, "keep working").ok());
  Child("child quick");
  Child("child slow");
  clock_.AdvanceMs(1000);  // the lead's turn ended; the slow child still runs
  EXPECT_EQ(LeadTasks().size(), 2u);
  clock_.AdvanceMs(2000);
  auto tasks = LeadTasks();
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks.back().description, "woken: 2 delegated task(s) finished");

  clock_.AdvanceMs(10'000);  // the woken turn is over
  ASSERT_TRUE(manager_->Continue(lead_.task.session_id, "more work").ok());
  Child("fail soon");
  Child("child slow");
  clock_.AdvanceMs(1000);  // the failure came in while the lead was busy: it wakes at once
  tasks = LeadTasks();
  ASSERT_EQ(tasks.size(), 5u);
  EXPECT_EQ(tasks.back().description, "woken: 1 delegated task(s) finished");
  EXPECT_NE(tasks.back().prompt.find("broken"), std::string::npos);
}

TEST_F(ParentWakeupTest, ACancelledParentIsNotRestarted) {
  runner_.set_chooser([](const RunRequest& r) -> Script {
    if (r.prompt.starts_with("child")) return {ScriptStep::Complete(50, "x")};
    return {ScriptStep::Complete(1000, "lead")};
  });
  auto again = manager_->Continue(lead_.task.session_id, "again");
  ASSERT_TRUE(again.ok());
  std::string child = Child("child");
  ASSERT_TRUE(manager_->Cancel(again->task.id).ok());  // cancels the child too
  clock_.AdvanceMs(100);
  EXPECT_EQ(LeadTasks().size(), 2u);
  EXPECT_EQ(StateOf(child), TaskState::kCancelled);
}

}  // namespace
}  // namespace troupe
