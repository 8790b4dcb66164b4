// Fallback models in the engine: a run that fails with a fallback model gives its slot back and
// continues as the next attempt on that model, waiting for a slot of that model's pool.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/agent_loop_runner.h"
#include "engine/engine_test_fixture.h"

namespace troupe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(NextFallbackModelTest, TheAgentsModelsInOrderThenNone) {
  AgentDefinition agent;
  agent.model = "anthropic/claude-x";
  agent.fallback_models = {"openai/gpt-5", "fast"};
  EXPECT_EQ(NextFallbackModel(agent, "anthropic/claude-x"), "openai/gpt-5");
  EXPECT_EQ(NextFallbackModel(agent, "Anthropic/Claude-X"), "openai/gpt-5");  // canonical
  EXPECT_EQ(NextFallbackModel(agent, "openai/gpt-5"), "fast");
  EXPECT_EQ(NextFallbackModel(agent, "fast"), "");  // the last one
  // A launch that named a model of its own does not wander onto the agent's list.
  EXPECT_EQ(NextFallbackModel(agent, "corp/other"), "");
  // An agent without a model of its own falls back from the default model it ran on.
  agent.model = "";
  EXPECT_EQ(NextFallbackModel(agent, "corp/default"), "openai/gpt-5");
  EXPECT_EQ(NextFallbackModel(agent, "openai/gpt-5"), "fast");
  agent.fallback_models.clear();
  EXPECT_EQ(NextFallbackModel(agent, "anthropic/claude-x"), "");
}

TEST(NextFallbackModelTest, ALaunchsOwnListReplacesTheAgents) {
  AgentDefinition agent;
  agent.model = "anthropic/claude-x";
  agent.fallback_models = {"openai/gpt-5"};
  const std::vector<std::string> launch = {"mock/b", "mock/c"};
  EXPECT_EQ(NextFallbackModel(agent, "mock/a", launch), "mock/b");  // the launch's first model
  EXPECT_EQ(NextFallbackModel(agent, "anthropic/claude-x", launch), "mock/b");
  EXPECT_EQ(NextFallbackModel(agent, "mock/b", launch), "mock/c");
  EXPECT_EQ(NextFallbackModel(agent, "mock/c", launch), "");
}

class ModelFallbackTest : public EngineTest {
 protected:
  void SetUp() override {
    runner_.set_chooser([](const RunRequest&) { return Script{}; });  // runs until told
    TaskManagerOptions options;
    options.limits.model_concurrency["mock/a"] = 1;
    options.limits.model_concurrency["mock/b"] = 1;
    Build(options);
  }

  static RunOutcome FailedOver(const std::string& next) {
    RunOutcome o =
        RunOutcome::Failed("model request failed: HTTP 529 overloaded (after 3 attempts)");
    o.fallback_model = next;
    return o;
  }

  static ProgressUpdate OneRequest() {
    ProgressUpdate u;
    u.requests = 1;
    u.turns = 1;
    u.input_tokens = 100;
    u.output_tokens = 10;
    return u;
  }

  int InUse(const std::string& model) {
    for (const PoolSnapshot& p : manager_->Pools()) {
      if (p.key == "model:" + model) return p.in_use;
    }
    return 0;
  }
};

TEST_F(ModelFallbackTest, TheTaskContinuesOnTheNextModelAsItsNextAttempt) {
  const std::string id = LaunchOk(Req("work", "mock/a"));
  ASSERT_EQ(StateOf(id), TaskState::kRunning);
  ASSERT_TRUE(runner_.Progress(id, OneRequest()));
  ASSERT_TRUE(runner_.Finish(id, FailedOver("mock/b")));

  TaskView v = ViewOf(id);
  EXPECT_EQ(v.task.state, TaskState::kRunning);
  EXPECT_EQ(v.task.model, "mock/b");
  EXPECT_EQ(v.task.attempt, 2);
  ASSERT_EQ(runner_.requests().size(), 2u);
  EXPECT_EQ(runner_.requests()[1].model, "mock/b");
  EXPECT_EQ(runner_.requests()[1].attempt, 2);  // > 1: continue the session, not start over
  EXPECT_EQ(runner_.requests()[1].session_id, runner_.requests()[0].session_id);
  EXPECT_EQ(InUse("mock/a"), 0);
  EXPECT_EQ(InUse("mock/b"), 1);
  CheckInvariants();

  ASSERT_TRUE(runner_.Progress(id, OneRequest()));
  ASSERT_TRUE(runner_.Finish(id, RunOutcome::Completed("answer")));
  EXPECT_EQ(StateOf(id), TaskState::kCompleted);

  // The ledger names the model that answered each request; the first attempt says why it ended.
  auto requests = manager_->ModelRequests(id);
  ASSERT_TRUE(requests.ok());
  std::vector<std::string> models;
  for (const ModelRequestRecord& r : *requests) models.push_back(r.model);
  EXPECT_THAT(models, ElementsAre("mock/a", "mock/b"));
  auto attempts = store_->ListAttempts(id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0].outcome, "error");
  EXPECT_THAT((*attempts)[0].error, HasSubstr("529 overloaded"));
  EXPECT_THAT((*attempts)[0].error, HasSubstr("(model mock/a); continuing on mock/b"));
  EXPECT_EQ((*attempts)[1].outcome, "completed");
}

TEST_F(ModelFallbackTest, TheFallbackWaitsForASlotOfItsOwnPool) {
  const std::string busy = LaunchOk(Req("holds b", "mock/b"));
  const std::string id = LaunchOk(Req("work", "mock/a"));
  const std::string next_a = LaunchOk(Req("waits for a", "mock/a"));
  ASSERT_EQ(StateOf(busy), TaskState::kRunning);
  ASSERT_EQ(StateOf(id), TaskState::kRunning);
  ASSERT_EQ(StateOf(next_a), TaskState::kPending);

  ASSERT_TRUE(runner_.Finish(id, FailedOver("mock/b")));
  // Its slot of a went to the task waiting for a; b is full, so it waits, and says for what.
  EXPECT_EQ(StateOf(next_a), TaskState::kRunning);
  TaskView v = ViewOf(id);
  EXPECT_EQ(v.task.state, TaskState::kPending);
  EXPECT_EQ(v.task.model, "mock/b");
  EXPECT_EQ(v.pool, "model:mock/b");
  EXPECT_EQ(v.queue_position, 1);
  EXPECT_THAT(v.waiting_reason, HasSubstr("mock/b"));
  EXPECT_EQ(InUse("mock/b"), 1);
  CheckInvariants();

  ASSERT_TRUE(runner_.Finish(busy, RunOutcome::Completed("done")));
  EXPECT_EQ(StateOf(id), TaskState::kRunning);
  EXPECT_EQ(InUse("mock/b"), 1);
  CheckInvariants();
}

TEST_F(ModelFallbackTest, ALaunchsFallbackModelsAreKeptWithTheTaskAndGivenToEachAttempt) {
  LaunchRequest r = Req("work", "mock/a");
  r.fallback_models = {"mock/b", "mock/c"};
  const std::string id = LaunchOk(r);
  ASSERT_EQ(runner_.requests().size(), 1u);
  EXPECT_THAT(runner_.requests()[0].fallback_models, ElementsAre("mock/b", "mock/c"));
  ASSERT_TRUE(runner_.Finish(id, FailedOver("mock/b")));
  ASSERT_EQ(runner_.requests().size(), 2u);
  EXPECT_THAT(runner_.requests()[1].fallback_models, ElementsAre("mock/b", "mock/c"));

  // Each must be written provider/model (and be known: check_model, the daemon's registry).
  LaunchRequest bad = Req("work", "mock/a");
  bad.fallback_models = {"nomodel"};
  Result<TaskView> refused = manager_->Launch(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().field(), "model");
  EXPECT_THAT(refused.status().message(), HasSubstr("\"nomodel\" must be written provider/model"));
}

TEST_F(ModelFallbackTest, AFailureWithoutAFallbackModelEndsTheTask) {
  const std::string id = LaunchOk(Req("work", "mock/a"));
  ASSERT_TRUE(runner_.Finish(id, RunOutcome::Failed("model request failed: HTTP 400 bad")));
  TaskView v = ViewOf(id);
  EXPECT_EQ(v.task.state, TaskState::kError);
  EXPECT_EQ(v.task.model, "mock/a");
  EXPECT_EQ(runner_.requests().size(), 1u);
}

TEST_F(ModelFallbackTest, CancellingAFallenBackTaskWhileItWaitsEndsIt) {
  LaunchOk(Req("holds b", "mock/b"));
  const std::string id = LaunchOk(Req("work", "mock/a"));
  ASSERT_TRUE(runner_.Finish(id, FailedOver("mock/b")));
  ASSERT_EQ(StateOf(id), TaskState::kPending);
  ASSERT_TRUE(manager_->Cancel(id).ok());
  EXPECT_EQ(StateOf(id), TaskState::kCancelled);
  CheckInvariants();
}

}  // namespace
}  // namespace troupe
