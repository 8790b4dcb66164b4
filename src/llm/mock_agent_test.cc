#include "llm/mock_agent.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "llm/mock_tool_output.h"

namespace troupe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using json = nlohmann::json;

ToolSpec Tool(const std::string& name, json properties) {
  ToolSpec spec;
  spec.name = name;
  spec.input_schema = {{"type", "object"}, {"properties", std::move(properties)}};
  return spec;
}

// troupe's search tools with the argument schemas they declare.
std::vector<ToolSpec> SearchTools() {
  return {
      Tool("grep", {{"pattern", {{"type", "string"}}},
                    {"path", {{"type", "string"}}},
                    {"glob", {{"type", "string"}}},
                    {"ignore_case", {{"type", "boolean"}}}}),
      Tool("glob", {{"pattern", {{"type", "string"}}}, {"path", {{"type", "string"}}}}),
      Tool("read", {{"path", {{"type", "string"}}},
                    {"offset", {{"type", "integer"}}},
                    {"limit", {{"type", "integer"}}}}),
      Tool("list", {{"path", {{"type", "string"}}}}),
  };
}

ChatMessage Calls(std::vector<ToolCall> calls) {
  ChatMessage m;
  m.role = ChatRole::kAssistant;
  m.tool_calls = std::move(calls);
  return m;
}

ChatMessage Result(std::string id, std::string name, std::string text, bool error = false) {
  ChatMessage m;
  m.role = ChatRole::kTool;
  m.tool_call_id = std::move(id);
  m.tool_name = std::move(name);
  m.text = std::move(text);
  m.is_error = error;
  return m;
}

TEST(MockKeywordsTest, IdentifiersAndPhrasesFirstStopWordsDropped) {
  EXPECT_THAT(MockKeywords("Where is the retry policy implemented? Look at TaskManager and "
                           "sse_parser, \"head of line\" too."),
              ElementsAre("head of line", "TaskManager", "sse_parser", "retry", "policy"));
}

TEST(MockKeywordsTest, PathsGiveTheirBaseNames) {
  EXPECT_THAT(MockKeywords("explain src/llm/retry_policy.cc please"), ElementsAre("retry_policy"));
  EXPECT_THAT(MockKeywords("what does `Pool::TryAcquire` return"),
              ElementsAre("Pool::TryAcquire", "return"));
}

TEST(MockKeywordsTest, ShortWordsNumbersAndDuplicatesDropped) {
  EXPECT_THAT(MockKeywords("is it ok 42 times, Cache cache CACHE?"), ElementsAre("times", "Cache"));
  EXPECT_THAT(MockKeywords(""), IsEmpty());
  EXPECT_THAT(MockKeywords("?!"), IsEmpty());
}

TEST(MockKeywordsTest, AtMostEight) {
  EXPECT_EQ(MockKeywords("alpha bravo charlie delta echo foxtrot golf hotel india juliet").size(),
            8u);
}

TEST(MockToolOutputTest, GrepLines) {
  const MockToolOutput out =
      ReadMockToolOutput("src/a.cc:12:  int Retry() {\nsrc/a.cc:40:Retry();\nsrc/b.h:3:// retry\n");
  EXPECT_EQ(out.match_count, 3u);
  EXPECT_EQ(out.file_count, 2u);
  EXPECT_THAT(out.files, ElementsAre("src/a.cc", "src/b.h"));
  EXPECT_EQ(out.matches[0].line, 12);
  EXPECT_EQ(out.matches[0].text, "  int Retry() {");
}

TEST(MockToolOutputTest, GrepHeadingStyle) {
  const MockToolOutput out = ReadMockToolOutput("src/a.cc\n12:foo\n14: bar\n\nsrc/b.cc\n1:x\n");
  EXPECT_EQ(out.match_count, 3u);
  EXPECT_EQ(out.matches[1].path, "src/a.cc");
  EXPECT_EQ(out.matches[1].line, 14);
  EXPECT_EQ(out.matches[2].path, "src/b.cc");
}

TEST(MockToolOutputTest, BarePathsSkipDirectoriesAndProse) {
  const MockToolOutput out =
      ReadMockToolOutput("Found 3 files\nsrc/llm/\nsrc/llm/a.h\nREADME.md\n1.5\nhello world\n");
  EXPECT_THAT(out.files, ElementsAre("src/llm/a.h", "README.md"));
  EXPECT_THAT(out.first_lines, ElementsAre("Found 3 files", "1.5", "hello world"));
}

TEST(MockToolOutputTest, ReadWithLineNumbersFindsDeclarations) {
  const MockToolOutput out = ReadMockToolOutput(
      "     1\t// header\n     2\t#include <x>\n     3\tnamespace troupe {\n     4\t\n"
      "     5\tclass RetryPolicy {\n     6\t  int x;\n     7\t};\n");
  EXPECT_EQ(out.line_count, 7u);
  ASSERT_EQ(out.declarations.size(), 2u);
  EXPECT_EQ(out.declarations[0].line, 3);
  EXPECT_EQ(out.declarations[0].text, "namespace troupe {");
  EXPECT_EQ(out.declarations[1].line, 5);
  EXPECT_EQ(out.declarations[1].text, "class RetryPolicy {");
  EXPECT_THAT(out.first_lines, ElementsAre("// header", "#include <x>", "namespace troupe {"));
  EXPECT_EQ(out.match_count, 0u);
}

TEST(MockToolOutputTest, ReadWithoutNumbersAndMarkdownHeadings) {
  const MockToolOutput out = ReadMockToolOutput("# Title\ntext\n## Part\ndef go():\n");
  ASSERT_EQ(out.declarations.size(), 3u);
  EXPECT_EQ(out.declarations[2].line, 4);
  EXPECT_EQ(out.declarations[2].text, "def go():");
}

TEST(MockToolOutputTest, KeepsCountsBeyondWhatItKeeps) {
  std::string text;
  for (int i = 1; i <= 200; ++i)
    text += "f" + std::to_string(i % 70) + ".cc:" + std::to_string(i) + ":x\n";
  const MockToolOutput out = ReadMockToolOutput(text);
  EXPECT_EQ(out.match_count, 200u);
  EXPECT_EQ(out.matches.size(), kMockKeptItems);
  EXPECT_EQ(out.file_count, 70u);
  EXPECT_EQ(out.files.size(), kMockKeptItems);
}

TEST(MockAgentTest, FirstTurnSearchesInParallel) {
  ChatRequest request;
  request.tools = SearchTools();
  request.messages = {UserMessage("Where is the RetryPolicy defined and how is backoff computed?")};
  const MockAgentTurn turn = MockAgentNextTurn(request, request.messages[0].text);
  ASSERT_EQ(turn.tool_calls.size(), 2u);
  EXPECT_EQ(turn.tool_calls[0].name, "grep");
  EXPECT_EQ(json::parse(turn.tool_calls[0].arguments_json),
            json({{"pattern", "RetryPolicy|backoff|computed"}, {"ignore_case", true}}));
  EXPECT_EQ(turn.tool_calls[1].name, "glob");
  EXPECT_EQ(json::parse(turn.tool_calls[1].arguments_json),
            json({{"pattern", "**/*retry_policy*"}}));
  EXPECT_TRUE(turn.text.empty());
}

TEST(MockAgentTest, UsesOnlyDeclaredPropertiesAndOfferedNames) {
  ChatRequest request;
  request.tools = {Tool("Grep", {{"pattern", {{"type", "string"}}}, {"-i", {{"type", "boolean"}}}}),
                   Tool("bash", {{"command", {{"type", "string"}}}})};
  request.messages = {UserMessage("find \"a.b (c)\"")};
  const MockAgentTurn turn = MockAgentNextTurn(request, request.messages[0].text);
  ASSERT_EQ(turn.tool_calls.size(), 1u);
  EXPECT_EQ(turn.tool_calls[0].name, "Grep");
  EXPECT_EQ(json::parse(turn.tool_calls[0].arguments_json),
            json({{"pattern", "a\\.b \\(c\\)"}, {"-i", true}}));
}

TEST(MockAgentTest, SkipsToolsWhoseSchemaLacksTheArgument) {
  ChatRequest request;
  request.tools = {Tool("grep", {{"query", {{"type", "string"}}}}),
                   Tool("list", {{"path", {{"type", "string"}}}})};
  request.messages = {UserMessage("find the scheduler")};
  const MockAgentTurn turn = MockAgentNextTurn(request, request.messages[0].text);
  ASSERT_EQ(turn.tool_calls.size(), 1u);
  EXPECT_EQ(turn.tool_calls[0].name, "list");
  EXPECT_EQ(turn.tool_calls[0].arguments_json, "{}");
}

TEST(MockAgentTest, SecondRoundReadsTheFirstFileFound) {
  ChatRequest request;
  request.tools = SearchTools();
  request.messages = {
      UserMessage("where is the retry policy"),
      Calls({{"c1", "grep", R"({"pattern":"retry|policy"})"},
             {"c2", "glob", R"({"pattern":"**/*retry*"})"}}),
      Result("c1", "grep", "src/llm/retry_policy.h:57:struct RetryInput {\n"),
      Result("c2", "glob", "src/llm/retry_policy.cc\n"),
  };
  const MockAgentTurn turn = MockAgentNextTurn(request, request.messages[0].text);
  ASSERT_EQ(turn.tool_calls.size(), 1u);
  EXPECT_EQ(turn.tool_calls[0].name, "read");
  EXPECT_EQ(json::parse(turn.tool_calls[0].arguments_json),
            json({{"path", "src/llm/retry_policy.h"}}));
}

TEST(MockAgentTest, FinalAnswerSummarisesTheResults) {
  ChatRequest request;
  request.tools = SearchTools();
  request.messages = {
      UserMessage("where is the retry policy"),
      Calls({{"c1", "grep", R"({"pattern":"retry|policy"})"},
             {"c2", "glob", R"({"pattern":"**/*retry*"})"}}),
      Result("c1", "grep",
             "src/llm/retry_policy.h:57:struct RetryInput {\n"
             "src/llm/retry_policy.cc:12:RetryDecision DecideRetry(const RetryInput& in) {\n"),
      Result("c2", "glob", "src/llm/retry_policy.cc\nsrc/llm/retry_policy.h\n"),
      Calls({{"c3", "read", R"({"path":"src/llm/retry_policy.h"})"}}),
      Result("c3", "read", "1\t#pragma once\n2\t\n3\tnamespace troupe {\n4\tstruct RetryInput {\n"),
  };
  const MockAgentTurn turn = MockAgentNextTurn(request, request.messages[0].text);
  EXPECT_THAT(turn.tool_calls, IsEmpty());
  const std::string& text = turn.text;
  EXPECT_THAT(text, HasSubstr("offline mock model"));
  EXPECT_THAT(text, HasSubstr("`retry` and `policy`"));
  EXPECT_THAT(text, HasSubstr("grep `retry|policy`: 2 matching lines in 2 files"));
  EXPECT_THAT(text, HasSubstr("`src/llm/retry_policy.h:57`: `struct RetryInput {`"));
  EXPECT_THAT(text, HasSubstr("`src/llm/retry_policy.cc:12`: `RetryDecision DecideRetry("));
  EXPECT_THAT(text, HasSubstr("glob `**/*retry*`: 2 files: `src/llm/retry_policy.cc` and "
                              "`src/llm/retry_policy.h`"));
  EXPECT_THAT(text, HasSubstr("read `src/llm/retry_policy.h`: 4 lines; it defines:"));
  EXPECT_THAT(text, HasSubstr("line 4: `struct RetryInput {`"));
  EXPECT_THAT(text, HasSubstr("The most relevant file looks like `src/llm/retry_policy.h`"));
}

TEST(MockAgentTest, ReportsErrorsAndEmptyResults) {
  ChatRequest request;
  request.tools = SearchTools();
  request.messages = {
      UserMessage("find the frobnicator"),
      Calls({{"c1", "grep", R"({"pattern":"frobnicator"})"},
             {"c2", "glob", R"({"pattern":"**/*frobnicator*"})"}}),
      Result("c1", "grep", "regex parse error: unclosed group", /*error=*/true),
      Result("c2", "glob", ""),
  };
  const MockAgentTurn turn = MockAgentNextTurn(request, request.messages[0].text);
  ASSERT_THAT(turn.tool_calls, IsEmpty());  // nothing to read
  EXPECT_THAT(turn.text,
              HasSubstr("grep `frobnicator` failed: `regex parse error: unclosed group`"));
  EXPECT_THAT(turn.text, HasSubstr("glob `**/*frobnicator*`: nothing found."));
  EXPECT_THAT(turn.text, Not(HasSubstr("most relevant")));
}

TEST(MockAgentTest, DoesNotReadTwice) {
  ChatRequest request;
  request.tools = SearchTools();
  request.messages = {
      UserMessage("explain the pool"),
      Calls({{"c1", "read", R"({"path":"src/engine/pool.h"})"}}),
      Result("c1", "read", "src/engine/other.h\n"),
  };
  const MockAgentTurn turn = MockAgentNextTurn(request, request.messages[0].text);
  EXPECT_THAT(turn.tool_calls, IsEmpty());
  EXPECT_THAT(turn.text, HasSubstr("read `src/engine/pool.h`"));
}

TEST(MockAgentTest, NoToolsRestatesTheRequest) {
  ChatRequest request;
  request.messages = {UserMessage("Summarise   the\nTaskManager design")};
  const MockAgentTurn turn = MockAgentNextTurn(request, request.messages[0].text);
  EXPECT_THAT(turn.tool_calls, IsEmpty());
  EXPECT_THAT(turn.text, HasSubstr("(offline mock model) You asked: \"Summarise the TaskManager "
                                   "design\"."));
  EXPECT_THAT(turn.text, HasSubstr("`TaskManager` and `design`"));
  EXPECT_THAT(turn.text, HasSubstr("No search tools were offered"));
}

TEST(MockAgentTest, ToolChoiceNoneMeansNoTools) {
  ChatRequest request;
  request.tools = SearchTools();
  request.tool_choice = "none";
  request.messages = {UserMessage("find the scheduler")};
  EXPECT_THAT(MockAgentNextTurn(request, request.messages[0].text).tool_calls, IsEmpty());
}

TEST(MockAgentTest, NothingToSearchFor) {
  ChatRequest request;
  request.tools = SearchTools();
  request.messages = {UserMessage("hi")};
  const MockAgentTurn turn = MockAgentNextTurn(request, request.messages[0].text);
  EXPECT_THAT(turn.tool_calls, IsEmpty());
  EXPECT_THAT(turn.text, HasSubstr("no keywords"));
}

TEST(MockAgentTest, OnlyResultsAfterTheLastUserMessageCount) {
  ChatRequest request;
  request.tools = SearchTools();
  request.messages = {
      UserMessage("find alpha"),
      Calls({{"c1", "grep", R"({"pattern":"alpha"})"}}),
      Result("c1", "grep", "a.cc:1:alpha\n"),
      Calls({}),
      UserMessage("now find beta"),
  };
  const MockAgentTurn turn = MockAgentNextTurn(request, request.messages.back().text);
  ASSERT_FALSE(turn.tool_calls.empty());
  EXPECT_THAT(turn.tool_calls[0].arguments_json, HasSubstr("beta"));
  EXPECT_EQ(MockFirstMessageAfterPrompt(request), 5u);
}

TEST(MockFirstMessageAfterPromptTest, SystemRemindersAreNotThePrompt) {
  ChatRequest r;
  r.messages.push_back(UserMessage("find the parser"));
  ChatMessage assistant;
  assistant.role = ChatRole::kAssistant;
  assistant.text = "on it";
  r.messages.push_back(assistant);
  r.messages.push_back(UserMessage("  <system-reminder>\nchild done\n</system-reminder>\n"));
  EXPECT_EQ(MockFirstMessageAfterPrompt(r), 1u);
  EXPECT_TRUE(IsSystemReminder(r.messages[2]));
  r.messages.push_back(UserMessage("<system-reminder>x</system-reminder> and more"));
  EXPECT_EQ(MockFirstMessageAfterPrompt(r), 4u);
}

}  // namespace
}  // namespace troupe
