// The delegation service over a fake delegator: the scope rules (who may read, wait for, list,
// cancel and continue what), the limits of waiting, and the answers' kinds and data.
#include "agent/delegation_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "agent/delegation_schemas.h"
#include "agent/testing/fake_delegator.h"
#include "core/fake_clock.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Kind = DelegationAnswer::Kind;

class DelegationServiceTest : public ::testing::Test {
 protected:
  DelegationServiceTest() : delegator_(&clock_), service_(&delegator_, {}) {}

  static DelegationCaller As(DelegationScope scope) {
    DelegationCaller c;
    c.scope = std::move(scope);
    return c;
  }
  static DelegationCaller Lead() { return As(DelegationScope::ChildrenOf("ses_lead")); }
  static DelegationCaller Mcp(const std::string& session) {
    return As(DelegationScope::OwnedBy("mcp:" + session, "MCP session", "MCP session " + session));
  }
  static DelegationCaller All() { return As(DelegationScope::Everything()); }

  // Runs `tool`; the answer must come before Run returns.
  DelegationAnswer Now(DelegationService& service, const DelegationCaller& caller,
                       const std::string& tool, const json& args) {
    std::optional<DelegationAnswer> answer;
    auto call = service.Run(caller, tool, args, [&](DelegationAnswer a) { answer = std::move(a); });
    EXPECT_EQ(call, nullptr) << tool << " waits";
    EXPECT_TRUE(answer.has_value()) << tool << " did not answer";
    return answer.value_or(DelegationAnswer::Error(Status::Internal("no answer")));
  }
  DelegationAnswer Now(const DelegationCaller& caller, const std::string& tool, const json& args) {
    return Now(service_, caller, tool, args);
  }

  std::string Launch(const DelegationCaller& caller, const std::string& description) {
    DelegationAnswer a = Now(caller, "delegate_task",
                             {{"description", description}, {"prompt", "p"}, {"agent", "explore"}});
    EXPECT_EQ(a.kind, Kind::kLaunched) << a.text;
    return a.tasks.empty() ? "" : a.tasks[0].task_id;
  }

  static std::vector<std::string> Ids(const std::vector<DelegatedTask>& tasks) {
    std::vector<std::string> ids;
    for (const DelegatedTask& t : tasks) ids.push_back(t.task_id);
    return ids;
  }

  FakeClock clock_;
  testing::FakeDelegator delegator_;
  DelegationService service_;
};

TEST_F(DelegationServiceTest, AScopePlacesWhatItLaunches) {
  const std::string child = Launch(Lead(), "child");
  const std::string mine = Launch(Mcp("s1"), "mine");
  const std::string cli = Launch(All(), "cli");
  EXPECT_EQ(delegator_.Get(child)->parent_session_id, "ses_lead");
  EXPECT_EQ(delegator_.Get(child)->owner, "");
  EXPECT_EQ(delegator_.Get(mine)->parent_session_id, "");
  EXPECT_EQ(delegator_.Get(mine)->owner, "mcp:s1");
  EXPECT_EQ(delegator_.Get(cli)->parent_session_id, "");
  EXPECT_EQ(delegator_.Get(cli)->owner, "cli");
}

TEST_F(DelegationServiceTest, AnAgentDelegatesOnlyToTheAgentsItMay) {
  DelegationCaller lead = Lead();
  lead.allowed_agents = std::vector<std::string>{"explore", "oracle"};
  DelegationAnswer refused =
      Now(lead, "delegate_task", {{"description", "d"}, {"prompt", "p"}, {"agent", "general"}});
  EXPECT_TRUE(refused.is_error());
  EXPECT_THAT(refused.text, HasSubstr("you may not delegate to agent `general`"));
  EXPECT_THAT(refused.text, HasSubstr("you may delegate to: explore, oracle"));
  EXPECT_THAT(refused.text, HasSubstr("`delegates_to`"));
  EXPECT_TRUE(delegator_.requests.empty());
  EXPECT_EQ(Launch(lead, "allowed").empty(), false);  // explore
  lead.allowed_agents = std::vector<std::string>{};
  EXPECT_THAT(
      Now(lead, "delegate_task", {{"description", "d"}, {"prompt", "p"}, {"agent", "explore"}})
          .text,
      HasSubstr("you may delegate to no agent"));
}

TEST_F(DelegationServiceTest, IsolationIsPassedOnAndAnUnknownOneIsAToolError) {
  DelegationAnswer isolated =
      Now(Lead(), "delegate_task",
          {{"description", "d"}, {"prompt", "p"}, {"agent", "explore"}, {"isolation", "worktree"}});
  EXPECT_EQ(isolated.kind, Kind::kLaunched) << isolated.text;
  ASSERT_EQ(delegator_.requests.size(), 1u);
  EXPECT_EQ(delegator_.requests[0].isolation, "worktree");
  DelegationAnswer odd =
      Now(Lead(), "delegate_task",
          {{"description", "d"}, {"prompt", "p"}, {"agent", "explore"}, {"isolation", "vm"}});
  EXPECT_TRUE(odd.is_error());
  EXPECT_THAT(odd.text, HasSubstr("`isolation` must be \"none\" or \"worktree\""));
  EXPECT_EQ(delegator_.requests.size(), 1u);
}

// `model` as a list: the first is the task's model, the others its fallback models in order;
// a bad list or entry is a tool error naming it, and nothing is launched.
TEST_F(DelegationServiceTest, AModelListGivesTheFallbackModelsAndABadEntryIsNamed) {
  const json base = {{"description", "d"}, {"prompt", "p"}, {"agent", "explore"}};
  json listed = base;
  listed["model"] = json::array({"an/first", "oa/second", "oa/third"});
  DelegationAnswer launched = Now(Lead(), "delegate_task", listed);
  EXPECT_EQ(launched.kind, Kind::kLaunched) << launched.text;
  ASSERT_EQ(delegator_.requests.size(), 1u);
  EXPECT_EQ(delegator_.requests[0].model, "an/first");
  EXPECT_THAT(delegator_.requests[0].fallback_models, ElementsAre("oa/second", "oa/third"));

  json one = base;
  one["model"] = json::array({"an/only"});
  EXPECT_EQ(Now(Lead(), "delegate_task", one).kind, Kind::kLaunched);
  ASSERT_EQ(delegator_.requests.size(), 2u);
  EXPECT_EQ(delegator_.requests[1].model, "an/only");
  EXPECT_TRUE(delegator_.requests[1].fallback_models.empty());

  json plain = base;
  plain["model"] = "an/plain";
  EXPECT_EQ(Now(Lead(), "delegate_task", plain).kind, Kind::kLaunched);
  ASSERT_EQ(delegator_.requests.size(), 3u);
  EXPECT_EQ(delegator_.requests[2].model, "an/plain");
  EXPECT_TRUE(delegator_.requests[2].fallback_models.empty());

  const std::vector<std::pair<json, std::string>> bad = {
      {json::array(), "`model` must be a model name (provider/model) or a list of 1 to 8 of them"},
      {json::array({"a/1", "a/2", "a/3", "a/4", "a/5", "a/6", "a/7", "a/8", "a/9"}),
       "`model` must be a model name (provider/model) or a list of 1 to 8 of them"},
      {json::array({"an/first", 7}),
       "`model[1]` must be a model name (provider/model) (got a number (7))"},
      {json::array({"an/first", "oa/second", " "}),
       "`model[2]` must be a model name (provider/model)"},
      {json::array({nullptr}), "`model[0]` must be a model name"},
  };
  for (const auto& [models, error] : bad) {
    json args = base;
    args["model"] = models;
    DelegationAnswer a = Now(Lead(), "delegate_task", args);
    EXPECT_TRUE(a.is_error()) << models.dump();
    EXPECT_THAT(a.text, HasSubstr("delegate_task: " + error)) << models.dump();
  }
  EXPECT_EQ(delegator_.requests.size(), 3u);
  // The schema takes both forms, at most 8 models.
  const json schema = DelegationInputSchema("delegate_task", {})["properties"]["model"];
  ASSERT_TRUE(schema.contains("anyOf")) << schema.dump();
  EXPECT_EQ(schema["anyOf"][0]["type"], "string");
  EXPECT_EQ(schema["anyOf"][1]["type"], "array");
  EXPECT_EQ(schema["anyOf"][1]["maxItems"], 8);
}

TEST_F(DelegationServiceTest, ANativeParentSeesCancelsAndContinuesOnlyItsChildren) {
  const std::string own = Launch(Lead(), "own");
  const std::string sibling = delegator_.Foreign("ses_other");
  const std::string mcp = delegator_.Owned("mcp:s1");

  EXPECT_EQ(Now(Lead(), "background_output", {{"task_id", own}}).kind, Kind::kReport);
  for (const std::string& id : {sibling, mcp, std::string("bg_nope")}) {
    SCOPED_TRACE(id);
    DelegationAnswer read = Now(Lead(), "background_output", {{"task_id", id}});
    EXPECT_EQ(read.kind, Kind::kError);
    // Another's task and no task read the same.
    EXPECT_EQ(read.text, "background_output: no task `" + id +
                             "` among the tasks this session delegated; use a task_id that "
                             "delegate_task returned to you");
    EXPECT_EQ(Now(Lead(), "background_wait", {{"task_ids", {id}}}).kind, Kind::kError);
    EXPECT_EQ(Now(Lead(), "background_cancel", {{"task_id", id}}).kind, Kind::kError);
  }
  EXPECT_EQ(delegator_.Get(sibling)->state, "running");
  EXPECT_EQ(delegator_.Get(mcp)->state, "running");

  // "all" is its own children only.
  DelegationAnswer all = Now(Lead(), "background_cancel", {{"all", true}});
  ASSERT_EQ(all.kind, Kind::kCancelled) << all.text;
  EXPECT_THAT(Ids(all.tasks), ElementsAre(own));
  ASSERT_EQ(all.after.size(), 1u);
  EXPECT_EQ(all.after[0].state, "cancelled");
  EXPECT_EQ(all.after[0].error, "cancelled by the session that delegated it (ses_lead)");
  EXPECT_EQ(delegator_.Get(sibling)->state, "running");

  // Continuing: only a session it delegated.
  DelegationAnswer theirs = Now(
      Lead(), "delegate_task",
      {{"description", "d"}, {"prompt", "p"}, {"session_id", delegator_.Get(sibling)->session_id}});
  EXPECT_EQ(theirs.kind, Kind::kError);
  EXPECT_THAT(theirs.text, HasSubstr("was not delegated by session ses_lead"));
  DelegationAnswer again =
      Now(Lead(), "delegate_task",
          {{"description", "d"}, {"prompt", "p"}, {"session_id", delegator_.Get(own)->session_id}});
  EXPECT_EQ(again.kind, Kind::kLaunched) << again.text;
  EXPECT_TRUE(again.continued);
  EXPECT_EQ(delegator_.requests.size(), 4u);  // the refused continuation never reached it
}

TEST_F(DelegationServiceTest, AnMcpOwnerListsCancelsAndWaitsForOnlyItsOwnButReadsByAnyId) {
  const std::string a = Launch(Mcp("s1"), "a");
  const std::string b = Launch(Mcp("s2"), "b");
  const std::string child = delegator_.Foreign("ses_lead");

  DelegationAnswer list = Now(Mcp("s1"), "background_list", json::object());
  ASSERT_EQ(list.kind, Kind::kList);
  EXPECT_THAT(Ids(list.tasks), ElementsAre(a));
  EXPECT_THAT(Ids(Now(Mcp("s3"), "background_list", json::object()).tasks), ElementsAre());

  // Reading by id is open, as in the reference: the id is what the caller was given.
  DelegationAnswer read = Now(Mcp("s1"), "background_output", {{"task_id", b}});
  ASSERT_EQ(read.kind, Kind::kReport) << read.text;
  EXPECT_EQ(read.tasks[0].task_id, b);

  // Acting is not.
  DelegationAnswer cancel = Now(Mcp("s1"), "background_cancel", {{"task_id", b}});
  EXPECT_EQ(cancel.kind, Kind::kError);
  EXPECT_EQ(cancel.text, "background_cancel: `task_id`: no task " + b +
                             " among the tasks this MCP session launched; cancel only your own "
                             "tasks (see background_list)");
  EXPECT_EQ(delegator_.Get(b)->state, "running");
  DelegationAnswer all = Now(Mcp("s1"), "background_cancel", {{"all", true}});
  EXPECT_THAT(Ids(all.tasks), ElementsAre(a));
  EXPECT_EQ(delegator_.Get(a)->error, "cancelled by MCP session s1");
  EXPECT_EQ(delegator_.Get(b)->state, "running");
  EXPECT_EQ(delegator_.Get(child)->state, "running");

  // "All of mine" to wait for: none left running for s1; s2 waits for b alone.
  EXPECT_THAT(Now(Mcp("s1"), "background_wait", json::object()).text,
              StartsWith("None of the tasks you launched is pending or running"));
  std::optional<DelegationAnswer> waited;
  std::vector<std::string> started;
  auto call = service_.Run(
      Mcp("s2"), "background_wait", json::object(),
      [&](DelegationAnswer x) { waited = std::move(x); },
      [&](const std::vector<DelegatedTask>& tasks, bool any) {
        started = Ids(tasks);
        EXPECT_FALSE(any);
      });
  ASSERT_NE(call, nullptr);
  EXPECT_THAT(started, ElementsAre(b));
  delegator_.End(b, "completed", "done");
  clock_.RunDue();
  ASSERT_TRUE(waited.has_value());
  EXPECT_EQ(waited->kind, Kind::kWaitSummary);
  EXPECT_FALSE(waited->timed_out);

  // Continuing: a top-level session, not one an agent delegated.
  DelegationAnswer agents = Now(
      Mcp("s1"), "delegate_task",
      {{"description", "d"}, {"prompt", "p"}, {"session_id", delegator_.Get(child)->session_id}});
  EXPECT_EQ(agents.kind, Kind::kError);
  EXPECT_THAT(agents.text,
              HasSubstr("belongs to it; continue only sessions launched from outside"));
  DelegationAnswer other =
      Now(Mcp("s1"), "delegate_task",
          {{"description", "d"}, {"prompt", "p"}, {"session_id", delegator_.Get(b)->session_id}});
  EXPECT_EQ(other.kind, Kind::kLaunched) << other.text;
  EXPECT_EQ(delegator_.requests.back().owner, "mcp:s1");  // its end is told to the caller
}

TEST_F(DelegationServiceTest, TheAllScopeSeesAndCancelsEverything) {
  const std::string child = delegator_.Foreign("ses_lead");
  const std::string mcp = delegator_.Owned("mcp:s1");
  DelegationAnswer list = Now(All(), "background_list", json::object());
  EXPECT_THAT(Ids(list.tasks), ElementsAre(child, mcp));
  EXPECT_EQ(Now(All(), "background_output", {{"task_id", child}}).kind, Kind::kReport);
  EXPECT_EQ(Now(All(), "delegate_task",
                {{"description", "d"},
                 {"prompt", "p"},
                 {"session_id", delegator_.Get(child)->session_id}})
                .kind,
            Kind::kLaunched);
  DelegationAnswer all = Now(All(), "background_cancel", {{"all", true}});
  EXPECT_EQ(all.tasks.size(), 3u);
  EXPECT_EQ(delegator_.Get(child)->state, "cancelled");
  EXPECT_EQ(delegator_.Get(mcp)->state, "cancelled");
}

TEST_F(DelegationServiceTest, AScopeWithoutItsCallerAllowsNothing) {
  delegator_.Foreign("ses_lead");
  const DelegationCaller nobody = As(DelegationScope::ChildrenOf(""));
  EXPECT_EQ(Now(nobody, "background_list", json::object()).text,
            "background_list: could not list tasks: there is no calling session; delegated "
            "tasks belong to a session");
  EXPECT_THAT(Now(nobody, "background_cancel", {{"all", true}}).text,
              HasSubstr("no calling session"));
  EXPECT_THAT(
      Now(nobody, "delegate_task", {{"description", "d"}, {"prompt", "p"}, {"agent", "x"}}).text,
      HasSubstr("there is no calling session to delegate from"));
  EXPECT_TRUE(delegator_.queries.empty());  // "" would have matched every task
}

// A caller whose waits are bounded (MCP) gets its timeout lowered and the call that waits again.
TEST_F(DelegationServiceTest, BoundedWaitsAreLoweredAndSayHowToWaitAgain) {
  DelegationServiceOptions options;
  options.limits.default_wait_ms = 1'000;
  options.limits.max_timeout_ms = 100'000;
  options.limits.max_wait_ms = 2'000;
  options.limits.foreground_wait_ms = 2'000;
  options.limits.say_how_to_wait_again = true;
  DelegationService bounded(&delegator_, options);
  const std::string id = Launch(Mcp("s1"), "slow");

  std::optional<DelegationAnswer> answer;
  auto call = bounded.Run(Mcp("s1"), "background_output",
                          {{"task_id", id}, {"block", true}, {"timeout_ms", 5'000}},
                          [&](DelegationAnswer a) { answer = std::move(a); });
  ASSERT_NE(call, nullptr);
  EXPECT_EQ(delegator_.last_wait_timeout_ms, 2'000);
  clock_.AdvanceMs(2'000);
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answer->timed_out);
  ASSERT_TRUE(answer->wait_again.has_value());
  EXPECT_EQ(
      answer->wait_again->ToJson(),
      json({{"tool", "background_output"}, {"arguments", {{"task_id", id}, {"block", true}}}}));
  EXPECT_EQ(answer->wait_again_sentence,
            "timeout_ms 5000 was lowered to 2.0s, the longest one call waits (most MCP clients "
            "end a tool call after 60s). To wait again, call background_output(task_id=\"" +
                id + "\", block=true).");
  EXPECT_THAT(answer->text, StartsWith("Still running after waiting 2.0s. " +
                                       answer->wait_again_sentence + "\n\n## Task Status\n"));

  // An agent's limits refuse what is too long instead, and never lower.
  EXPECT_EQ(Now(Lead(), "background_output", {{"task_id", id}, {"timeout_ms", 600'001}}).text,
            "background_output: `timeout_ms` must be an integer from 0 to 600000 (got a number "
            "(600001))");

  // The schemas say the same.
  EXPECT_EQ(DelegationInputSchema("background_wait", options)["properties"]["timeout_ms"].contains(
                "maximum"),
            false);
  EXPECT_EQ(DelegationInputSchema("background_wait", {})["properties"]["timeout_ms"]["maximum"],
            kDelegationWaitMaxMs);
}

TEST_F(DelegationServiceTest, AForegroundAnswerIsMarkedAndCancellingItsCallDropsTheWait) {
  std::optional<DelegationAnswer> answer;
  auto call = service_.Run(
      Mcp("s1"), "delegate_task",
      {{"description", "d"}, {"prompt", "p"}, {"agent", "explore"}, {"background", false}},
      [&](DelegationAnswer a) { answer = std::move(a); });
  ASSERT_NE(call, nullptr);
  delegator_.End("bg_1", "error", "", "boom");
  clock_.RunDue();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->kind, Kind::kReport);
  EXPECT_TRUE(answer->foreground);
  EXPECT_THAT(answer->text, StartsWith("Task Error\n"));

  answer.reset();
  call = service_.Run(
      Mcp("s1"), "delegate_task",
      {{"description", "d"}, {"prompt", "p"}, {"agent", "explore"}, {"background", false}},
      [&](DelegationAnswer a) { answer = std::move(a); });
  ASSERT_NE(call, nullptr);
  EXPECT_EQ(delegator_.open_waits(), 1u);
  call->Cancel();
  EXPECT_EQ(delegator_.open_waits(), 0u);
  delegator_.End("bg_2", "completed", "late");
  clock_.AdvanceMs(kForegroundWaitMs);
  EXPECT_FALSE(answer.has_value());
}

// A launch that answers later (a task in a worktree, while git makes it): the call waits for it;
// a cancel before its answer cancels the launch and nothing is answered; a refused launch is a
// tool error naming the tool; a foreground call waits for the task once it is launched.
TEST_F(DelegationServiceTest, ALaunchThatAnswersLaterIsAwaitedAndCancelledThroughTheCall) {
  delegator_.defer_launches = true;
  const json isolated = {
      {"description", "d"}, {"prompt", "p"}, {"agent", "explore"}, {"isolation", "worktree"}};
  std::optional<DelegationAnswer> answer;
  auto call = service_.Run(Lead(), "delegate_task", isolated,
                           [&](DelegationAnswer a) { answer = std::move(a); });
  ASSERT_NE(call, nullptr);
  EXPECT_FALSE(answer.has_value());
  EXPECT_EQ(delegator_.deferred_launches(), 1u);
  EXPECT_EQ(delegator_.requests.size(), 0u);
  delegator_.AnswerLaunch();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->kind, Kind::kLaunched) << answer->text;
  EXPECT_EQ(answer->tasks.at(0).task_id, "bg_1");
  EXPECT_EQ(delegator_.requests.at(0).isolation, "worktree");
  EXPECT_EQ(delegator_.requests.at(0).parent_session_id, "ses_lead");
  call->Cancel();  // after the answer: nothing to cancel
  EXPECT_TRUE(delegator_.cancelled_launches.empty());

  answer.reset();
  call = service_.Run(Lead(), "delegate_task", isolated,
                      [&](DelegationAnswer a) { answer = std::move(a); });
  call->Cancel();
  EXPECT_EQ(delegator_.cancelled_launches, std::vector<std::string>{"launch_1"});
  delegator_.AnswerLaunch(Status::Cancelled("the launch was cancelled"));
  EXPECT_FALSE(answer.has_value()) << "a cancelled call is not answered";
  call.reset();
  EXPECT_EQ(delegator_.cancelled_launches.size(), 1u) << "cancelled once";

  call = service_.Run(Lead(), "delegate_task", isolated,
                      [&](DelegationAnswer a) { answer = std::move(a); });
  delegator_.AnswerLaunch(Status::InvalidArgument("not in a git repository: /tmp/x"));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->kind, Kind::kError);
  EXPECT_EQ(answer->text, "delegate_task: not in a git repository: /tmp/x");

  answer.reset();
  json foreground = isolated;
  foreground["background"] = false;
  call = service_.Run(Mcp("s1"), "delegate_task", foreground,
                      [&](DelegationAnswer a) { answer = std::move(a); });
  delegator_.AnswerLaunch();
  EXPECT_FALSE(answer.has_value());
  EXPECT_EQ(delegator_.open_waits(), 1u);
  delegator_.End("bg_2", "completed", "done in the worktree");
  clock_.RunDue();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->kind, Kind::kReport);
  EXPECT_TRUE(answer->foreground);
  EXPECT_THAT(answer->text, HasSubstr("done in the worktree"));
}

}  // namespace
}  // namespace troupe
