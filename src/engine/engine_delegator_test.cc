#include "engine/engine_delegator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "agent/delegation_service.h"
#include "agent/delegation_tools.h"
#include "agent/message_codec.h"
#include "agent/testing/git_repo.h"
#include "agent/worktrees.h"
#include "core/testing/test_dir.h"
#include "engine/engine_test_fixture.h"
#include "engine/testing/held_executor.h"

namespace troupe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Scripts by prompt: "fast" completes after 100 ms, "slow" after 1000 ms, "fail" fails after
// 50 ms; anything else hangs until cancelled.
Script ByPrompt(const RunRequest& r) {
  if (r.prompt == "fast") return {ScriptStep::Complete(100, "fast done")};
  if (r.prompt == "slow") return {ScriptStep::Complete(1000, "slow done")};
  if (r.prompt == "fail") return {ScriptStep::Fail(50, "boom")};
  return {};
}

class EngineDelegatorTest : public EngineTest {
 protected:
  void Start(TaskManagerOptions options = {}) {
    runner_.set_chooser(ByPrompt);
    Build(std::move(options));
    delegator_ = std::make_unique<EngineDelegator>(manager_.get(), &clock_);
    service_ = std::make_unique<DelegationService>(delegator_.get(), DelegationServiceOptions{});
    LaunchRequest lead = Req("lead", "mock/lead");
    lead.agent = "lead";
    lead_ = LaunchOk(lead);
    lead_session_ = ViewOf(lead_).task.session_id;
  }

  DelegateRequest Child(const std::string& prompt, const std::string& parent_session = "") {
    DelegateRequest r;
    r.parent_session_id = parent_session.empty() ? lead_session_ : parent_session;
    r.parent_task_id = lead_;
    r.agent = "explore";
    r.prompt = prompt;
    r.description = "child " + prompt;
    r.model = "mock/m";
    r.workspace = "/tmp/project";
    return r;
  }

  // A follow-up prompt "slow" on `child`'s session, from the lead.
  DelegateRequest FollowUp(const DelegatedTask& child) {
    DelegateRequest r;
    r.parent_session_id = lead_session_;
    r.session_id = child.session_id;
    r.prompt = "slow";
    r.description = "follow-up";
    return r;
  }

  // What the lead's tools are called with.
  ToolContext LeadToolContext() {
    ToolContext context;
    context.workspace_root = "/tmp/project";
    context.session_id = lead_session_;
    context.task_id = lead_;
    context.clock = &clock_;
    return context;
  }

  // The rights of the lead session, which the service decides (agent/delegation_scope.h).
  DelegationScope Lead() const { return DelegationScope::ChildrenOf(lead_session_); }

  // `r` through the service, as the lead's delegate_task would: with its rights checked.
  Result<DelegatedTask> DelegateChecked(const DelegateRequest& r) {
    DelegationCaller caller;
    caller.scope = DelegationScope::ChildrenOf(r.parent_session_id);
    caller.task_id = r.parent_task_id;
    caller.workspace = r.workspace;
    caller.call_key = r.call_key;
    DelegateArguments args;
    args.description = r.description;
    args.prompt = r.prompt;
    args.agent = r.agent;
    args.model = r.model;
    args.session_id = r.session_id;
    return service_->Launch(caller, args);
  }

  DelegatedTask DelegateOk(const DelegateRequest& r) {
    Result<DelegatedTask> t = delegator_->Delegate(r);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : DelegatedTask{};
  }

  DelegatedTask GetOk(const std::string& id) {
    Result<DelegatedTask> t = delegator_->Get(id);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : DelegatedTask{};
  }

  static std::vector<std::string> Ids(const std::vector<DelegatedTask>& tasks) {
    std::vector<std::string> ids;
    for (const DelegatedTask& t : tasks) ids.push_back(t.task_id);
    return ids;
  }

  std::unique_ptr<EngineDelegator> delegator_;
  std::unique_ptr<DelegationService> service_;
  std::string lead_;
  std::string lead_session_;
};

TEST_F(EngineDelegatorTest, DelegateLaunchesAChildOfTheCallingSession) {
  Start();
  DelegatedTask t = DelegateOk(Child("fast"));
  EXPECT_EQ(t.state, "running");
  EXPECT_EQ(t.agent, "explore");
  EXPECT_EQ(t.model, "mock/m");
  EXPECT_EQ(t.description, "child fast");
  EXPECT_EQ(t.prompt, "fast");
  TaskView view = ViewOf(t.task_id);
  EXPECT_EQ(view.task.parent_session_id, lead_session_);
  EXPECT_EQ(view.task.depth, 1);
  EXPECT_EQ(view.task.owner, "");
  auto session = manager_->Session(t.session_id);
  ASSERT_TRUE(session.ok() && session->has_value());
  EXPECT_EQ((*session)->workspace, "/tmp/project");

  clock_.AdvanceMs(100);
  DelegatedTask done = GetOk(t.task_id);
  EXPECT_EQ(done.state, "completed");
  EXPECT_EQ(done.result, "fast done");
  EXPECT_EQ(done.duration_ms, 100);
  EXPECT_TRUE(done.final());
  // The outbox row goes to the delegating session.
  auto notes = manager_->ClaimNotifications(lead_session_);
  ASSERT_TRUE(notes.ok());
  ASSERT_EQ(notes->size(), 1u);
  EXPECT_EQ((*notes)[0].task_id, t.task_id);
}

TEST_F(EngineDelegatorTest, MaxDepthIsEnforcedAndItsErrorPassesThrough) {
  TaskManagerOptions o;
  o.limits.max_depth = 1;
  Start(o);
  DelegatedTask child = DelegateOk(Child("hang"));
  Result<DelegatedTask> grandchild = delegator_->Delegate(Child("hang", child.session_id));
  ASSERT_FALSE(grandchild.ok());
  EXPECT_EQ(grandchild.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(grandchild.status().message(), "delegation depth 2 exceeds maxDepth 1: session " +
                                               child.session_id + " may not delegate further");

  DelegateRequest orphan = Child("hang");
  orphan.parent_session_id = "";
  EXPECT_EQ(delegator_->Delegate(orphan).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(delegator_->Delegate(Child("hang", "ses_nope")).status().code(), StatusCode::kNotFound);
}

TEST_F(EngineDelegatorTest, DurationsQueuePositionAndLastTool) {
  TaskManagerOptions o;
  o.limits.model_concurrency = {{"mock/m", 1}};
  Start(o);
  DelegatedTask running = DelegateOk(Child("hang"));
  DelegatedTask pending = DelegateOk(Child("hang"));
  EXPECT_EQ(pending.state, "pending");
  EXPECT_EQ(pending.queue_position, 1);
  EXPECT_EQ(pending.waiting_reason, "pool model:mock/m full (1/1 running), position 1");

  clock_.AdvanceMs(5'000);
  ProgressUpdate u;
  u.tool = "grep";
  ASSERT_TRUE(runner_.Progress(running.task_id, u));
  DelegatedTask r = GetOk(running.task_id);
  EXPECT_EQ(r.duration_ms, 5'000);
  EXPECT_EQ(r.last_tool, "grep");
  DelegatedTask p = GetOk(pending.task_id);
  EXPECT_EQ(p.duration_ms, 5'000);  // queued for

  // Cancelled while pending: it ran for nothing, it waited 7 s.
  clock_.AdvanceMs(2'000);
  ASSERT_TRUE(service_->Cancel(Lead(), pending.task_id).ok());
  clock_.AdvanceMs(1'000);
  DelegatedTask c = GetOk(pending.task_id);
  EXPECT_EQ(c.state, "cancelled");
  EXPECT_EQ(c.duration_ms, 7'000);
  EXPECT_EQ(c.error, "cancelled by the session that delegated it (" + lead_session_ + ")");
  // Ended tasks keep their duration however late they are read.
  ASSERT_TRUE(service_->Cancel(Lead(), running.task_id).ok());
  clock_.AdvanceMs(60'000);
  EXPECT_EQ(GetOk(running.task_id).duration_ms, 8'000);
}

TEST_F(EngineDelegatorTest, WaitAnyAllAndTimeout) {
  Start();
  DelegatedTask fast = DelegateOk(Child("fast"));
  DelegatedTask slow = DelegateOk(Child("slow"));
  DelegatedTask hang = DelegateOk(Child("hang"));

  std::optional<std::pair<std::vector<DelegatedTask>, bool>> any, all, timeout, cancelled;
  auto into = [](auto* slot) {
    return [slot](std::vector<DelegatedTask> tasks, bool timed_out) {
      *slot = std::make_pair(std::move(tasks), timed_out);
    };
  };
  ASSERT_TRUE(delegator_->Wait({fast.task_id, slow.task_id}, false, 0, into(&any)).ok());
  ASSERT_TRUE(delegator_->Wait({fast.task_id, slow.task_id}, true, 0, into(&all)).ok());
  ASSERT_TRUE(delegator_->Wait({hang.task_id}, true, 500, into(&timeout)).ok());
  Result<uint64_t> dropped = delegator_->Wait({slow.task_id}, true, 0, into(&cancelled));
  ASSERT_TRUE(dropped.ok());
  delegator_->CancelWait(*dropped);

  clock_.AdvanceMs(100);
  ASSERT_TRUE(any.has_value());
  EXPECT_FALSE(any->second);
  ASSERT_EQ(any->first.size(), 2u);
  EXPECT_EQ(any->first[0].state, "completed");
  EXPECT_EQ(any->first[0].result, "fast done");
  EXPECT_EQ(any->first[1].state, "running");
  EXPECT_FALSE(all.has_value());

  clock_.AdvanceMs(400);
  ASSERT_TRUE(timeout.has_value());
  EXPECT_TRUE(timeout->second);
  EXPECT_EQ(timeout->first[0].state, "running");
  EXPECT_EQ(timeout->first[0].duration_ms, 500);

  clock_.AdvanceMs(500);
  ASSERT_TRUE(all.has_value());
  EXPECT_FALSE(all->second);
  EXPECT_EQ(all->first[1].result, "slow done");
  EXPECT_FALSE(cancelled.has_value());

  // Already final: answered from a later turn, not inside Wait.
  std::optional<std::pair<std::vector<DelegatedTask>, bool>> late;
  ASSERT_TRUE(delegator_->Wait({fast.task_id}, true, 0, into(&late)).ok());
  EXPECT_FALSE(late.has_value());
  clock_.RunDue();
  EXPECT_TRUE(late.has_value());
  EXPECT_EQ(delegator_->Wait({"bg_nope"}, true, 0, into(&late)).status().code(),
            StatusCode::kNotFound);
}

TEST_F(EngineDelegatorTest, CancelOneTaskWithWhatItDelegatedOrAllActiveChildren) {
  Start();
  DelegatedTask a = DelegateOk(Child("hang"));
  DelegatedTask b = DelegateOk(Child("hang"));
  DelegatedTask done = DelegateOk(Child("fast"));
  DelegatedTask grandchild = DelegateOk(Child("hang", a.session_id));
  LaunchRequest other_lead = Req("lead", "mock/lead");
  const std::string other = LaunchOk(other_lead);
  const std::string other_session = ViewOf(other).task.session_id;
  DelegatedTask theirs = DelegateOk(Child("hang", other_session));
  clock_.AdvanceMs(100);

  auto one = service_->Cancel(Lead(), a.task_id);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].state, "running");  // as it was before
  EXPECT_EQ(StateOf(a.task_id), TaskState::kCancelled);
  EXPECT_EQ(StateOf(grandchild.task_id), TaskState::kCancelled);
  EXPECT_EQ(StateOf(b.task_id), TaskState::kRunning);

  // Another session's task is refused and left alone.
  auto refused = service_->Cancel(Lead(), theirs.task_id);
  EXPECT_EQ(refused.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(StateOf(theirs.task_id), TaskState::kRunning);

  auto all = service_->Cancel(Lead(), "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Ids(*all), std::vector<std::string>{b.task_id});
  EXPECT_EQ(StateOf(b.task_id), TaskState::kCancelled);
  EXPECT_EQ(StateOf(done.task_id), TaskState::kCompleted);
  EXPECT_EQ(StateOf(theirs.task_id), TaskState::kRunning);
  EXPECT_EQ(StateOf(lead_), TaskState::kRunning);

  // Cancelling an ended task changes nothing and says how it ended.
  auto again = service_->Cancel(Lead(), done.task_id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].state, "completed");
  EXPECT_EQ(service_->Cancel(DelegationScope::ChildrenOf(""), "").status().code(),
            StatusCode::kInvalidArgument);
  CheckInvariants();
}

TEST_F(EngineDelegatorTest, ChildrenListsOnlyTheSessionsOwnTasksOldestFirst) {
  Start();
  DelegatedTask a = DelegateOk(Child("fast"));
  clock_.AdvanceMs(1);
  DelegatedTask b = DelegateOk(Child("hang"));
  DelegateOk(Child("hang", a.session_id));  // a grandchild: a's, not the lead's
  clock_.AdvanceMs(100);
  auto children = delegator_->Children(lead_session_);
  ASSERT_TRUE(children.ok());
  EXPECT_THAT(Ids(*children), ElementsAre(a.task_id, b.task_id));
  EXPECT_EQ((*children)[0].state, "completed");
  EXPECT_EQ((*children)[1].state, "running");
  auto none = delegator_->Children("ses_nobody");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(delegator_->Children("").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineDelegatorTest, ContinuesAChildSessionOnlyForItsParent) {
  Start();
  DelegatedTask first = DelegateOk(Child("fast"));
  clock_.AdvanceMs(100);
  DelegateRequest follow = FollowUp(first);
  DelegatedTask second = DelegateOk(follow);
  EXPECT_NE(second.task_id, first.task_id);
  EXPECT_EQ(second.session_id, first.session_id);
  EXPECT_EQ(second.agent, "explore");
  EXPECT_EQ(second.model, "mock/m");
  auto messages = manager_->Messages(first.session_id);
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(messages->size(), 2u);

  // Busy: the engine's refusal passes through.
  Result<DelegatedTask> busy = DelegateChecked(follow);
  EXPECT_EQ(busy.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(busy.status().message(), HasSubstr("is busy with task"));
  clock_.AdvanceMs(1000);

  DelegateRequest wrong_agent = follow;
  wrong_agent.agent = "oracle";
  EXPECT_EQ(DelegateChecked(wrong_agent).status().message(),
            "session " + first.session_id +
                " belongs to agent explore, not oracle; leave the agent out to continue it, or "
                "start a new task for oracle");

  const std::string other = LaunchOk(Req("lead"));
  DelegateRequest stranger = follow;
  stranger.parent_session_id = ViewOf(other).task.session_id;
  Result<DelegatedTask> refused = DelegateChecked(stranger);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "session " + first.session_id + " was not delegated by session " +
                stranger.parent_session_id + "; only sessions it delegated can be continued");

  DelegateRequest missing = follow;
  missing.session_id = "ses_nope";
  EXPECT_EQ(DelegateChecked(missing).status().code(), StatusCode::kNotFound);
}

// A lead resumed after a crash replays the tool calls it had not answered; a delegate_task
// whose launch was committed must find its task, not start a second one.
TEST_F(EngineDelegatorTest, DelegatingAgainWithTheSameCallKeyReturnsTheFirstTask) {
  Start();
  DelegateRequest call = Child("slow");
  call.call_key = "3:call_a";
  DelegatedTask first = DelegateOk(call);
  EXPECT_EQ(ViewOf(first.task_id).task.parent_call_id, "3:call_a");
  DelegatedTask again = DelegateOk(call);
  EXPECT_EQ(again.task_id, first.task_id);
  EXPECT_EQ(again.state, "running");

  // Another call, or the same call id in another turn, is another task.
  DelegateRequest other_call = call;
  other_call.call_key = "3:call_b";
  DelegateRequest later_turn = call;
  later_turn.call_key = "7:call_a";
  const std::string b = DelegateOk(other_call).task_id;
  const std::string c = DelegateOk(later_turn).task_id;
  EXPECT_NE(b, first.task_id);
  EXPECT_NE(c, first.task_id);
  EXPECT_NE(b, c);
  // Without a key (a call the model gave no id) every call starts a task.
  DelegateRequest no_key = Child("slow");
  EXPECT_NE(DelegateOk(no_key).task_id, DelegateOk(no_key).task_id);

  // Replayed once the task has finished: still that task, with its result.
  clock_.AdvanceMs(1000);
  DelegatedTask done = DelegateOk(call);
  EXPECT_EQ(done.task_id, first.task_id);
  EXPECT_EQ(done.state, "completed");
  EXPECT_EQ(done.result, "slow done");

  // The same key under another parent session is that session's own call.
  const std::string other_lead = LaunchOk(Req("lead"));
  DelegateRequest stranger = call;
  stranger.parent_session_id = ViewOf(other_lead).task.session_id;
  EXPECT_NE(DelegateOk(stranger).task_id, first.task_id);

  TaskFilter children;
  children.parent_session_id = lead_session_;
  auto listed = manager_->List(children);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 5u);  // first, b, c and the two without a key
}

// Replaying a continuation finds the task it started, although that task keeps the session busy.
TEST_F(EngineDelegatorTest, AReplayedContinuationFindsItsTaskInsteadOfTheBusySession) {
  Start();
  DelegatedTask first = DelegateOk(Child("fast"));
  clock_.AdvanceMs(100);
  DelegateRequest follow = FollowUp(first);
  follow.call_key = "5:call_f";
  DelegatedTask second = DelegateOk(follow);
  DelegatedTask replayed = DelegateOk(follow);
  EXPECT_EQ(replayed.task_id, second.task_id);
  EXPECT_EQ(replayed.session_id, first.session_id);
}

TEST_F(EngineDelegatorTest, TranscriptDecodesTheStoredMessages) {
  Start();
  DelegatedTask t = DelegateOk(Child("hang"));
  auto append = [&](const std::string& content) {
    MessageRecord m;
    m.session_id = t.session_id;
    m.task_id = t.task_id;
    m.role = "assistant";
    m.content = content;
    ASSERT_TRUE(manager_->AppendMessage(&m).ok());
  };
  ChatMessage call;
  call.role = ChatRole::kAssistant;
  call.text = "Looking.";
  call.tool_calls = {{"c1", "grep", R"({"pattern":"auth"})"}};
  append(EncodeStoredMessage(call));
  ChatMessage result;
  result.role = ChatRole::kTool;
  result.text = "src/a.cc:1";
  result.tool_call_id = "c1";
  result.tool_name = "grep";
  append(EncodeStoredMessage(result));
  append("{not json");
  auto text = delegator_->Transcript(t.session_id);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "## Session " + t.session_id +
                       " (4 messages)\n"
                       "\n"
                       "### 1. user\n"
                       "\n"
                       "hang\n"
                       "\n"
                       "### 2. assistant\n"
                       "\n"
                       "Looking.\n"
                       "\n"
                       "Tool calls:\n"
                       "- grep {\"pattern\":\"auth\"}\n"
                       "\n"
                       "### 3. tool: grep\n"
                       "\n"
                       "src/a.cc:1\n"
                       "\n"
                       "### 4. unreadable message\n"
                       "\n"
                       "(message 4: stored message: not valid JSON)");
  EXPECT_EQ(delegator_->Transcript("ses_nope").status().code(), StatusCode::kNotFound);
}

// The delegation tools over the real engine: what a lead agent sees, end to end.
TEST_F(EngineDelegatorTest, TheToolsOverTheEngine) {
  Start();
  ToolSet tools;
  ASSERT_TRUE(AddDelegationTools(&tools, delegator_.get()).ok());
  const ToolContext context = LeadToolContext();
  auto run = [&](const std::string& name, const nlohmann::json& args, int64_t advance_ms = 0) {
    std::optional<ToolResult> result;
    std::unique_ptr<ToolRun> r =
        (*tools.Lookup(name))->Start(args, context, [&](ToolResult x) { result = std::move(x); });
    EXPECT_FALSE(result.has_value()) << name << " answered inside Start";
    clock_.AdvanceMs(advance_ms);
    EXPECT_TRUE(result.has_value()) << name << " did not answer";
    return result.value_or(ToolResult::Error("<no answer>"));
  };

  ToolResult fast = run("delegate_task", {{"description", "Quick look"},
                                          {"prompt", "fast"},
                                          {"agent", "explore"},
                                          {"model", "mock/m"}});
  ASSERT_FALSE(fast.is_error) << fast.content;
  EXPECT_THAT(fast.content, StartsWith("Background task launched.\n\nTask ID: bg_"));
  EXPECT_THAT(fast.content, HasSubstr("\nStatus: running\n"));
  ToolResult slow = run("delegate_task",
                        {{"description", "Long look"}, {"prompt", "slow"}, {"agent", "explore"}});
  ASSERT_FALSE(slow.is_error) << slow.content;
  auto children = delegator_->Children(lead_session_);
  ASSERT_TRUE(children.ok());
  ASSERT_EQ(children->size(), 2u);
  const DelegatedTask first = (*children)[0];

  ToolResult waited = run("background_wait", nlohmann::json::object(), 1000);
  EXPECT_THAT(waited.content, StartsWith("All 2 tasks finished.\n")) << waited.content;
  ToolResult output = run("background_output", {{"task_id", first.task_id}});
  EXPECT_EQ(output.content, "Task Result\n\nTask ID: " + first.task_id +
                                "\nDescription: Quick look\nDuration: 100ms\nSession ID: " +
                                first.session_id + "\n\n---\n\nfast done");
  EXPECT_EQ(run("background_output", {{"task_id", first.task_id}}).content, output.content);
  EXPECT_EQ(run("background_cancel", {{"all", true}}).content,
            "No active background tasks to cancel.");

  // A foreground continuation answers with the result of the new task.
  ToolResult again = run("delegate_task",
                         {{"description", "Again"},
                          {"prompt", "fast"},
                          {"session_id", first.session_id},
                          {"background", false}},
                         100);
  EXPECT_THAT(again.content, StartsWith("Task Result\n"));
  EXPECT_THAT(again.content, HasSubstr("Session ID: " + first.session_id + "\n"));

  // Another session's task is out of reach.
  const std::string other = LaunchOk(Req("lead", "mock/lead"));
  ToolResult refused = run("background_output", {{"task_id", other}});
  EXPECT_TRUE(refused.is_error);
  EXPECT_THAT(refused.content, HasSubstr("among the tasks this session delegated"));
  ToolResult not_cancelled = run("background_cancel", {{"task_id", other}});
  EXPECT_TRUE(not_cancelled.is_error);
  EXPECT_EQ(StateOf(other), TaskState::kRunning);
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

// A lead that fans out 1,000 children through its delegate_task tool: the first 50 (the default
// spawn cap) start; every later call is a tool error the model can read, naming the cap.
TEST_F(EngineDelegatorTest, AThousandDelegationsStopAtTheSpawnCapWithToolErrors) {
  TaskManagerOptions options;
  options.limits.default_concurrency = 0;
  Start(options);
  ToolSet tools;
  ASSERT_TRUE(AddDelegationTools(&tools, delegator_.get()).ok());
  const ToolContext context = LeadToolContext();
  int launched = 0;
  std::vector<ToolResult> errors;
  for (int i = 0; i < 1000; ++i) {
    std::optional<ToolResult> result;
    std::unique_ptr<ToolRun> run = (*tools.Lookup("delegate_task"))
                                       ->Start({{"description", "child " + std::to_string(i)},
                                                {"prompt", "hang"},
                                                {"agent", "explore"},
                                                {"model", "mock/m"},
                                                {"max_tokens", 5000}},
                                               context,
                                               [&](ToolResult x) { result = std::move(x); });
    clock_.AdvanceMs(0);
    ASSERT_TRUE(result.has_value());
    if (result->is_error) {
      errors.push_back(*result);
    } else {
      ++launched;
    }
  }
  EXPECT_EQ(launched, 50);
  ASSERT_EQ(errors.size(), 950u);
  EXPECT_THAT(errors.front().content,
              HasSubstr("spawn cap reached: tree_max_tasks 50 for the tree of session " +
                        lead_session_ + ", and 50 tasks were already launched in it"));
  auto tree = manager_->TreeSpend(lead_session_);
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(tree->tasks, 51);
  EXPECT_EQ(tree->delegated, 50);
  EXPECT_EQ(tree->running, 51);
  // The children carry the budget the model asked for.
  auto children = delegator_->Children(lead_session_);
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(TaskBudgetOf(ViewOf(children->front().task_id).task).max_tokens, 5000);

  // A bad budget argument is a tool error naming it.
  std::optional<ToolResult> bad;
  auto run = (*tools.Lookup("delegate_task"))
                 ->Start({{"description", "d"}, {"prompt", "p"}, {"agent", "explore"},
                          {"max_cost_usd", -1}},
                         context, [&](ToolResult x) { bad = std::move(x); });
  clock_.AdvanceMs(0);
  ASSERT_TRUE(bad.has_value());
  EXPECT_TRUE(bad->is_error);
  EXPECT_THAT(bad->content, HasSubstr("`max_cost_usd` must be an amount of USD above 0"));
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

// delegate_task with isolation "worktree" while git is slow: git runs on the blocking executor
// (held here until the test lets it go), and the tool answers once the worktree exists.
class EngineDelegatorWorktreeTest : public EngineDelegatorTest {
 protected:
  void SetUp() override {
    testing::MakeGitRepo(repo_, {{"notes.txt", "one\n"}});
    TaskManagerOptions options;
    options.default_workspace = repo_;
    options.worktrees = &worktrees_;
    options.blocking = &held_;
    Start(std::move(options));
    ASSERT_TRUE(AddDelegationTools(&tools_, delegator_.get()).ok());
  }

  // The lead's tool `name` started with `args`; its answer lands in `*result` (the tools answer
  // on a later loop turn: this runs what is due now).
  std::unique_ptr<ToolRun> StartTool(const std::string& name, const nlohmann::json& args,
                                     std::optional<ToolResult>* result,
                                     const std::string& workspace = "") {
    ToolContext context = LeadToolContext();
    context.workspace_root = workspace.empty() ? repo_ : workspace;
    auto run = (*tools_.Lookup(name))->Start(args, context, [result](ToolResult x) { *result = x; });
    clock_.AdvanceMs(0);
    return run;
  }

  // Lets the oldest held git work run, and the loop turn that follows.
  void ReleaseGit() {
    held_.Release();
    clock_.AdvanceMs(0);
  }

  static nlohmann::json Isolated(const std::string& prompt, bool background = true) {
    return {{"description", "isolated " + prompt},
            {"prompt", prompt},
            {"agent", "explore"},
            {"isolation", "worktree"},
            {"background", background}};
  }

  std::vector<std::string> WorktreesLeft() {
    std::vector<std::string> left;
    const std::string root = dir_.File("data/worktrees");
    if (!std::filesystem::exists(root)) return left;
    for (const auto& entry : std::filesystem::directory_iterator(root))
      left.push_back(entry.path().string());
    return left;
  }

  std::string TroupeBranches() {
    Result<std::string> branches = RunGitOk(repo_, {"branch", "--list", "troupe/*"});
    EXPECT_TRUE(branches.ok());
    return branches.ok() ? *branches : "?";
  }

  testing::TestDir dir_;
  std::string repo_ = dir_.File("repo");
  Worktrees worktrees_{dir_.File("data/worktrees")};
  testing::HeldExecutor held_;
  ToolSet tools_;
};

TEST_F(EngineDelegatorWorktreeTest, TheEngineServesOthersWhileGitMakesADelegatedWorktree) {
  std::optional<ToolResult> isolated;
  std::unique_ptr<ToolRun> call = StartTool("delegate_task", Isolated("in my worktree"), &isolated);
  // git is held: no answer, no task, yet.
  EXPECT_FALSE(isolated.has_value());
  EXPECT_EQ(held_.held(), 1u);
  EXPECT_EQ(manager_->preparing_launches(), 1u);
  EXPECT_TRUE(delegator_->Children(lead_session_)->empty());

  // Meanwhile the lead delegates without isolation, that child runs and completes, and the
  // lead's other tools answer.
  std::optional<ToolResult> plain;
  auto plain_call =
      StartTool("delegate_task",
                {{"description", "Quick look"}, {"prompt", "fast"}, {"agent", "explore"}}, &plain);
  ASSERT_TRUE(plain.has_value());
  ASSERT_FALSE(plain->is_error) << plain->content;
  clock_.AdvanceMs(100);
  ASSERT_EQ(delegator_->Children(lead_session_)->size(), 1u);
  const std::string fast = delegator_->Children(lead_session_)->front().task_id;
  EXPECT_EQ(StateOf(fast), TaskState::kCompleted);
  std::optional<ToolResult> output;
  auto output_call = StartTool("background_output", {{"task_id", fast}}, &output);
  ASSERT_TRUE(output.has_value());
  EXPECT_THAT(output->content, HasSubstr("fast done"));
  EXPECT_FALSE(isolated.has_value());

  ReleaseGit();  // git made the worktree: now the task exists, and the tool answers
  ASSERT_TRUE(isolated.has_value());
  ASSERT_FALSE(isolated->is_error) << isolated->content;
  EXPECT_THAT(isolated->content, StartsWith("Background task launched.\n\nTask ID: bg_"));
  EXPECT_EQ(manager_->preparing_launches(), 0u);
  auto children = delegator_->Children(lead_session_);
  ASSERT_EQ(children->size(), 2u);
  // Its id was reserved when the launch began, so it sorts first.
  const std::string id = (*children)[0].task_id;
  EXPECT_EQ((*children)[1].task_id, fast);
  EXPECT_THAT(isolated->content, HasSubstr(id));
  EXPECT_EQ(StateOf(id), TaskState::kRunning);
  Result<TaskWorktree> w = ParseTaskWorktree(ViewOf(id).task.worktree_json);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->branch, "troupe/" + id);
  EXPECT_EQ(w->path, dir_.File("data/worktrees/" + id));
  EXPECT_TRUE(std::filesystem::exists(w->path + "/notes.txt"));
}

// A foreground delegation waits for the result after its set-up, as without isolation.
TEST_F(EngineDelegatorWorktreeTest, AForegroundIsolatedDelegationAnswersWithTheResult) {
  std::optional<ToolResult> answer;
  auto call = StartTool("delegate_task", Isolated("fast", false), &answer);
  EXPECT_FALSE(answer.has_value());
  ReleaseGit();
  EXPECT_FALSE(answer.has_value()) << "it waits for the task now";
  clock_.AdvanceMs(100);
  EXPECT_FALSE(answer.has_value()) << "its worktree is being finished";
  ReleaseGit();  // the finished task's clean-up, off the loop
  ASSERT_TRUE(answer.has_value());
  EXPECT_THAT(answer->content, StartsWith("Task Result\n"));
  EXPECT_THAT(answer->content, HasSubstr("fast done"));
  EXPECT_THAT(answer->content, HasSubstr("Worktree: branch troupe/"));
}

// A cancel during set-up — of the tool call alone, or of the calling task (which cancels what
// its session delegated) — starts no task and leaves neither a worktree nor a branch.
TEST_F(EngineDelegatorWorktreeTest, CancellingTheCallOrTheCallerDuringSetUpLeavesNothing) {
  std::optional<ToolResult> dropped;
  std::unique_ptr<ToolRun> dropped_call = StartTool("delegate_task", Isolated("dropped"), &dropped);
  std::optional<ToolResult> orphaned;
  std::unique_ptr<ToolRun> orphaned_call =
      StartTool("delegate_task", Isolated("orphaned"), &orphaned);
  EXPECT_EQ(manager_->preparing_launches(), 2u);
  dropped_call->Cancel();
  ASSERT_TRUE(manager_->Cancel(lead_).ok());
  EXPECT_EQ(StateOf(lead_), TaskState::kCancelled);
  held_.ReleaseAll();  // both worktrees made, then removed there too
  clock_.AdvanceMs(0);
  EXPECT_EQ(held_.held(), 0u);
  EXPECT_FALSE(dropped.has_value()) << "a cancelled call is not answered";
  ASSERT_TRUE(orphaned.has_value());
  EXPECT_TRUE(orphaned->is_error);
  EXPECT_THAT(orphaned->content, HasSubstr("were removed"));
  EXPECT_EQ(manager_->preparing_launches(), 0u);
  EXPECT_TRUE(delegator_->Children(lead_session_)->empty());
  EXPECT_EQ(WorktreesLeft(), std::vector<std::string>{});
  EXPECT_EQ(TroupeBranches(), "");
}

TEST_F(EngineDelegatorWorktreeTest, AFailedSetUpGivesTheModelGitsError) {
  const std::string plain_dir = dir_.File("plain");
  std::filesystem::create_directories(plain_dir);
  std::optional<ToolResult> refused;
  auto call = StartTool("delegate_task", Isolated("x"), &refused, plain_dir);
  EXPECT_FALSE(refused.has_value());
  held_.ReleaseAll();
  clock_.AdvanceMs(0);
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(refused->is_error);
  EXPECT_THAT(refused->content, StartsWith("delegate_task: "));
  EXPECT_THAT(refused->content, HasSubstr("not in a git repository"));
  EXPECT_TRUE(delegator_->Children(lead_session_)->empty());
  EXPECT_EQ(manager_->preparing_launches(), 0u);
}

}  // namespace
}  // namespace troupe
