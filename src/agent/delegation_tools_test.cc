#include "agent/delegation_tools.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "agent/task_reports.h"
#include "agent/testing/fake_delegator.h"
#include "core/fake_clock.h"

namespace troupe {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using json = nlohmann::json;

using testing::FakeDelegator;

class DelegationToolsTest : public ::testing::Test {
 protected:
  DelegationToolsTest()
      : delegator_(&clock_),
        delegate_(&delegator_, {{"explore", "finds code"}, {"oracle", "reviews designs"}}),
        output_(&delegator_),
        wait_(&delegator_),
        cancel_(&delegator_) {
    context_.workspace_root = "/work/project";
    context_.session_id = "ses_lead";
    context_.task_id = "bg_lead";
    context_.clock = &clock_;
  }

  // Starts `tool`; checks it does not answer inside Start. The run stays in `run_`.
  void Begin(Tool& tool, const json& arguments) {
    result_.reset();
    starting_ = true;
    run_ = tool.Start(arguments, context_, [this](ToolResult r) {
      EXPECT_FALSE(starting_) << "answered inside Start";
      EXPECT_FALSE(result_.has_value()) << "answered twice";
      result_ = std::move(r);
    });
    starting_ = false;
  }

  // Begin, then runs due timers; the tool must have answered.
  ToolResult Run(Tool& tool, const json& arguments) {
    Begin(tool, arguments);
    clock_.RunDue();
    EXPECT_TRUE(result_.has_value()) << tool.spec().name << " did not answer";
    return result_.value_or(ToolResult::Error("<no answer>"));
  }

  std::string Launch(const std::string& description = "Find auth") {
    ToolResult r =
        Run(delegate_,
            {{"description", description}, {"prompt", "Find the auth code"}, {"agent", "explore"}});
    EXPECT_FALSE(r.is_error) << r.content;
    return delegator_.requests.empty() ? "" : "bg_" + std::to_string(delegator_.requests.size());
  }

  FakeClock clock_;
  FakeDelegator delegator_;
  DelegateTaskTool delegate_;
  BackgroundOutputTool output_;
  BackgroundWaitTool wait_;
  BackgroundCancelTool cancel_;
  ToolContext context_;
  std::unique_ptr<ToolRun> run_;
  std::optional<ToolResult> result_;
  bool starting_ = false;
};

TEST_F(DelegationToolsTest, AddsFourToolsWithTheirAccess) {
  ToolSet tools;
  ASSERT_TRUE(AddDelegationTools(&tools, &delegator_).ok());
  EXPECT_EQ(tools.Names(), (std::vector<std::string>{"delegate_task", "background_output",
                                                     "background_wait", "background_cancel"}));
  EXPECT_FALSE(tools.IsReadOnly("delegate_task"));
  EXPECT_TRUE(tools.IsReadOnly("background_output"));
  EXPECT_TRUE(tools.IsReadOnly("background_wait"));
  EXPECT_TRUE(tools.IsReadOnly("background_cancel"));
  EXPECT_EQ(AddDelegationTools(&tools, &delegator_).code(), StatusCode::kAlreadyExists);

  for (const ToolSpec& spec : tools.AllSpecs()) {
    EXPECT_EQ(spec.input_schema["type"], "object") << spec.name;
    EXPECT_EQ(spec.input_schema["additionalProperties"], false) << spec.name;
    if (spec.name != "background_cancel") {
      EXPECT_THAT(spec.description, HasSubstr("notified automatically")) << spec.name;
    }
  }
  const ToolSpec& d = delegate_.spec();
  EXPECT_EQ(d.input_schema["required"], json({"description", "prompt"}));
  EXPECT_EQ(d.input_schema["properties"]["agent"]["enum"], json({"explore", "oracle"}));
  EXPECT_THAT(d.description, HasSubstr("\n- explore: finds code\n- oracle: reviews designs"));
  EXPECT_EQ(output_.spec().input_schema["properties"]["timeout_ms"]["maximum"], 600000);
  EXPECT_EQ(wait_.spec().input_schema["properties"]["mode"]["default"], "all");
}

TEST_F(DelegationToolsTest, ACallerLimitedToSomeAgentsIsOfferedOnlyThose) {
  ToolContext anyone;
  EXPECT_EQ(delegate_.SpecFor(anyone).description, delegate_.spec().description);
  EXPECT_EQ(delegate_.SpecFor(anyone).input_schema, delegate_.spec().input_schema);

  ToolContext limited;
  limited.delegates_to = std::vector<std::string>{"oracle"};
  const ToolSpec s = delegate_.SpecFor(limited);
  EXPECT_EQ(s.name, "delegate_task");
  EXPECT_EQ(s.input_schema["properties"]["agent"]["enum"], json({"oracle"}));
  EXPECT_THAT(s.description, HasSubstr("\n- oracle: reviews designs"));
  EXPECT_THAT(s.description, Not(HasSubstr("explore")));
  EXPECT_EQ(delegate_.spec().input_schema["properties"]["agent"]["enum"],
            json({"explore", "oracle"}));  // the shared spec is untouched

  ToolContext nobody;
  nobody.delegates_to = std::vector<std::string>{};
  const ToolSpec none = delegate_.SpecFor(nobody);
  EXPECT_THAT(none.description, HasSubstr("You may not start tasks on any agent"));
  EXPECT_THAT(none.description, Not(HasSubstr("- oracle")));
}

TEST_F(DelegationToolsTest, DelegateInBackgroundAnswersWithTheLaunchConfirmation) {
  ToolResult r = Run(delegate_, {{"description", "Find auth"},
                                 {"prompt", "Find the auth code"},
                                 {"agent", "explore"},
                                 {"model", "mock/m"}});
  EXPECT_FALSE(r.is_error) << r.content;
  ASSERT_EQ(delegator_.requests.size(), 1u);
  const DelegateRequest& q = delegator_.requests[0];
  EXPECT_EQ(q.parent_session_id, "ses_lead");
  EXPECT_EQ(q.parent_task_id, "bg_lead");
  EXPECT_EQ(q.workspace, "/work/project");
  EXPECT_EQ(q.agent, "explore");
  EXPECT_EQ(q.model, "mock/m");
  EXPECT_EQ(q.description, "Find auth");
  EXPECT_EQ(q.prompt, "Find the auth code");
  EXPECT_EQ(q.session_id, "");
  EXPECT_EQ(r.content, FormatLaunched(*delegator_.Get("bg_1"), false));
  EXPECT_EQ(delegator_.open_waits(), 0u);
}

TEST_F(DelegationToolsTest, DelegateValidatesItsArguments) {
  auto error = [&](const json& args) {
    ToolResult r = Run(delegate_, args);
    EXPECT_TRUE(r.is_error);
    return r.content;
  };
  EXPECT_EQ(error({{"prompt", "p"}, {"agent", "explore"}}),
            "delegate_task: `description` is required (a short label for the task, 3-5 words)");
  EXPECT_EQ(error({{"description", "d"}, {"agent", "explore"}}),
            "delegate_task: `prompt` is required (the complete instructions for the agent)");
  EXPECT_EQ(error({{"description", "d"}, {"prompt", "p"}, {"agent", ""}}),
            "delegate_task: `agent` is required (the agent to run the task) unless `session_id` "
            "continues an earlier session; available agents: explore, oracle");
  EXPECT_EQ(error({{"description", "d"}, {"prompt", "p"}, {"agent", "wizard"}}),
            "delegate_task: unknown agent `wizard`; available agents: explore, oracle");
  EXPECT_THAT(
      error({{"description", "d"}, {"prompt", "p"}, {"agent", "explore"}, {"background", "yes"}}),
      HasSubstr("`background` must be true or false (got a string (\"yes\"))"));
  EXPECT_THAT(error({{"description", "d"}, {"prompt", "p"}, {"agent", "explore"}, {"x", 1}}),
              HasSubstr("unknown argument `x`"));
  EXPECT_THAT(error("do it"), HasSubstr("the arguments must be a JSON object"));
  EXPECT_TRUE(delegator_.requests.empty());

  // The engine's refusal reaches the model as it is.
  delegator_.fail_delegate = Status::ResourceExhausted(
      "delegation depth 4 exceeds maxDepth 3: session ses_lead may not delegate further");
  EXPECT_EQ(error({{"description", "d"}, {"prompt", "p"}, {"agent", "explore"}}),
            "delegate_task: delegation depth 4 exceeds maxDepth 3: session ses_lead may not "
            "delegate further");
}

TEST_F(DelegationToolsTest, DelegateContinuesAChildSession) {
  const std::string id = Launch();
  delegator_.End(id, "completed", "found it");
  ToolResult r = Run(
      delegate_,
      {{"description", "Follow up"}, {"prompt", "Now check the tests"}, {"session_id", "ses_1"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(delegator_.requests.back().session_id, "ses_1");
  EXPECT_EQ(delegator_.requests.back().agent, "");
  EXPECT_THAT(r.content, StartsWith("Background task launched, continuing session ses_1.\n"));
  EXPECT_THAT(r.content, HasSubstr("Task ID: bg_2\n"));
}

TEST_F(DelegationToolsTest, ForegroundDelegateWaitsForTheResult) {
  Begin(
      delegate_,
      {{"description", "Find auth"}, {"prompt", "p"}, {"agent", "explore"}, {"background", false}});
  clock_.AdvanceMs(10'000);
  EXPECT_FALSE(result_.has_value());
  EXPECT_EQ(delegator_.last_wait_timeout_ms, kForegroundWaitMs);
  delegator_.End("bg_1", "completed", "the answer");
  clock_.RunDue();
  ASSERT_TRUE(result_.has_value());
  EXPECT_FALSE(result_->is_error);
  EXPECT_EQ(result_->content, FormatTaskResult(*delegator_.Get("bg_1")));
  EXPECT_THAT(result_->content, EndsWith("---\n\nthe answer"));
}

TEST_F(DelegationToolsTest, ForegroundDelegateGivesUpWaitingWithTheStatus) {
  Begin(
      delegate_,
      {{"description", "Find auth"}, {"prompt", "p"}, {"agent", "explore"}, {"background", false}});
  clock_.AdvanceMs(kForegroundWaitMs);
  ASSERT_TRUE(result_.has_value());
  EXPECT_THAT(result_->content,
              StartsWith("Still running after waiting 1h 0m; it keeps running in the background "
                         "and you will be notified when it finishes.\n\n## Task Status\n"));
}

TEST_F(DelegationToolsTest, CancellingAWaitingRunCancelsItsWait) {
  Begin(delegate_,
        {{"description", "d"}, {"prompt", "p"}, {"agent", "explore"}, {"background", false}});
  clock_.RunDue();
  EXPECT_EQ(delegator_.open_waits(), 1u);
  run_->Cancel();
  EXPECT_EQ(delegator_.open_waits(), 0u);
  EXPECT_EQ(delegator_.cancelled_waits, (std::set<uint64_t>{1}));
  delegator_.End("bg_1", "completed", "late");
  clock_.AdvanceMs(kForegroundWaitMs);
  EXPECT_FALSE(result_.has_value());
}

TEST_F(DelegationToolsTest, OutputShowsStatusThenTheSameResultEveryTime) {
  const std::string id = Launch();
  ToolResult running = Run(output_, {{"task_id", id}});
  EXPECT_FALSE(running.is_error);
  EXPECT_EQ(running.content, FormatTaskStatus(*delegator_.Get(id)));
  delegator_.End(id, "completed", "3 files");
  ToolResult first = Run(output_, {{"task_id", id}});
  ToolResult second = Run(output_, {{"task_id", id}});
  EXPECT_EQ(first.content, FormatTaskResult(*delegator_.Get(id)));
  EXPECT_EQ(first.content, second.content);
  // Waiting on a finished task answers at once.
  ToolResult blocked = Run(output_, {{"task_id", id}, {"block", true}});
  EXPECT_EQ(blocked.content, first.content);
  EXPECT_EQ(delegator_.open_waits(), 0u);
}

TEST_F(DelegationToolsTest, OutputShowsTheErrorBlockAndTheTranscript) {
  const std::string id = Launch();
  delegator_.End(id, "error", "", "model request failed");
  ToolResult r = Run(output_, {{"task_id", id}, {"full_session", true}});
  EXPECT_THAT(r.content, StartsWith("Task Error\n"));
  EXPECT_THAT(r.content, HasSubstr("model request failed"));
  EXPECT_THAT(r.content, EndsWith("\n\n## Session ses_1 (1 message)"));
  delegator_.transcript_error = Status::NotFound("session ses_1 does not exist");
  r = Run(output_, {{"task_id", id}, {"full_session", true}});
  EXPECT_THAT(r.content,
              EndsWith("\n\n(The session's transcript could not be read: session ses_1 does not "
                       "exist)"));
}

TEST_F(DelegationToolsTest, OutputBlocksUntilTheTaskFinishesOrTheTimeout) {
  const std::string id = Launch();
  Begin(output_, {{"task_id", id}, {"block", true}, {"timeout_ms", 30'000}});
  clock_.AdvanceMs(1'000);
  EXPECT_FALSE(result_.has_value());
  EXPECT_EQ(delegator_.last_wait_timeout_ms, 30'000);
  delegator_.End(id, "completed", "done");
  clock_.RunDue();
  ASSERT_TRUE(result_.has_value());
  EXPECT_THAT(result_->content, StartsWith("Task Result\n"));

  const std::string slow = Launch();
  Begin(output_, {{"task_id", slow}, {"block", true}});
  clock_.AdvanceMs(kDelegationWaitDefaultMs - 1);
  EXPECT_FALSE(result_.has_value());
  clock_.AdvanceMs(1);
  ASSERT_TRUE(result_.has_value());
  EXPECT_THAT(result_->content, StartsWith("Still running after waiting 1m 0s.\n\n## Task Status"));
}

TEST_F(DelegationToolsTest, OutputRefusesTasksOfOtherSessionsAndBadArguments) {
  const std::string theirs = delegator_.Foreign();
  ToolResult r = Run(output_, {{"task_id", theirs}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.content,
            "background_output: no task `" + theirs +
                "` among the tasks this session delegated; use a task_id that delegate_task "
                "returned to you");
  // A task that does not exist reads the same: nothing tells them apart.
  EXPECT_EQ(Run(output_, {{"task_id", "bg_nope"}}).content,
            "background_output: no task `bg_nope` among the tasks this session delegated; use a "
            "task_id that delegate_task returned to you");
  EXPECT_EQ(Run(output_, json::object()).content,
            "background_output: `task_id` is required (a task id (bg_…))");
  EXPECT_EQ(Run(output_, {{"task_id", "bg_1"}, {"timeout_ms", 600'001}}).content,
            "background_output: `timeout_ms` must be an integer from 0 to 600000 (got a number "
            "(600001))");
  context_.session_id = "";
  EXPECT_THAT(Run(output_, {{"task_id", theirs}}).content, HasSubstr("no calling session"));
}

TEST_F(DelegationToolsTest, WaitAllDefaultsToEveryActiveChild) {
  const std::string a = Launch("A");
  const std::string b = Launch("B");
  const std::string c = Launch("C");
  delegator_.End(c, "completed", "early");
  delegator_.Foreign();  // not ours: not waited for
  Begin(wait_, json::object());
  delegator_.End(a, "completed", "x");
  clock_.RunDue();
  EXPECT_FALSE(result_.has_value());  // mode all: b still runs
  delegator_.End(b, "error", "", "boom");
  clock_.RunDue();
  ASSERT_TRUE(result_.has_value());
  EXPECT_THAT(result_->content, StartsWith("All 2 tasks finished.\n"));
  EXPECT_THAT(result_->content, HasSubstr("| `bg_2` | B | explore | error | 5.0s | `ses_2` |"));
  EXPECT_THAT(result_->content, Not(HasSubstr("`bg_3`")));
}

TEST_F(DelegationToolsTest, WaitAnyReturnsOnTheFirstAndTimesOut) {
  const std::string a = Launch("A");
  const std::string b = Launch("B");
  Begin(wait_, {{"task_ids", {a, b, a}}, {"mode", "any"}, {"timeout_ms", 5'000}});
  delegator_.End(b, "completed", "x");
  clock_.RunDue();
  ASSERT_TRUE(result_.has_value());
  EXPECT_THAT(result_->content,
              StartsWith("1 of 2 tasks finished; 1 is still pending or running."));

  Begin(wait_, {{"task_ids", {a}}, {"timeout_ms", 5'000}});
  clock_.AdvanceMs(5'000);
  ASSERT_TRUE(result_.has_value());
  EXPECT_THAT(result_->content, StartsWith("Timed out after 5.0s: 0 of 1 tasks finished; 1 is "
                                           "still pending or running."));
}

TEST_F(DelegationToolsTest, WaitWithNothingActiveOrBadArguments) {
  EXPECT_THAT(Run(wait_, json::object()).content,
              StartsWith("None of the tasks you delegated is pending or running"));
  const std::string theirs = delegator_.Foreign();
  ToolResult r = Run(wait_, {{"task_ids", {theirs}}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content, HasSubstr("no task `" + theirs + "` among the tasks this session"));
  EXPECT_EQ(Run(wait_, {{"mode", "some"}}).content,
            "background_wait: `mode` must be \"all\" or \"any\" (got a string (\"some\"))");
  EXPECT_THAT(Run(wait_, {{"task_ids", "bg_1"}}).content,
              HasSubstr("`task_ids` must be an array of 1 to 100 task ids (got a string"));
  EXPECT_THAT(Run(wait_, {{"task_ids", {1}}}).content,
              HasSubstr("`task_ids[0]` must be a task id (bg_…) (got a number (1))"));
  EXPECT_EQ(delegator_.open_waits(), 0u);
}

TEST_F(DelegationToolsTest, DestroyingAWaitCancelsIt) {
  Launch();
  Begin(wait_, json::object());
  clock_.RunDue();
  EXPECT_EQ(delegator_.open_waits(), 1u);
  run_.reset();
  EXPECT_EQ(delegator_.open_waits(), 0u);
  delegator_.End("bg_1", "completed", "x");
  clock_.AdvanceMs(kDelegationWaitMaxMs);
  EXPECT_FALSE(result_.has_value());
}

TEST_F(DelegationToolsTest, CancelOneOrAll) {
  const std::string a = Launch("A");
  const std::string b = Launch("B");
  delegator_.launch_state = "pending";
  const std::string c = Launch("C");
  const std::string theirs = delegator_.Foreign();

  ToolResult one = Run(cancel_, {{"task_id", a}});
  EXPECT_FALSE(one.is_error) << one.content;
  EXPECT_THAT(one.content, StartsWith("Cancelled 1 background task(s):\n"));
  EXPECT_THAT(one.content, HasSubstr("Continuable sessions:\n- `ses_1` (A)"));
  EXPECT_EQ(delegator_.Get(a)->state, "cancelled");

  ToolResult again = Run(cancel_, {{"task_id", a}});
  EXPECT_THAT(again.content, StartsWith("Task bg_1 is already cancelled; there is nothing"));

  ToolResult all = Run(cancel_, {{"all", true}});
  EXPECT_THAT(all.content, StartsWith("Cancelled 2 background task(s):\n"));
  EXPECT_THAT(all.content, HasSubstr("| `bg_3` | C | pending | (not started) |"));
  EXPECT_THAT(all.content, HasSubstr("Continuable sessions:\n- `ses_2` (B)"));
  EXPECT_EQ(delegator_.Get(b)->state, "cancelled");
  EXPECT_EQ(delegator_.Get(c)->state, "cancelled");
  EXPECT_EQ(delegator_.Get(theirs)->state, "pending");
  EXPECT_EQ(Run(cancel_, {{"all", true}}).content, "No active background tasks to cancel.");

  ToolResult foreign = Run(cancel_, {{"task_id", theirs}});
  EXPECT_TRUE(foreign.is_error);
  EXPECT_THAT(foreign.content, HasSubstr("among the tasks this session delegated"));
  EXPECT_EQ(delegator_.Get(theirs)->state, "pending");
}

TEST_F(DelegationToolsTest, CancelNeedsExactlyOneOfTaskIdAndAll) {
  EXPECT_EQ(Run(cancel_, json::object()).content,
            "background_cancel: `task_id` is required (the task to cancel), or pass `all`=true "
            "to cancel every task you delegated that is pending or running");
  EXPECT_EQ(Run(cancel_, {{"all", false}}).content, Run(cancel_, json::object()).content);
  EXPECT_EQ(Run(cancel_, {{"task_id", "bg_1"}, {"all", true}}).content,
            "background_cancel: give either `task_id` or `all`=true, not both");
  EXPECT_THAT(Run(cancel_, {{"task_id", 7}}).content,
              HasSubstr("`task_id` must be a task id (bg_…) (got a number (7))"));
}

}  // namespace
}  // namespace troupe
