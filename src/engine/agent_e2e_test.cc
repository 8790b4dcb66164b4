// End to end, in one process but over real loopback HTTP: the TaskManager runs tasks with the
// real AgentLoopRunner — the built-in agents, the real tools on a fixture repository, the HTTP
// providers of both wire protocols — against the mock-llm server playing the scripted model.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/delegation_tools.h"
#include "agent/message_codec.h"
#include "agent/tool_executor.h"
#include "core/event_loop.h"
#include "core/testing/loop_runner.h"
#include "core/testing/test_dir.h"
#include "engine/agent_loop_runner.h"
#include "engine/engine_delegator.h"
#include "llm/mock_model.h"
#include "mock_llm/mock_llm_server.h"
#include "store/sqlite_store.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunLoopUntil;

class AgentE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write("src/auth/token_check.cc",
                "// Token checks.\n#include \"auth.h\"\n\nbool CheckToken(const Token& t) {\n"
                "  return !t.expired();\n}\n");
    repo_.Write("src/auth/auth.h",
                "#pragma once\nstruct Token { bool expired() const; };\n"
                "bool CheckToken(const Token& t);\n");
    repo_.Write("README.md", "# Fixture\nA repository for troupe's end-to-end tests.\n");
    repo_.Write(".gitignore", "build/\n");
    repo_.Write("build/generated.cc", "bool CheckToken(int junk);\n");

    MockModelOptions quick;
    quick.first_token_delay_ms = 0;
    quick.tokens_per_second = 0;
    model_ = std::make_unique<MockModel>(quick);
    auto server = MockLlmServer::Start(io_, &clock_, [this](const ChatRequest& r) {
      max_tokens_asked_.push_back(r.max_tokens);
      return model_->Plan(r);
    });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();

    Config config;
    ProviderConfig openai;
    openai.type = "openai";
    openai.base_url = server_->Url("/v1");
    openai.api_key_env = "E2E_KEY";
    config.providers["oa"] = openai;
    ProviderConfig anthropic;
    anthropic.type = "anthropic";
    anthropic.base_url = server_->Url("");
    anthropic.api_key_env = "E2E_KEY";
    anthropic.max_output_tokens["capped-model"] = 3000;
    config.providers["an"] = anthropic;
    ProviderDeps deps;
    deps.http = &http_;
    deps.clock = &clock_;
    deps.getenv = [](const std::string& name) -> std::optional<std::string> {
      if (name == "E2E_KEY") return "sk-e2e";
      return std::nullopt;
    };
    auto registry = ProviderRegistry::Create(config, std::move(deps));
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::move(registry).value();

    AgentCatalogOptions catalog;
    catalog.user_agents_dir = "";
    agents_ = LoadAgentCatalog(catalog);
    tools_ = ToolSet::BuiltIn();
    auto store = OpenSqliteStore(":memory:");
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
  }

  void TearDown() override { manager_.reset(); }

  // The engine, with the real runner; children default to `child_model` in a pool of 2.
  // `default_model` is how the daemon chose it (the notice depends on it).
  void Build(const std::string& child_model,
             DefaultModel default_model = {.source = DefaultModelSource::kConfig}) {
    default_model.model = child_model;
    AgentLoopRunnerDeps deps;
    deps.default_model = default_model;
    deps.clock = &clock_;
    deps.agents = &agents_;
    deps.providers = registry_.get();
    deps.tools = &tools_;
    deps.executor = &executor_;
    runner_ = std::make_unique<AgentLoopRunner>(deps);
    TaskManagerOptions options;
    options.default_model = child_model;
    options.default_workspace = repo_.path().string();
    options.limits.model_concurrency[child_model] = 2;
    options.prepare_launch = [this](LaunchRequest* r) { return runner_->PrepareLaunch(r); };
    options.check_model = [this](const std::string& m) { return registry_->Check(m); };
    options.wake_idle_parents = true;
    options.prices = prices_;
    manager_ = std::make_unique<TaskManager>(&clock_, store_.get(), runner_.get(), &ids_, options);
    runner_->Attach(manager_.get());
    delegator_ = std::make_unique<EngineDelegator>(manager_.get(), &clock_);
    ASSERT_TRUE(AddDelegationTools(&tools_, delegator_.get(), DelegableAgentsOf(agents_)).ok());
    ASSERT_TRUE(manager_->Recover().ok());
  }

  // A new engine on the same store (after Shutdown: a daemon's restart), which recovers.
  void Restart(const std::string& child_model) {
    delegator_.reset();
    manager_.reset();
    runner_.reset();
    tools_ = ToolSet::BuiltIn();
    Build(child_model);
  }

  TaskView Run(LaunchRequest request) {
    auto launched = manager_->Launch(request);
    EXPECT_TRUE(launched.ok()) << launched.status().ToString();
    if (!launched.ok()) return {};
    const std::string id = launched->task.id;
    EXPECT_TRUE(RunLoopUntil(
        io_, [&] { return IsFinal(manager_->Get(id)->task.state); }, std::chrono::seconds(30)));
    return manager_->Get(id).value();
  }

  // A task of the explore agent.
  static LaunchRequest Explore(std::string prompt) {
    LaunchRequest r;
    r.agent = "explore";
    r.prompt = std::move(prompt);
    r.description = "explore";
    r.owner = "test";
    return r;
  }

  std::vector<ChatMessage> Transcript(const std::string& session_id) {
    std::vector<ChatMessage> out;
    Result<std::vector<MessageRecord>> records = manager_->Messages(session_id);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    if (!records.ok()) return out;
    for (const MessageRecord& r : records.value()) {
      Result<ChatMessage> m = DecodeStoredMessage(r.content);
      EXPECT_TRUE(m.ok()) << m.status().ToString() << " in " << r.content;
      if (m.ok()) out.push_back(std::move(m).value());
    }
    return out;
  }

  testing::TestDir repo_;
  boost::asio::io_context io_;
  LoopClock clock_{io_};
  HttpClient http_{io_};
  ThreadPoolExecutor executor_{io_, 2};
  IdGenerator ids_{&clock_, 7};
  std::unique_ptr<MockModel> model_;
  std::vector<int> max_tokens_asked_;  // each request's max_tokens, as mock-llm decoded it
  std::unique_ptr<MockLlmServer> server_;
  std::unique_ptr<ProviderRegistry> registry_;
  AgentCatalog agents_;
  ToolSet tools_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AgentLoopRunner> runner_;
  std::unique_ptr<TaskManager> manager_;
  std::unique_ptr<EngineDelegator> delegator_;
  PriceTable prices_{{}, /*with_defaults=*/false};
};

TEST_F(AgentE2ETest, ResultsOfTheOfflineFallbackEndWithItsNoticeAndNoOtherResultDoes) {
  const DefaultModel offline{.source = DefaultModelSource::kOffline,
                             .key_envs = {"ANTHROPIC_API_KEY", "OPENAI_API_KEY"}};
  Build("mock/scripted", offline);
  LaunchRequest r;
  r.agent = "explore";
  r.prompt = "#mock latency=0 tps=0 reply=\"done\"\nSay done.";
  r.description = "offline";
  r.owner = "test";
  TaskView fallback = Run(r);
  ASSERT_EQ(fallback.task.state, TaskState::kCompleted) << fallback.task.error;
  EXPECT_EQ(fallback.task.model, "mock/scripted");
  DefaultModel chosen = offline;
  chosen.model = "mock/scripted";
  EXPECT_EQ(fallback.task.result, "done\n\n" + OfflineModelNotice(chosen));
  // The notice is troupe's, not the model's: the session keeps the model's words.
  std::vector<ChatMessage> t = Transcript(fallback.task.session_id);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.back().text, "done");

  // A model named on purpose, even another mock, gets no notice.
  r.model = "mock/other";
  TaskView named = Run(r);
  ASSERT_EQ(named.task.state, TaskState::kCompleted) << named.task.error;
  EXPECT_EQ(named.task.result, "done");
}

TEST_F(AgentE2ETest, AMockChosenInTheConfigGetsNoNotice) {
  Build("mock/scripted");  // source config
  LaunchRequest r;
  r.agent = "explore";
  r.prompt = "#mock latency=0 tps=0 reply=\"done\"\nSay done.";
  r.description = "configured";
  r.owner = "test";
  TaskView done = Run(r);
  ASSERT_EQ(done.task.state, TaskState::kCompleted) << done.task.error;
  EXPECT_EQ(done.task.result, "done");
}

// Anthropic interleaved thinking through the whole loop: the reply's signed and redacted blocks
// are stored with the message and sent back unchanged and in place on the next turn (mock-llm
// answers 400 otherwise, and the task would fail).
TEST_F(AgentE2ETest, AnthropicThinkingBlocksSurviveTheStoreAndGoBackUnchanged) {
  Build("an/scripted");
  TaskView done =
      Run(Explore("#mock latency=0 tps=0 signed_thinking tool=grep:{\"pattern\":\"CheckToken\"} "
                  "tool=glob:{\"pattern\":\"src/**\"} tool@2=read:{\"path\":\"src/auth/auth.h\"} "
                  "reply=\"found it\"\nWhere is CheckToken?"));
  ASSERT_EQ(done.task.state, TaskState::kCompleted) << done.task.error;
  EXPECT_EQ(done.task.result, "found it");
  std::vector<nlohmann::json> replays;
  for (const ChatMessage& m : Transcript(done.task.session_id)) {
    if (m.role == ChatRole::kAssistant) replays.push_back(m.provider_replay["anthropic"]);
  }
  EXPECT_THAT(replays, ::testing::ElementsAre(MockSignedThinking(1, 2), MockSignedThinking(2, 1),
                                              MockSignedThinking(3, 0)));
  EXPECT_EQ(server_->log().Snapshot().size(), 3u);
}

// The output limit a provider's config gives a model holds on the wire; a model the config does
// not list gets its family's documented maximum, capped.
class OutputLimitE2ETest : public AgentE2ETest,
                           public ::testing::WithParamInterface<std::pair<std::string, int>> {};

TEST_P(OutputLimitE2ETest, RequestsNeverAskAModelForMoreThanItsOutputLimit) {
  Build(GetParam().first);
  TaskView done = Run(Explore("#mock latency=0 tps=0 reply=\"done\"\nSay done."));
  ASSERT_EQ(done.task.state, TaskState::kCompleted) << done.task.error;
  EXPECT_THAT(max_tokens_asked_, ::testing::ElementsAre(GetParam().second));
}

INSTANTIATE_TEST_SUITE_P(Models, OutputLimitE2ETest,
                         ::testing::Values(std::pair<std::string, int>{"an/capped-model", 3000},
                                           std::pair<std::string, int>{"an/claude-3-haiku", 4096},
                                           std::pair<std::string, int>{"an/claude-sonnet-4-5",
                                                                       32000}));

class ExploreE2ETest : public AgentE2ETest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ExploreE2ETest, ExploreSearchesTheRepositoryAndAnswersWithRealFiles) {
  Build(GetParam() + "/scripted");
  LaunchRequest r;
  r.agent = "explore";
  r.prompt = "Where is CheckToken defined?";
  r.description = "find CheckToken";
  r.owner = "test";
  TaskView done = Run(r);
  ASSERT_EQ(done.task.state, TaskState::kCompleted) << done.task.error;
  EXPECT_THAT(done.task.result, HasSubstr("src/auth/token_check.cc"));
  EXPECT_THAT(done.task.result, Not(HasSubstr("build/generated.cc")));  // .gitignore holds

  // The transcript: the prompt, tool calls the model made, the real tools' output, the answer.
  std::vector<ChatMessage> t = Transcript(done.task.session_id);
  ASSERT_GE(t.size(), 4u);
  bool grep_ran = false;
  for (const ChatMessage& m : t) {
    if (m.role == ChatRole::kTool && m.tool_name == "grep") {
      grep_ran = true;
      EXPECT_THAT(m.text, HasSubstr("src/auth/token_check.cc:4:bool CheckToken"));
    }
  }
  EXPECT_TRUE(grep_ran);
  EXPECT_GE(done.task.turns, 2);
  EXPECT_GE(done.task.tool_calls, 2);
  auto log = server_->log().Snapshot();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log[0].protocol, GetParam() == "an" ? "anthropic" : "openai");
}

INSTANTIATE_TEST_SUITE_P(BothWireFormats, ExploreE2ETest, ::testing::Values("oa", "an"),
                         [](const auto& info) {
                           return info.param == "an" ? "Anthropic" : "OpenAi";
                         });

TEST_F(AgentE2ETest, LeadDelegatesThreeInParallelAndIsWokenOnceWithAllResults) {
  Build("oa/scripted");
  LaunchRequest r;
  r.agent = "lead";
  r.model = "an/lead";  // the lead's own pool is not the children's
  r.description = "coordinate";
  r.owner = "test";
  r.prompt =
      "#mock tool=delegate_task:{\"description\":\"find a\",\"prompt\":\"Where is CheckToken "
      "defined?\",\"agent\":\"explore\"} tool=delegate_task:{\"description\":\"find b\","
      "\"prompt\":\"What does the Token struct hold?\",\"agent\":\"explore\"} "
      "tool=delegate_task:{\"description\":\"find c\",\"prompt\":\"What is in the README?\","
      "\"agent\":\"explore\"} reply=\"I delegated three searches.\"\nInvestigate the auth code.";
  auto launched = manager_->Launch(r);
  ASSERT_TRUE(launched.ok()) << launched.status().ToString();
  const std::string lead_session = launched->task.session_id;

  // Run until the lead's session has a second (woken) task that is final.
  auto lead_tasks = [&] {
    TaskFilter f;
    f.session_id = lead_session;
    return manager_->List(f).value();
  };
  ASSERT_TRUE(RunLoopUntil(
      io_,
      [&] {
        auto tasks = lead_tasks();
        if (tasks.size() < 2) return false;
        for (const TaskView& v : tasks) {
          if (!IsFinal(v.task.state)) return false;
        }
        return true;
      },
      std::chrono::seconds(60)));

  auto tasks = lead_tasks();
  ASSERT_EQ(tasks.size(), 2u);  // the first turn, and one wake-up
  for (const TaskView& v : tasks) EXPECT_EQ(v.task.state, TaskState::kCompleted) << v.task.error;

  TaskFilter children_filter;
  children_filter.parent_session_id = lead_session;
  auto children = manager_->List(children_filter).value();
  ASSERT_EQ(children.size(), 3u);
  for (const TaskView& c : children) {
    EXPECT_EQ(c.task.state, TaskState::kCompleted) << c.task.error;
    EXPECT_EQ(c.task.agent, "explore");
    EXPECT_EQ(c.task.model, "oa/scripted");
  }

  std::vector<ChatMessage> t = Transcript(lead_session);
  // The three delegations ran in one turn; with a pool of 2 the third was queued.
  int delegate_results = 0, pending = 0;
  for (const ChatMessage& m : t) {
    if (m.role == ChatRole::kTool && m.tool_name == "delegate_task") {
      ++delegate_results;
      EXPECT_FALSE(m.is_error) << m.text;
      if (m.text.find("pending") != std::string::npos) ++pending;
    }
  }
  EXPECT_EQ(delegate_results, 3);
  EXPECT_EQ(pending, 1);
  // The wake-up prompt carried all three results at once.
  const TaskRecord& woken = tasks[0].task.id == launched->task.id ? tasks[1].task : tasks[0].task;
  EXPECT_THAT(woken.prompt, HasSubstr("find a"));
  EXPECT_THAT(woken.prompt, HasSubstr("find b"));
  EXPECT_THAT(woken.prompt, HasSubstr("find c"));
  EXPECT_TRUE(manager_->ClaimNotifications(lead_session).value().empty());
}

// A lead stopped while it waits on the child its delegate_task started (a restart: running
// tasks become interrupted and resume at the next start) replays that call when it resumes; the
// call finds the child it started and waits for it, instead of delegating a second one.
TEST_F(AgentE2ETest, AResumedLeadReplaysItsDelegationWithoutASecondChild) {
  Build("oa/scripted");
  const nlohmann::json child_args = {
      {"description", "slow search"},
      {"prompt", "#mock latency=1500ms reply=\"child done\"\nSearch slowly."},
      {"agent", "explore"},
      {"background", false}};  // the lead waits for the result
  LaunchRequest r;
  r.agent = "lead";
  r.model = "an/lead";
  r.description = "coordinate";
  r.owner = "test";
  r.prompt =
      "#mock tool=delegate_task:" + child_args.dump() + " reply=\"lead done\"\nDelegate and wait.";
  auto launched = manager_->Launch(r);
  ASSERT_TRUE(launched.ok()) << launched.status().ToString();
  const std::string lead_session = launched->task.session_id;
  auto children = [&] {
    TaskFilter f;
    f.parent_session_id = lead_session;
    return manager_->List(f).value();
  };
  ASSERT_TRUE(RunLoopUntil(
      io_,
      [&] {
        auto c = children();
        return c.size() == 1 && c[0].task.state == TaskState::kRunning;
      },
      std::chrono::seconds(30)));
  const std::string child = children()[0].task.id;

  // Restart the engine on the same store while the lead waits.
  manager_->Shutdown();
  ASSERT_EQ(manager_->Get(launched->task.id)->task.state, TaskState::kInterrupted);
  ASSERT_EQ(manager_->Get(child)->task.state, TaskState::kInterrupted);
  Restart("oa/scripted");

  ASSERT_TRUE(RunLoopUntil(
      io_, [&] { return IsFinal(manager_->Get(launched->task.id)->task.state); },
      std::chrono::seconds(30)));
  const TaskView lead = manager_->Get(launched->task.id).value();
  EXPECT_EQ(lead.task.state, TaskState::kCompleted) << lead.task.error;
  EXPECT_EQ(lead.task.attempt, 2);
  EXPECT_EQ(lead.task.result, "lead done");
  auto after = children();
  ASSERT_EQ(after.size(), 1u) << "delegated again on resume: " << after[1].task.id;
  EXPECT_EQ(after[0].task.id, child);
  EXPECT_EQ(after[0].task.state, TaskState::kCompleted) << after[0].task.error;
  EXPECT_EQ(after[0].task.result, "child done");
  // The replayed call answered with the child's result.
  int delegate_results = 0;
  for (const ChatMessage& m : Transcript(lead_session)) {
    if (m.role != ChatRole::kTool || m.tool_name != "delegate_task") continue;
    ++delegate_results;
    EXPECT_THAT(m.text, HasSubstr("child done"));
    EXPECT_THAT(m.text, HasSubstr(child));
  }
  EXPECT_EQ(delegate_results, 1);
}

// A task stopped by a restart in the middle of its tool calls resumes as the same task: its
// tool calls count on from what its session holds, so it ends at its cap (6), not at the calls
// it made before the restart plus another 6.
TEST_F(AgentE2ETest, ATaskInterruptedByARestartEndsAtItsToolCallCap) {
  AgentCatalogOptions catalog;
  catalog.user_agents_dir = "";
  catalog.overrides["explore"].max_tool_calls = 6;
  agents_ = LoadAgentCatalog(catalog);
  Build("oa/scripted");
  std::string script = "#mock latency=150ms tps=0";
  for (int turn = 1; turn <= 20; ++turn) {
    script += fmt::format(" tool@{}=grep:{{\"pattern\":\"Token{}\"}}", turn, turn);
  }
  LaunchRequest r = Explore(script + " reply=never\nSearch.");
  auto launched = manager_->Launch(r);
  ASSERT_TRUE(launched.ok()) << launched.status().ToString();
  const std::string id = launched->task.id;
  auto results = [&] {
    int n = 0;
    for (const ChatMessage& m : Transcript(launched->task.session_id)) {
      n += m.role == ChatRole::kTool ? 1 : 0;
    }
    return n;
  };
  ASSERT_TRUE(RunLoopUntil(
      io_, [&] { return results() >= 3; }, std::chrono::seconds(30)));
  const int before = results();
  ASSERT_LT(before, 6);

  manager_->Shutdown();
  ASSERT_EQ(manager_->Get(id)->task.state, TaskState::kInterrupted);
  Restart("oa/scripted");

  ASSERT_TRUE(RunLoopUntil(
      io_, [&] { return IsFinal(manager_->Get(id)->task.state); }, std::chrono::seconds(30)));
  const TaskView v = manager_->Get(id).value();
  EXPECT_EQ(v.task.state, TaskState::kError);
  EXPECT_THAT(v.task.error, HasSubstr("max tool calls (6) exceeded"));
  EXPECT_EQ(v.task.attempt, 2);
  EXPECT_EQ(results(), 6) << before << " calls ran before the restart";
}

TEST_F(AgentE2ETest, DelegateTaskListsTheCatalogsAgentsAndRefusesOthers) {
  Build("oa/scripted");
  Tool* delegate = tools_.Find("delegate_task");
  ASSERT_NE(delegate, nullptr);
  EXPECT_THAT(delegate->spec().description, HasSubstr("- explore: "));
  EXPECT_THAT(delegate->spec().description, HasSubstr("- oracle: "));
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

// The mock model reports usage as each wire protocol does (Anthropic: cache writes and reads
// beside the uncached input; OpenAI: cached tokens inside prompt_tokens, reasoning tokens, no
// cache writes); the task's totals are the sum of its requests and its cost the price table's,
// to the cent; a model without a price shows its tokens and "cost unknown".
TEST_F(AgentE2ETest, UsageOfEveryRequestIsChargedAsEachWireReportsIt) {
  prices_ = PriceTable(
      {{"an/priced", ModelPrice{3, 15, 3.75, 0.30}}, {"oa/priced", ModelPrice{2, 8, 2, 0.50}}},
      /*with_defaults=*/false);
  Build("an/priced");
  const std::string script =
      "#mock latency=0 tps=0 tool=read:{\"path\":\"README.md\"} reply=\"done\" "
      "usage=10000/2000/50000/4000/300\nRead the readme.";
  struct Case {
    std::string model;
    UsageTotals expected;
    std::string cost;
  };
  // Two requests each. Anthropic: 10k uncached + 4k written + 50k read = 64k prompt tokens;
  // $0.03 + $0.015 + $0.015 + 2k out $0.03 = $0.09 a request. OpenAI: prompt_tokens 60k of
  // which 50k cached; $0.02 + $0.025 + 2k out $0.016 = $0.061 a request.
  const std::vector<Case> cases = {
      {"an/priced", {2, 128'000, 4'000, 8'000, 100'000, 0, 180'000'000, 0}, "$0.1800"},
      {"oa/priced", {2, 120'000, 4'000, 0, 100'000, 600, 122'000'000, 0}, "$0.1220"},
      {"oa/unpriced", {2, 120'000, 4'000, 0, 100'000, 600, 0, 2}, "cost unknown"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.model);
    LaunchRequest r;
    r.agent = "explore";
    r.model = c.model;
    r.prompt = script;
    TaskView v = Run(r);
    ASSERT_EQ(v.task.state, TaskState::kCompleted) << v.task.error;
    UsageTotals usage = UsageOf(v.task);
    // Anthropic's wire has no reasoning token count: its thinking is part of output_tokens.
    EXPECT_EQ(usage, c.expected);
    EXPECT_EQ(FormatCost(usage), c.cost);
    Result<std::vector<ModelRequestRecord>> requests = manager_->ModelRequests(v.task.id);
    ASSERT_TRUE(requests.ok());
    UsageTotals sum;
    for (const ModelRequestRecord& request : *requests) sum += request.usage;
    EXPECT_EQ(sum, usage);
  }
}

// The estimate before each request prices the output it may write: a task whose budget cannot
// pay for the model's whole output limit asks for less (the request mock-llm decodes says so),
// and one that cannot pay for even a small reply sends nothing.
TEST_F(AgentE2ETest, ARequestAsksOnlyTheOutputItsBudgetCanPayFor) {
  prices_ = PriceTable({{"an/priced", ModelPrice{3, 15, 3.75, 0.30}}}, /*with_defaults=*/false);
  Build("an/priced");
  LaunchRequest r = Explore("#mock latency=0 tps=0 reply=\"done\" usage=100/10\nAnswer.");
  r.model = "an/priced";
  // The prompt (a few thousand tokens) costs about $0.01; the $0.04 left pays for ~2,000
  // output tokens at $15 per million, well under the model's 8,192.
  r.max_cost_usd = 0.05;
  TaskView v = Run(r);
  ASSERT_EQ(v.task.state, TaskState::kCompleted) << v.task.error;
  ASSERT_EQ(max_tokens_asked_.size(), 1u);
  EXPECT_LT(max_tokens_asked_[0], 8192);
  EXPECT_GE(max_tokens_asked_[0], kMinBudgetReplyTokens);

  max_tokens_asked_.clear();
  LaunchRequest poor = Explore("#mock latency=0 tps=0 reply=\"done\"\nAnswer.");
  poor.model = "an/priced";
  poor.max_cost_usd = 0.001;  // less than the prompt alone
  TaskView refused = Run(poor);
  ASSERT_EQ(refused.task.state, TaskState::kError);
  EXPECT_THAT(refused.task.error,
              HasSubstr("task budget would be passed by the next model request: max_cost_usd "
                        "$0.0010"));
  EXPECT_TRUE(max_tokens_asked_.empty());  // nothing was sent
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

// Fallback models over real HTTP: explore runs on oa/first (OpenAI wire) with an/second
// (Anthropic wire) as its fallback; the prompt's directive makes mock-llm fail the first
// `times` requests — all of the first model's attempts (3, the retry policy's default).
class FallbackE2ETest : public AgentE2ETest {
 protected:
  void BuildWithFallback() {
    AgentCatalogOptions catalog;
    catalog.user_agents_dir = "";
    catalog.overrides["explore"].model = "oa/first";
    catalog.overrides["explore"].fallback_models = std::vector<std::string>{"an/second"};
    agents_ = LoadAgentCatalog(catalog);
    Build("oa/first");
  }

  TaskView RunWith(const std::string& fault) {
    LaunchRequest r;
    r.agent = "explore";
    r.prompt = "#mock latency=0 tps=0 " + fault + " reply=\"answered\"\nAnswer.";
    r.description = "fallback";
    r.owner = "test";
    return Run(r);
  }

  std::vector<std::string> LedgerModels(const std::string& task_id) {
    std::vector<std::string> out;
    auto requests = manager_->ModelRequests(task_id);
    EXPECT_TRUE(requests.ok());
    if (requests.ok()) {
      for (const ModelRequestRecord& r : *requests) out.push_back(r.model);
    }
    return out;
  }
};

class FallbackFaultE2ETest : public FallbackE2ETest,
                             public ::testing::WithParamInterface<std::string> {};

TEST_P(FallbackFaultE2ETest, AFailureStillRetryableAfterTheRetriesContinuesOnTheNextModel) {
  BuildWithFallback();
  TaskView v = RunWith(GetParam() + " times=3");
  ASSERT_EQ(v.task.state, TaskState::kCompleted) << v.task.error;
  EXPECT_EQ(v.task.result, "answered");
  EXPECT_EQ(v.task.model, "an/second");  // the model that answered
  EXPECT_EQ(v.task.attempt, 2);
  EXPECT_THAT(LedgerModels(v.task.id), ::testing::ElementsAre("an/second"));
  auto attempts = store_->ListAttempts(v.task.id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0].outcome, "error");
  EXPECT_THAT((*attempts)[0].error, HasSubstr("(model oa/first); continuing on an/second"));
  // The same session: one prompt, then the second model's answer.
  std::vector<ChatMessage> t = Transcript(v.task.session_id);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.back().text, "answered");
}

INSTANTIATE_TEST_SUITE_P(Faults, FallbackFaultE2ETest,
                         ::testing::Values("fail=429 retry_after_ms=5", "fail=529 retry_after_ms=5",
                                           "fail=503 retry_after_ms=5", "drop_after=0"),
                         [](const auto& info) {
                           return std::string(info.param.substr(0, info.param.find('=')) == "fail"
                                                  ? "http" + info.param.substr(5, 3)
                                                  : "dropped_connection");
                         });

TEST_F(FallbackE2ETest, ABadRequestOrAnAuthErrorDoesNotFallBack) {
  BuildWithFallback();
  for (const std::string status : {"400", "401", "403"}) {
    TaskView v = RunWith("fail=" + status + " fail_message=\"refused " + status + "\" times=1");
    ASSERT_EQ(v.task.state, TaskState::kError) << status;
    EXPECT_THAT(v.task.error, HasSubstr("refused " + status));
    EXPECT_EQ(v.task.model, "oa/first") << status;
    EXPECT_EQ(v.task.attempt, 1) << status;
  }
}

TEST_F(FallbackE2ETest, ALaunchsOwnModelListFallsBackInItsOrder) {
  Build("oa/first");  // explore has no fallback of its own here
  LaunchRequest r;
  r.agent = "explore";
  r.model = "oa/first";
  r.fallback_models = {"an/second"};
  r.prompt = "#mock latency=0 tps=0 fail=529 retry_after_ms=5 times=3 reply=\"answered\"\nA.";
  TaskView v = Run(r);
  ASSERT_EQ(v.task.state, TaskState::kCompleted) << v.task.error;
  EXPECT_EQ(v.task.model, "an/second");
  EXPECT_EQ(v.task.attempt, 2);

  // Each model of the list must be known to the registry.
  LaunchRequest unknown = r;
  unknown.fallback_models = {"nope/model"};
  Result<TaskView> refused = manager_->Launch(unknown);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().field(), "model");
  EXPECT_THAT(refused.status().message(), HasSubstr("nope"));

  // A model named twice would be fallen back to again and again.
  LaunchRequest twice = r;
  twice.fallback_models = {"an/second", "an/second"};
  Result<TaskView> repeated = manager_->Launch(twice);
  ASSERT_FALSE(repeated.ok());
  EXPECT_EQ(repeated.status().field(), "model");
  EXPECT_THAT(repeated.status().message(), HasSubstr("\"an/second\" is named twice"));
}

// delegate_task's `model` as a list: the child runs on the first model and, when mock-llm
// answers its three attempts with 529, continues on the second; a list naming an unknown model
// is a tool error naming it, and no child is started for it.
TEST_F(FallbackE2ETest, AChildDelegatedWithAModelListFallsBackToItsSecondModel) {
  Build("oa/first");  // explore has no fallback of its own here
  const nlohmann::json good = {
      {"description", "overloaded search"},
      {"prompt",
       "#mock latency=0 tps=0 fail=529 retry_after_ms=5 times=3 reply=\"child answered\"\nFind."},
      {"agent", "explore"},
      {"model", {"oa/first", "an/second"}},
      {"background", false}};  // the lead's tool result is the child's result
  const nlohmann::json unknown = {{"description", "unknown model"},
                                  {"prompt", "Find."},
                                  {"agent", "explore"},
                                  {"model", {"oa/first", "nope/model"}}};
  LaunchRequest r;
  r.agent = "lead";
  r.model = "an/lead";
  r.description = "coordinate";
  r.owner = "test";
  r.prompt = "#mock tool=delegate_task:" + unknown.dump() + " tool=delegate_task:" + good.dump() +
             " reply=\"lead done\"\nDelegate.";
  TaskView lead = Run(r);
  ASSERT_EQ(lead.task.state, TaskState::kCompleted) << lead.task.error;

  TaskFilter f;
  f.parent_session_id = lead.task.session_id;
  std::vector<TaskView> children = manager_->List(f).value();
  ASSERT_EQ(children.size(), 1u);  // the unknown model's launch was refused
  const TaskRecord& child = children[0].task;
  EXPECT_EQ(child.state, TaskState::kCompleted) << child.error;
  EXPECT_EQ(child.result, "child answered");
  EXPECT_EQ(child.model, "an/second");  // the model that answered
  EXPECT_EQ(child.attempt, 2);
  EXPECT_THAT(LedgerModels(child.id), ::testing::ElementsAre("an/second"));
  auto attempts = store_->ListAttempts(child.id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_THAT((*attempts)[0].error, HasSubstr("(model oa/first); continuing on an/second"));

  int errors = 0, results = 0;
  for (const ChatMessage& m : Transcript(lead.task.session_id)) {
    if (m.role != ChatRole::kTool || m.tool_name != "delegate_task") continue;
    if (m.is_error) {
      ++errors;
      EXPECT_THAT(m.text, HasSubstr("delegate_task: model \"nope/model\""));
    } else {
      ++results;
      EXPECT_THAT(m.text, HasSubstr("child answered"));
    }
  }
  EXPECT_EQ(errors, 1);
  EXPECT_EQ(results, 1);
}

TEST_F(FallbackE2ETest, TheLastModelsFailureEndsTheTask) {
  BuildWithFallback();
  TaskView v = RunWith("fail=529 retry_after_ms=5 times=6");
  ASSERT_EQ(v.task.state, TaskState::kError);
  EXPECT_EQ(v.task.model, "an/second");
  EXPECT_EQ(v.task.attempt, 2);
  EXPECT_THAT(v.task.error, HasSubstr("529"));
}

}  // namespace
}  // namespace troupe
