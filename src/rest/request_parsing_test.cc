#include "rest/request_parsing.h"

#include <gtest/gtest.h>

#include <string>

#include "core/testing/test_dir.h"

namespace troupe {
namespace {

TEST(QuoteForErrorTest, QuotesShortStringsAndCutsLongOnes) {
  EXPECT_EQ(QuoteForError("abc"), "\"abc\"");
  EXPECT_EQ(QuoteForError("a\"b\n"), "\"a\\\"b\\n\"");
  const std::string quoted = QuoteForError(std::string(1000, 'x'));
  EXPECT_EQ(quoted, "\"" + std::string(kQuoteBytes, 'x') + "\"…");
  // Invalid UTF-8 never throws.
  EXPECT_EQ(QuoteForError("\xff"), "\"\xEF\xBF\xBD\"");
}

TEST(DefaultDescriptionTest, FirstLineCutToSixtyCharacters) {
  EXPECT_EQ(DefaultDescription("Map the tree\nand more"), "Map the tree");
  EXPECT_EQ(DefaultDescription("Windows line\r\nnext"), "Windows line");
  EXPECT_EQ(DefaultDescription(std::string(60, 'a')), std::string(60, 'a'));
  EXPECT_EQ(DefaultDescription(std::string(61, 'a')), std::string(57, 'a') + "...");
  // Characters, not bytes: 60 two-byte characters fit, 61 do not.
  std::string sixty;
  for (int i = 0; i < 60; ++i) sixty += "é";
  EXPECT_EQ(DefaultDescription(sixty), sixty);
  std::string cut;
  for (int i = 0; i < 57; ++i) cut += "é";
  EXPECT_EQ(DefaultDescription(sixty + "é"), cut + "...");
}

TEST(DefaultDescriptionTest, SkipsBlankAndMockDirectiveLines) {
  EXPECT_EQ(DefaultDescription("#mock latency=0 reply=x\n\n  Find the parser\nmore"),
            "  Find the parser");
  EXPECT_EQ(DefaultDescription("\r\n  #mock tps=0\r\nSecond\r\n"), "Second");
  // Nothing but directives: the first line, as it is.
  EXPECT_EQ(DefaultDescription("#mock reply=x\n#mock tps=0"), "#mock reply=x");
}

TEST(ContentTypeTest, AcceptsJsonOnly) {
  EXPECT_FALSE(CheckJsonContentType(""));
  EXPECT_FALSE(CheckJsonContentType("application/json"));
  EXPECT_FALSE(CheckJsonContentType("Application/JSON; charset=utf-8"));
  auto e = CheckJsonContentType("text/plain");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 415);
  EXPECT_EQ(e->code, "unsupported_media_type");
  EXPECT_EQ(e->expected, "application/json");
  EXPECT_EQ(e->got, "\"text/plain\"");
}

TEST(ParseJsonObjectTest, EmptyBadAndNonObjectBodies) {
  auto empty = ParseJsonObject("", true);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, "invalid_json");
  EXPECT_EQ(empty.error().message, "request body is empty; expected a JSON object");
  EXPECT_TRUE(ParseJsonObject("  ", false).ok());

  auto bad = ParseJsonObject("{\"prompt\": tru}", true);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().status, 400);
  EXPECT_EQ(bad.error().code, "invalid_json");
  EXPECT_NE(bad.error().message.find("at byte 15"), std::string::npos) << bad.error().message;
  EXPECT_EQ(bad.error().message.find("last read"), std::string::npos) << bad.error().message;

  // A huge unterminated string is not echoed back.
  auto long_bad = ParseJsonObject("{\"prompt\": \"" + std::string(100000, 'x'), true);
  ASSERT_FALSE(long_bad.ok());
  EXPECT_LT(long_bad.error().message.size(), 300u);

  auto array = ParseJsonObject("[1,2]", true);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.error().code, "invalid_argument");
  EXPECT_EQ(array.error().expected, "a JSON object");
  EXPECT_EQ(array.error().got, "array");

  auto deep = ParseJsonObject(std::string(100000, '[') + std::string(100000, ']'), true);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().code, "invalid_json");
}

TEST(ParseLaunchBodyTest, AllFields) {
  testing::TestDir dir;
  nlohmann::json body = {{"prompt", "Find the parser"},
                         {"agent", "explore"},
                         {"description", "parser"},
                         {"model", "mock/m"},
                         {"workspace", dir.path().string()},
                         {"owner", "cli"},
                         {"wait_ms", 5000}};
  auto p = ParseLaunchBody(body.dump());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->request.prompt, "Find the parser");
  EXPECT_EQ(p->request.agent, "explore");
  EXPECT_EQ(p->request.description, "parser");
  EXPECT_EQ(p->request.model, "mock/m");
  EXPECT_EQ(p->request.workspace, dir.path().string());
  EXPECT_EQ(p->request.owner, "cli");
  ASSERT_TRUE(p->wait_ms);
  EXPECT_EQ(*p->wait_ms, 5000);
}

TEST(ParseLaunchBodyTest, AModelListIsTheModelThenItsFallbacks) {
  auto p = ParseLaunchBody(R"({"prompt": "x", "model": ["mock/a", "mock/b", "openai/c"]})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->request.model, "mock/a");
  EXPECT_EQ(p->request.fallback_models, (std::vector<std::string>{"mock/b", "openai/c"}));
  auto one = ParseLaunchBody(R"({"prompt": "x", "model": ["mock/a"]})");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->request.model, "mock/a");
  EXPECT_TRUE(one->request.fallback_models.empty());

  for (const char* bad : {R"([])", R"(["mock/a", 3])", R"(["mock/a", " "])", R"({"a": 1})",
                          R"(["a/1","a/2","a/3","a/4","a/5","a/6","a/7","a/8","a/9"])"}) {
    auto e = ParseLaunchBody(std::string(R"({"prompt": "x", "model": )") + bad + "}");
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().field, "model") << bad;
    EXPECT_NE(e.error().message.find("a list of 1 to 8 of them"), std::string::npos)
        << e.error().message;
  }
}

TEST(ParseLaunchBodyTest, Defaults) {
  auto p = ParseLaunchBody(R"({"prompt": "Map the tree\nin detail", "model": null})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->request.agent, "general");
  EXPECT_EQ(p->request.owner, "api");
  EXPECT_EQ(p->request.description, "Map the tree");
  EXPECT_EQ(p->request.model, "");
  EXPECT_FALSE(p->wait_ms);

  // A continuation keeps its session's agent unless one is given.
  auto c = ParseLaunchBody(R"({"prompt": "more", "session_id": "ses_1"})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->request.agent, "");
  EXPECT_EQ(c->request.session_id, "ses_1");
}

TEST(ParseLaunchBodyTest, UnknownFieldIsNamedWithTheKnownOnes) {
  auto p = ParseLaunchBody(R"({"promt": "x"})");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().field, "promt");
  EXPECT_EQ(p.error().message,
            "promt: unknown field; expected one of prompt, agent, description, model, "
            "session_id, workspace, owner, wait_ms, max_tokens, max_cost_usd, tree_max_cost_usd, "
            "tree_max_tasks, isolation, base");
}

// http_api_fuzz found names with line ends breaking the one-line message: such a name is quoted
// there (the field keeps it as sent).
TEST(ParseLaunchBodyTest, UnknownFieldWithControlCharactersIsQuotedInTheMessage) {
  auto p = ParseLaunchBody(R"({"a\nb": "x"})");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().field, "a\nb");
  EXPECT_EQ(p.error().message.rfind(R"("a\nb": unknown field; expected one of prompt)", 0), 0u)
      << p.error().message;
  auto q = ParseWaitMs({{"wait\r", "1"}});
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().field, "wait\r");
  EXPECT_EQ(q.error().message, R"("wait\r": unknown query parameter; expected one of wait_ms)");
  auto none = ParseMessagesQuery({{"after", "1"}, {"x\ty", ""}});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message, R"("x\ty": unknown query parameter; expected one of after)");
}

TEST(ParseLaunchBodyTest, WorkspaceChecks) {
  testing::TestDir dir;
  const std::string file = dir.Write("f.txt", "x");
  auto rel = ParseLaunchBody(R"({"prompt": "x", "workspace": "src"})");
  ASSERT_FALSE(rel.ok());
  EXPECT_EQ(rel.error().field, "workspace");
  EXPECT_EQ(rel.error().expected, "an absolute path to an existing directory");
  auto missing =
      ParseLaunchBody(nlohmann::json{{"prompt", "x"}, {"workspace", dir.File("nope")}}.dump());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().expected, "an existing directory");
  auto not_dir = ParseLaunchBody(nlohmann::json{{"prompt", "x"}, {"workspace", file}}.dump());
  ASSERT_FALSE(not_dir.ok());
  EXPECT_EQ(not_dir.error().expected, "a directory");
  auto with_session = ParseLaunchBody(nlohmann::json{
      {"prompt", "x"},
      {"workspace", dir.path().string()},
      {"session_id", "s"}}.dump());
  ASSERT_FALSE(with_session.ok());
  EXPECT_EQ(with_session.error().field, "workspace");
}

TEST(ParseLaunchBodyTest, BudgetsAreReadAndBadOnesNamed) {
  auto p = ParseLaunchBody(
      R"({"prompt": "x", "max_tokens": 5000, "max_cost_usd": 0.5, "tree_max_cost_usd": 10,
          "tree_max_tasks": 20})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->request.max_tokens, 5000);
  EXPECT_EQ(p->request.max_cost_usd, 0.5);
  EXPECT_EQ(p->request.tree_max_cost_usd, 10.0);
  EXPECT_EQ(p->request.tree_max_tasks, 20);
  auto zero = ParseLaunchBody(R"({"prompt": "x", "max_cost_usd": 0})");
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().field, "max_cost_usd");
  EXPECT_EQ(zero.error().message,
            "max_cost_usd: expected an amount of USD > 0 (at most 1000000000), got 0");
  auto text = ParseLaunchBody(R"({"prompt": "x", "tree_max_cost_usd": "5"})");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().field, "tree_max_cost_usd");
  auto tokens = ParseLaunchBody(R"({"prompt": "x", "max_tokens": 0})");
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().message,
            "max_tokens: expected an integer from 1 to 1000000000000, got 0");
  auto continued = ParseLaunchBody(R"({"prompt": "x", "session_id": "ses_1", "tree_max_tasks": 3})");
  ASSERT_FALSE(continued.ok());
  EXPECT_EQ(continued.error().field, "tree_max_tasks");
}

TEST(ParseLaunchBodyTest, IsolationAndBaseAreReadAsTextForTheEngineToCheck) {
  auto p = ParseLaunchBody(R"({"prompt": "x", "isolation": "worktree", "base": "main~2"})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->request.isolation, "worktree");
  EXPECT_EQ(p->request.base, "main~2");
  auto number = ParseLaunchBody(R"({"prompt": "x", "isolation": 1})");
  ASSERT_FALSE(number.ok());
  EXPECT_EQ(number.error().field, "isolation");
  auto empty = ParseLaunchBody(R"({"prompt": "x", "base": ""})");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().field, "base");
}

TEST(ParseLaunchBodyTest, WaitMsRangeFollowsTheMaximum) {
  LaunchDefaults d;
  d.max_wait_ms = 100;
  EXPECT_TRUE(ParseLaunchBody(R"({"prompt": "x", "wait_ms": 100})", d).ok());
  auto p = ParseLaunchBody(R"({"prompt": "x", "wait_ms": 101})", d);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().expected, "an integer from 0 to 100");
  EXPECT_EQ(p.error().got, "101");
  auto huge = ParseLaunchBody(R"({"prompt": "x", "wait_ms": 18446744073709551615})", d);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().got, "18446744073709551615");
}

TEST(ParseWaitBodyTest, ValuesAndDefaults) {
  auto p = ParseWaitBody(R"({"task_ids": ["bg_1", "bg_2"]})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->task_ids, (std::vector<std::string>{"bg_1", "bg_2"}));
  EXPECT_EQ(p->mode, WaitMode::kAll);
  EXPECT_EQ(p->timeout_ms, 0);
  auto any = ParseWaitBody(R"({"task_ids": ["bg_1"], "mode": "any", "timeout_ms": 50})");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->mode, WaitMode::kAny);
  EXPECT_EQ(any->timeout_ms, 50);
  auto bad = ParseWaitBody(R"({"task_ids": ["bg_1", 2]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "task_ids[1]");
  EXPECT_EQ(bad.error().got, "number");
}

TEST(ParseCancelBodiesTest, OptionalAndRequiredBodies) {
  auto none = ParseCancelBody("");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->reason, "");
  auto reason = ParseCancelBody(R"({"reason": "changed my mind"})");
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(reason->reason, "changed my mind");

  auto all = ParseCancelAllBody(R"({"all": true, "owner": "cli"})");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->owner, "cli");
  auto empty = ParseCancelAllBody("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, "invalid_json");

  EXPECT_TRUE(ParseEmptyBody("").ok());
  EXPECT_TRUE(ParseEmptyBody("{}").ok());
  auto extra = ParseEmptyBody(R"({"now": true})");
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(extra.error().field, "now");
}

TEST(ParseTaskQueryTest, StatesActiveAndFilters) {
  auto p = ParseTaskQuery({{"status", "active,completed"},
                           {"parent", "ses_p"},
                           {"session", "ses_s"},
                           {"owner", "cli"},
                           {"limit", "10"}});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->states, (std::vector<TaskState>{TaskState::kPending, TaskState::kRunning,
                                               TaskState::kCompleted}));
  EXPECT_EQ(p->parent_session_id, "ses_p");
  EXPECT_EQ(p->session_id, "ses_s");
  EXPECT_EQ(p->owner, "cli");
  EXPECT_EQ(p->limit, 10);

  auto bad = ParseTaskQuery({{"status", "running,done"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "status");
  EXPECT_EQ(bad.error().got, "\"done\"");
  auto unknown = ParseTaskQuery({{"state", "running"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "state");
  EXPECT_EQ(unknown.error().expected, "one of status, parent, session, owner, root, before, order, limit");
  for (const char* limit : {"0", "100001", "ten", "5x", "-1", "+5", ""}) {
    auto l = ParseTaskQuery({{"limit", limit}});
    ASSERT_FALSE(l.ok()) << limit;
    EXPECT_EQ(l.error().field, "limit");
    EXPECT_EQ(l.error().expected, "an integer from 1 to 100000");
  }
}

TEST(ParseWaitMsTest, PresentAbsentAndBad) {
  auto none = ParseWaitMs({});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.value());
  auto some = ParseWaitMs({{"wait_ms", "250"}});
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some.value(), 250);
  auto bad = ParseWaitMs({{"wait_ms", "3600001"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().got, "\"3600001\"");
  EXPECT_FALSE(ParseWaitMs({{"wait", "1"}}).ok());
}

TEST(ParseMessagesQueryTest, After) {
  auto none = ParseMessagesQuery({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.value(), 0);
  auto some = ParseMessagesQuery({{"after", "3"}});
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some.value(), 3);
  auto bad = ParseMessagesQuery({{"after", "-1"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "after");
}

}  // namespace
}  // namespace troupe
