// budgets.tree_max_running: a tree's tasks beyond the cap stay pending, in order and saying why,
// and start as their siblings finish; a parent waiting on its children does not hold their room.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/engine_test_fixture.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;

class TreeRunningCapTest : public EngineTest {
 protected:
  void SetUp() override {
    runner_.set_chooser([](const RunRequest&) { return Script{}; });  // runs until told
  }
  void Start(int cap) {
    TaskManagerOptions options;
    options.limits.default_concurrency = 0;  // pools do not limit: only the tree cap does
    options.budgets.tree_max_running = cap;
    Build(options);
    ASSERT_TRUE(manager_->Recover().ok());
  }
  std::string Child(const std::string& parent_task, const std::string& prompt) {
    LaunchRequest r = Req(prompt);
    r.parent_session_id = ViewOf(parent_task).task.session_id;
    return LaunchOk(r);
  }
  int Running(const std::vector<std::string>& ids) {
    int n = 0;
    for (const std::string& id : ids) n += StateOf(id) == TaskState::kRunning;
    return n;
  }
};

TEST_F(TreeRunningCapTest, ChildrenBeyondTheCapWaitInOrderAndStartAsSiblingsFinish) {
  Start(2);
  const std::string lead = LaunchOk(Req("lead"));
  ASSERT_EQ(StateOf(lead), TaskState::kRunning);
  std::vector<std::string> kids;
  for (int i = 0; i < 5; ++i) kids.push_back(Child(lead, "child " + std::to_string(i)));
  // The lead has children in flight, so it waits on them and takes no room: two children run.
  EXPECT_EQ(Running(kids), 2);
  EXPECT_EQ(StateOf(kids[0]), TaskState::kRunning);
  EXPECT_EQ(StateOf(kids[1]), TaskState::kRunning);
  for (int i = 2; i < 5; ++i) {
    TaskView v = ViewOf(kids[i]);
    EXPECT_EQ(v.task.state, TaskState::kPending);
    EXPECT_EQ(v.queue_position, i - 1);
    EXPECT_THAT(v.waiting_reason, HasSubstr("tree_max_running"));
    EXPECT_THAT(v.waiting_reason, HasSubstr(v.task.root_session_id));
  }
  // The spend view counts them, each with its reason, in launch order.
  Result<SpendOverview> spend = manager_->Spend();
  ASSERT_TRUE(spend.ok());
  ASSERT_EQ(spend->active_trees.size(), 1u);
  const TreeSpendView& tree = spend->active_trees.front();
  EXPECT_EQ(tree.running, 3);  // the lead and two children
  ASSERT_EQ(tree.waiting.size(), 3u);
  for (int i = 2; i < 5; ++i) {
    const TreeSpendView::Waiting& w = tree.waiting[size_t(i - 2)];
    EXPECT_EQ(w.task_id, kids[size_t(i)]);
    EXPECT_TRUE(w.held);
    EXPECT_EQ(w.reason, ViewOf(kids[size_t(i)]).waiting_reason);
  }
  EXPECT_THAT(tree.waiting.front().reason, HasSubstr("position 1 in the tree"));

  ASSERT_TRUE(runner_.Finish(kids[1], RunOutcome::Completed("done")));
  EXPECT_EQ(StateOf(kids[2]), TaskState::kRunning);  // the first held, not any other
  EXPECT_EQ(StateOf(kids[3]), TaskState::kPending);
  EXPECT_EQ(ViewOf(kids[3]).queue_position, 1);
  // A held task that is cancelled gives up its place.
  ASSERT_TRUE(manager_->Cancel(kids[3]).ok());
  ASSERT_TRUE(runner_.Finish(kids[0], RunOutcome::Completed("done")));
  EXPECT_EQ(StateOf(kids[4]), TaskState::kRunning);
  ASSERT_TRUE(runner_.Finish(kids[2], RunOutcome::Completed("done")));
  ASSERT_TRUE(runner_.Finish(kids[4], RunOutcome::Completed("done")));
  ASSERT_TRUE(runner_.Finish(lead, RunOutcome::Completed("all done")));
  EXPECT_EQ(StateOf(lead), TaskState::kCompleted);
  CheckInvariants();
}

TEST_F(TreeRunningCapTest, ACapOfOneCannotDeadlockAParentOnItsChildren) {
  Start(1);
  const std::string lead = LaunchOk(Req("lead"));
  const std::string child = Child(lead, "child");
  EXPECT_EQ(StateOf(child), TaskState::kRunning);  // the waiting lead holds no room
  const std::string grandchild = Child(child, "grandchild");
  EXPECT_EQ(StateOf(grandchild), TaskState::kRunning);
  const std::string second = Child(lead, "second child");
  EXPECT_EQ(StateOf(second), TaskState::kPending);
  ASSERT_TRUE(runner_.Finish(grandchild, RunOutcome::Completed("done")));
  // The child works again (its child is done), so it takes the room back before `second`.
  EXPECT_EQ(StateOf(second), TaskState::kPending);
  ASSERT_TRUE(runner_.Finish(child, RunOutcome::Completed("done")));
  EXPECT_EQ(StateOf(second), TaskState::kRunning);
}

TEST_F(TreeRunningCapTest, EachTreeHasItsOwnRoom) {
  Start(1);
  const std::string a = LaunchOk(Req("tree a"));
  const std::string b = LaunchOk(Req("tree b"));
  EXPECT_EQ(StateOf(a), TaskState::kRunning);
  EXPECT_EQ(StateOf(b), TaskState::kRunning);
  const std::string a1 = Child(a, "a's first");
  const std::string a2 = Child(a, "a's second");
  const std::string b1 = Child(b, "b's first");
  EXPECT_EQ(StateOf(a1), TaskState::kRunning);
  EXPECT_EQ(StateOf(a2), TaskState::kPending);
  EXPECT_EQ(StateOf(b1), TaskState::kRunning);
}

TEST_F(TreeRunningCapTest, ZeroMeansNoCap) {
  Start(0);
  const std::string lead = LaunchOk(Req("lead"));
  std::vector<std::string> kids;
  for (int i = 0; i < 6; ++i) kids.push_back(Child(lead, "child " + std::to_string(i)));
  EXPECT_EQ(Running(kids), 6);
}

}  // namespace
}  // namespace troupe
