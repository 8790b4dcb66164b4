#include "agent/agent_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace troupe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using std::string_literals::operator""s;

constexpr char kPath[] = "/x/.troupe/agents/foo.md";

Result<AgentFile> Parse(const std::string& text, const std::string& path = kPath) {
  return ParseAgentFile(path, text, AgentOrigin::kProject);
}

// The error message of parsing `text`, or a failure when it parses.
std::string ErrorOf(const std::string& text, const std::string& path = kPath) {
  Result<AgentFile> r = Parse(text, path);
  if (r.ok()) {
    ADD_FAILURE() << "parsed without error:\n" << text;
    return "";
  }
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ParseAgentFileTest, ReadsEveryKeyAndTheBody) {
  Result<AgentFile> r = Parse(
      "---\n"
      "name: reviewer\n"
      "description: >\n"
      "  Reviews a diff\n"
      "  for bugs.\n"
      "model: anthropic/claude-opus-4-5\n"
      "tools: [read, grep, glob]\n"
      "max_turns: 12\n"
      "max_tool_calls: 40\n"
      "temperature: 0.25\n"
      "task_ttl_ms: 600000\n"
      "pending_ttl_ms: 1000\n"
      "stale_timeout_ms: 90000\n"
      "---\n"
      "\n"
      "You review code.\n"
      "\n"
      "Be brief.\n\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const AgentDefinition& d = r->definition;
  EXPECT_EQ(d.name, "reviewer");
  EXPECT_EQ(d.description, "Reviews a diff for bugs.");
  EXPECT_EQ(d.model, "anthropic/claude-opus-4-5");
  EXPECT_THAT(d.tools, ElementsAre("read", "grep", "glob"));
  EXPECT_EQ(d.max_turns, 12);
  EXPECT_EQ(d.max_tool_calls, 40);
  EXPECT_EQ(d.temperature, 0.25);
  EXPECT_EQ(d.task_ttl_ms, 600000);
  EXPECT_EQ(d.pending_ttl_ms, 1000);
  EXPECT_EQ(d.stale_timeout_ms, 90000);
  EXPECT_EQ(d.system_prompt, "You review code.\n\nBe brief.");
  EXPECT_EQ(d.source.origin, AgentOrigin::kProject);
  EXPECT_EQ(d.source.path, kPath);
  EXPECT_THAT(r->warnings, IsEmpty());
}

TEST(ParseAgentFileTest, DefaultsNameToolsAndLimits) {
  Result<AgentFile> r = Parse("---\ndescription: d\nmax_turns: 7\n---\nPrompt.\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->definition.name, "foo");
  EXPECT_EQ(r->definition.tools, DefaultFileAgentTools());
  EXPECT_FALSE(r->definition.AllowsTool("delegate_task"));
  EXPECT_EQ(r->definition.max_turns, 7);
  EXPECT_EQ(r->definition.max_tool_calls, 21);
  EXPECT_EQ(r->definition.model, "");
  EXPECT_EQ(r->definition.temperature, std::nullopt);
  EXPECT_EQ(r->definition.task_ttl_ms, std::nullopt);

  r = Parse("---\ndescription: d\n---\nPrompt.");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->definition.max_turns, kDefaultMaxTurns);
  EXPECT_EQ(r->definition.max_tool_calls, kDefaultMaxTurns * kToolCallsPerTurn);
}

TEST(ParseAgentFileTest, ToolsAsAListOrACommaSeparatedStringAreTheSame) {
  for (const char* tools : {"tools: [read, bash, read]", "tools: read, bash,read",
                            "tools: \"read , bash\"", "tools:\n  - read\n  - bash"}) {
    Result<AgentFile> r = Parse(std::string("---\ndescription: d\n") + tools + "\n---\nP\n");
    ASSERT_TRUE(r.ok()) << tools << ": " << r.status().ToString();
    EXPECT_THAT(r->definition.tools, ElementsAre("read", "bash")) << tools;
  }
  for (const char* none : {"tools: []", "tools: \"\""}) {
    Result<AgentFile> r = Parse(std::string("---\ndescription: d\n") + none + "\n---\nP\n");
    ASSERT_TRUE(r.ok()) << none;
    EXPECT_THAT(r->definition.tools, IsEmpty()) << none;
  }
}

TEST(ParseAgentFileTest, FallbackModelsAsAListOrACommaSeparatedString) {
  for (const char* models :
       {"fallback_models: [openai/gpt-5, opus]", "fallback_models: openai/gpt-5, opus",
        "fallback_models:\n  - openai/gpt-5\n  - opus"}) {
    Result<AgentFile> r = Parse(std::string("---\ndescription: d\nmodel: anthropic/claude\n") +
                                models + "\n---\nP\n");
    ASSERT_TRUE(r.ok()) << models << ": " << r.status().ToString();
    EXPECT_EQ(r->definition.model, "anthropic/claude");
    EXPECT_THAT(r->definition.fallback_models, ElementsAre("openai/gpt-5", "opus")) << models;
  }
  EXPECT_EQ(ErrorOf("---\ndescription: d\nfallback_models: [a/b, two words]\n---\nP\n"),
            std::string(kPath) +
                ":3: fallback_models: expected \"provider/model\" or a model alias for each "
                "entry");
  EXPECT_THAT(ErrorOf("---\ndescription: d\nfallback_models:\n  - a/b\n  - c/d\n  - a/b\n---\nP\n"),
              HasSubstr(":6: fallback_models: \"a/b\" is already in the agent's model list; each "
                        "model is tried once"));
  for (const char* header :
       {"model: a/b\nfallback_models: [c/d, a/b]", "fallback_models: [c/d, a/b]\nmodel: a/b"}) {
    EXPECT_THAT(ErrorOf(std::string("---\ndescription: d\n") + header + "\n---\nP\n"),
                HasSubstr(": fallback_models: \"a/b\" is the agent's model already; each model is "
                          "tried once"))
        << header;
  }
  EXPECT_THAT(ErrorOf("---\ndescription: d\nfallback_models: {a: b}\n---\nP\n"),
              HasSubstr(":3: fallback_models: expected a list of \"provider/model\" names or "
                        "aliases, got a mapping"));
}

TEST(ParseAgentFileTest, LoopThresholdsTakeZeroToTurnARuleOff) {
  Result<AgentFile> r = Parse("---\ndescription: d\nloop_repeats: 4\nloop_idle_turns: 0\n---\nP\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->definition.loop_repeats, 4);
  EXPECT_EQ(r->definition.loop_idle_turns, 0);
  Result<AgentFile> unset = Parse("---\ndescription: d\n---\nP\n");
  ASSERT_TRUE(unset.ok());
  EXPECT_FALSE(unset->definition.loop_repeats.has_value());
  EXPECT_EQ(ErrorOf("---\ndescription: d\nloop_repeats: -1\n---\nP\n"),
            std::string(kPath) +
                ":3: loop_repeats: expected a positive integer (0 = no check), got \"-1\"");
  EXPECT_EQ(ErrorOf("---\ndescription: d\nloop_idle_turns: 10001\n---\nP\n"),
            std::string(kPath) +
                ":3: loop_idle_turns: expected a positive integer up to 10000 (0 = no check), got "
                "\"10001\"");
}

TEST(ParseAgentFileTest, ReadsTheModelSettingsAndBudgets) {
  Result<AgentFile> r = Parse(
      "---\n"
      "description: d\n"
      "max_output_tokens: 16000\n"
      "thinking_budget: 8000\n"
      "reasoningEffort: high\n"
      "prompt_caching: false\n"
      "max_tokens: 2000000\n"
      "max_cost_usd: 2.5\n"
      "---\n"
      "P\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const AgentDefinition& d = r->definition;
  EXPECT_EQ(d.max_output_tokens, 16000);
  EXPECT_EQ(d.reasoning.budget_tokens, 8000);
  EXPECT_EQ(d.reasoning.effort, "high");
  EXPECT_FALSE(d.prompt_caching);
  EXPECT_EQ(d.max_tokens, 2000000);
  EXPECT_EQ(d.max_cost_usd, 2.5);
  EXPECT_THAT(r->warnings, IsEmpty());
  // Left out: the defaults.
  Result<AgentFile> plain = Parse("---\ndescription: d\n---\nP\n");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->definition.max_output_tokens, std::nullopt);
  EXPECT_EQ(plain->definition.reasoning, ReasoningSettings{});
  EXPECT_TRUE(plain->definition.prompt_caching);
  EXPECT_EQ(plain->definition.max_tokens, std::nullopt);
  EXPECT_EQ(plain->definition.max_cost_usd, std::nullopt);
}

TEST(ParseAgentFileTest, KeysCompareWithoutCaseOrSeparators) {
  Result<AgentFile> r =
      Parse("---\nDescription: d\nmaxTurns: 3\nmax-tool-calls: 4\nstaleTimeoutMs: 5\n---\nP\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->definition.max_turns, 3);
  EXPECT_EQ(r->definition.max_tool_calls, 4);
  EXPECT_EQ(r->definition.stale_timeout_ms, 5);
}

TEST(ParseAgentFileTest, IsolationIsWorktreeOrNone) {
  Result<AgentFile> isolated = Parse("---\ndescription: d\nisolation: worktree\n---\nP\n");
  ASSERT_TRUE(isolated.ok()) << isolated.status().ToString();
  EXPECT_EQ(isolated->definition.isolation, "worktree");
  Result<AgentFile> none = Parse("---\ndescription: d\nisolation: none\n---\nP\n");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->definition.isolation, "");
  EXPECT_EQ(ErrorOf("---\ndescription: d\nisolation: docker\n---\nP\n"),
            std::string(kPath) + ":3: isolation: expected none or worktree, got \"docker\"");
}

TEST(ParseAgentFileTest, UnknownKeysWarnWithTheirLineAndStillLoad) {
  Result<AgentFile> r = Parse("---\ndescription: d\ncolor: blue\nmax_turn: 3\n---\nPrompt\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->warnings.size(), 2u);
  EXPECT_EQ(r->warnings[0].severity, AgentDiagnostic::Severity::kWarning);
  EXPECT_EQ(r->warnings[0].file, kPath);
  EXPECT_EQ(r->warnings[0].message,
            std::string(kPath) +
                ":3: unknown key \"color\" is ignored (known keys: name, description, model, "
                "tools, max_turns, max_tool_calls, temperature, max_output_tokens, "
                "thinking_budget, reasoning_effort, prompt_caching, max_tokens, max_cost_usd, "
                "task_ttl_ms, pending_ttl_ms, stale_timeout_ms, fallback_models, loop_repeats, "
                "loop_idle_turns, isolation)");
  EXPECT_EQ(r->warnings[1].message, std::string(kPath) +
                                        ":4: unknown key \"max_turn\" is ignored (did you mean "
                                        "\"max_turns\"?)");
  EXPECT_EQ(r->definition.max_turns, kDefaultMaxTurns);
}

TEST(ParseAgentFileTest, AcceptsCrlfAByteOrderMarkAndRulesInTheBody) {
  Result<AgentFile> r =
      Parse("\xEF\xBB\xBF---\r\ndescription: d\r\n---  \r\nFirst.\r\n\r\n---\r\nAfter a rule.\r\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->definition.system_prompt, "First.\n\n---\nAfter a rule.");
}

TEST(ParseAgentFileTest, AnExplicitNameNeedNotMatchTheFileName) {
  Result<AgentFile> r = Parse("---\nname: other\ndescription: d\n---\nP", "/a/Bad Name.md");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->definition.name, "other");
}

// One bad value: the whole message, with the file and the line.
struct ErrorCase {
  std::string header;  // between the --- lines
  std::string message;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.header; }

class ParseAgentFileErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParseAgentFileErrorTest, NamesFileLineKeyExpectationAndValue) {
  const std::string text = "---\ndescription: d\n" + GetParam().header + "\n---\nPrompt.\n";
  EXPECT_EQ(ErrorOf(text), std::string(kPath) + ":" + GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Values, ParseAgentFileErrorTest,
    ::testing::Values(
        ErrorCase{"max_turns: many", "3: max_turns: expected a positive integer, got \"many\""},
        ErrorCase{"max_turns: 0", "3: max_turns: expected a positive integer, got \"0\""},
        ErrorCase{"max_turns: -2", "3: max_turns: expected a positive integer, got \"-2\""},
        ErrorCase{"max_turns: 2.5", "3: max_turns: expected a positive integer, got \"2.5\""},
        ErrorCase{"max_turns: [1]", "3: max_turns: expected a positive integer, got a list"},
        ErrorCase{"max_turns:", "3: max_turns: expected a positive integer, got nothing"},
        ErrorCase{"max_tool_calls: 100001",
                  "3: max_tool_calls: expected a positive integer up to 100000, got \"100001\""},
        ErrorCase{"max_tool_calls: 99999999999999999999999",
                  "3: max_tool_calls: expected a positive integer up to 100000, got "
                  "\"99999999999999999999999\""},
        ErrorCase{"temperature: hot", "3: temperature: expected a number from 0 to 2, got \"hot\""},
        ErrorCase{"temperature: 2.5", "3: temperature: expected a number from 0 to 2, got \"2.5\""},
        ErrorCase{"temperature: nan", "3: temperature: expected a number from 0 to 2, got \"nan\""},
        ErrorCase{"max_output_tokens: lots",
                  "3: max_output_tokens: expected a positive integer (tokens), got \"lots\""},
        ErrorCase{"max_output_tokens: 1000001",
                  "3: max_output_tokens: expected a positive integer up to 1000000 (tokens), got "
                  "\"1000001\""},
        ErrorCase{"thinking_budget: 512",
                  "3: thinking_budget: expected an integer from 1024 to 1000000 (tokens), got "
                  "\"512\""},
        ErrorCase{"thinking_budget: [1]",
                  "3: thinking_budget: expected an integer from 1024 to 1000000 (tokens), got a "
                  "list"},
        ErrorCase{"reasoning_effort: max",
                  "3: reasoning_effort: expected one of minimal, low, medium, high, got \"max\""},
        ErrorCase{"reasoning_effort:",
                  "3: reasoning_effort: expected one of minimal, low, medium, high, got nothing"},
        ErrorCase{"prompt_caching: sometimes",
                  "3: prompt_caching: expected true or false, got \"sometimes\""},
        ErrorCase{"max_tokens: 0",
                  "3: max_tokens: expected a positive integer (tokens), got \"0\""},
        ErrorCase{"max_cost_usd: 0",
                  "3: max_cost_usd: expected an amount of USD above 0, at most 1000000000, got "
                  "\"0\""},
        ErrorCase{"max_cost_usd: five",
                  "3: max_cost_usd: expected an amount of USD above 0, at most 1000000000, got "
                  "\"five\""},
        ErrorCase{"task_ttl_ms: soon",
                  "3: task_ttl_ms: expected a positive integer (milliseconds), got \"soon\""},
        ErrorCase{"pendingTtlMs: -1",
                  "3: pending_ttl_ms: expected a positive integer (milliseconds), got \"-1\""},
        ErrorCase{"model: two words",
                  "3: model: expected \"provider/model\" or a model alias, got \"two words\""},
        ErrorCase{"model: {a: b}",
                  "3: model: expected \"provider/model\" or a model alias, got a mapping"},
        ErrorCase{"name: Code Reviewer",
                  "3: name: agent name \"Code Reviewer\" may only contain lowercase letters a-z, "
                  "digits, '_' and '-'"},
        ErrorCase{"tools: {read: true}",
                  "3: tools: expected a list of tool names or a comma-separated string, got a "
                  "mapping (write [] for no tools)"},
        ErrorCase{"tools:",
                  "3: tools: expected a list of tool names or a comma-separated string, got "
                  "nothing (write [] for no tools)"},
        ErrorCase{"tools: [read, [grep]]", "3: tools: expected a tool name, got a list"},
        ErrorCase{
            "tools:\n  - read\n  - Grep",
            "5: tools: unknown tool \"Grep\" (did you mean \"grep\"?); valid tools: read, "
            "list, glob, grep, webfetch, edit, write, bash, todo_write, todo_read, delegate_task, "
            "background_output, background_wait, background_cancel"},
        ErrorCase{
            "tools: Read, websearch",
            "3: tools: unknown tool \"Read\" (did you mean \"read\"?); valid tools: read, "
            "list, glob, grep, webfetch, edit, write, bash, todo_write, todo_read, delegate_task, "
            "background_output, background_wait, background_cancel\n" +
                std::string(kPath) +
                ":3: tools: unknown tool \"websearch\"; valid tools: read, list, glob, grep, "
                "webfetch, edit, write, bash, todo_write, todo_read, delegate_task, "
                "background_output, background_wait, background_cancel"},
        ErrorCase{"description: again", "3: description: given twice (first on line 2)"},
        ErrorCase{"[a]: b", "3: a front-matter key must be a plain name, got a list"},
        ErrorCase{"tools: [read\nmodel: x",
                  "4: invalid YAML in the front-matter header: end of sequence flow not found"}));

TEST(ParseAgentFileTest, DescriptionIsRequiredAndOneLine) {
  EXPECT_EQ(ErrorOf("---\nname: a\n---\nP\n"),
            std::string(kPath) +
                ": description: required: one line saying what the agent is for (the lead reads "
                "it to choose an agent)");
  EXPECT_EQ(ErrorOf("---\ndescription: [a, b]\n---\nP\n"),
            std::string(kPath) + ":2: description: expected one line of text, got a list");
  EXPECT_EQ(ErrorOf("---\ndescription: \"  \"\n---\nP\n"),
            std::string(kPath) + ":2: description: expected one line of text, got \"  \"");
  EXPECT_THAT(ErrorOf("---\ndescription: " + std::string(2000, 'x') + "\n---\nP\n"),
              HasSubstr(":2: description: too long (2000 characters; at most 1024)"));
}

TEST(ParseAgentFileTest, RefusesAFileWithoutAClosedHeader) {
  const std::string expected_header = std::string(kPath) +
                                      ":1: expected a front-matter header: the file must begin "
                                      "with a line \"---\"";
  EXPECT_THAT(ErrorOf("You are an agent.\n"), StartsWith(expected_header));
  EXPECT_THAT(ErrorOf(""), StartsWith(expected_header));
  EXPECT_THAT(ErrorOf("\n---\ndescription: d\n---\nP"), StartsWith(expected_header));
  EXPECT_EQ(ErrorOf("---\ndescription: d\nPrompt without a closing line\n"),
            std::string(kPath) +
                ":1: the front-matter header opened here is never closed: add a line \"---\" "
                "after its last key");
}

TEST(ParseAgentFileTest, RefusesAnEmptyHeaderOrOneThatIsNotAMapping) {
  EXPECT_EQ(ErrorOf("---\n---\nP\n"),
            std::string(kPath) +
                ":1: the front-matter header is empty; it needs at least `description:`");
  EXPECT_EQ(ErrorOf("---\n# a comment\n---\nP\n"),
            std::string(kPath) +
                ":1: the front-matter header is empty; it needs at least `description:`");
  EXPECT_EQ(ErrorOf("---\n- a\n- b\n---\nP\n"),
            std::string(kPath) +
                ":2: the front-matter header must be YAML keys and values (description: ..., "
                "tools: ...), got a list");
  EXPECT_EQ(ErrorOf("---\njust text\n---\nP\n"),
            std::string(kPath) +
                ":2: the front-matter header must be YAML keys and values (description: ..., "
                "tools: ...), got \"just text\"");
}

TEST(ParseAgentFileTest, RefusesAnEmptyPrompt) {
  const std::string expected =
      std::string(kPath) +
      ": the system prompt is empty: write the agent's instructions below the closing \"---\" "
      "line";
  EXPECT_EQ(ErrorOf("---\ndescription: d\n---\n"), expected);
  EXPECT_EQ(ErrorOf("---\ndescription: d\n---"), expected);
  EXPECT_EQ(ErrorOf("---\ndescription: d\n---\n \n\t\n\n"), expected);
}

TEST(ParseAgentFileTest, RefusesAFileNameThatIsNoAgentName) {
  EXPECT_EQ(ErrorOf("---\ndescription: d\n---\nP", "/a/Code Reviewer.md"),
            "/a/Code Reviewer.md: the agent's name comes from the file name, and agent name "
            "\"Code Reviewer\" may only contain lowercase letters a-z, digits, '_' and '-': "
            "rename the file or set `name:` in the header");
  // A bad `name:` is the only error: the file name is not consulted.
  EXPECT_EQ(ErrorOf("---\nname: Bad\ndescription: d\n---\nP", "/a/Code Reviewer.md"),
            "/a/Code Reviewer.md:2: name: agent name \"Bad\" may only contain lowercase letters "
            "a-z, digits, '_' and '-'");
}

TEST(ParseAgentFileTest, RefusesBinaryText) {
  EXPECT_EQ(ErrorOf("---\ndescription: d\n---\nP\0Q\n"s),
            std::string(kPath) + ":4: contains a NUL byte; an agent file must be text");
  EXPECT_EQ(ErrorOf("---\ndescription: d\n---\nok\n\xFF\xFE\n"),
            std::string(kPath) + ":5: is not valid UTF-8; save the file as UTF-8");
}

TEST(ParseAgentFileTest, ListsEveryErrorOnItsOwnLine) {
  EXPECT_EQ(ErrorOf("---\nmax_turns: x\ntemperature: 9\n---\n"),
            std::string(kPath) + ":2: max_turns: expected a positive integer, got \"x\"\n" + kPath +
                ":3: temperature: expected a number from 0 to 2, got \"9\"\n" + kPath +
                ": description: required: one line saying what the agent is for (the lead reads "
                "it to choose an agent)\n" +
                kPath +
                ": the system prompt is empty: write the agent's instructions below the closing "
                "\"---\" line");
}

TEST(ParseAgentFileTest, DeepNestingIsAnErrorNotACrash) {
  const std::string text = "---\ndescription: " + std::string(100000, '[') + "\n---\nP\n";
  EXPECT_THAT(ErrorOf(text), HasSubstr("invalid YAML in the front-matter header"));
}

}  // namespace
}  // namespace troupe
