#include "mock_llm/request_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace troupe {
namespace {

using json = nlohmann::json;

RequestLogEntry Entry(std::string path) {
  RequestLogEntry e;
  e.method = "POST";
  e.path = std::move(path);
  return e;
}

TEST(RequestLogTest, AssignsIdsAndKeepsTheNewestWithinCapacity) {
  RequestLog log(3);
  for (int i = 0; i < 5; ++i) log.Add(Entry("/" + std::to_string(i)));
  std::vector<RequestLogEntry> entries = log.Snapshot();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].id, 3u);
  EXPECT_EQ(entries[0].path, "/2");
  EXPECT_EQ(entries[2].id, 5u);
  EXPECT_EQ(entries[2].outcome, "in_progress");
}

TEST(RequestLogTest, EntriesAreUpdatedInPlaceAndClearForgetsThem) {
  RequestLog log;
  auto entry = log.Add(Entry("/v1/messages"));
  entry->status = 200;
  entry->outcome = "completed";
  EXPECT_EQ(log.Snapshot().at(0).outcome, "completed");
  log.Clear();
  EXPECT_EQ(log.size(), 0u);
  EXPECT_EQ(log.Add(Entry("/x"))->id, 2u);  // ids go on after a clear
}

TEST(RequestLogTest, ToJsonHasEveryField) {
  RequestLogEntry e = Entry("/v1/chat/completions");
  e.id = 7;
  e.connection = 2;
  e.protocol = "openai";
  e.model = "m";
  e.stream = true;
  e.marker = "t1";
  e.task = "bg_1";
  e.messages = 3;
  e.tools = {"read", "grep"};
  e.status = 200;
  e.first_byte_ms = 10;
  e.last_byte_ms = 20;
  e.deltas_sent = 5;
  e.outcome = "completed";
  const json j = ToJson(e);
  for (const char* key : {"id",
                          "connection",
                          "wall_ms",
                          "received_ms",
                          "method",
                          "path",
                          "protocol",
                          "model",
                          "stream",
                          "marker",
                          "task",
                          "messages",
                          "tools",
                          "status",
                          "first_byte_ms",
                          "last_byte_ms",
                          "head_received_us",
                          "first_write_us",
                          "last_write_us",
                          "deltas_sent",
                          "outcome",
                          "error"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["tools"], json::parse(R"(["read","grep"])"));
  EXPECT_EQ(j["marker"], "t1");
}

TEST(RequestLogTest, ConversationIsWrittenOnlyWhenKept) {
  RequestLogEntry e = Entry("/v1/messages");
  EXPECT_FALSE(ToJson(e).contains("conversation"));
  e.conversation = {{"system", "s"}, {"messages", json::array()}};
  EXPECT_EQ(ToJson(e)["conversation"]["system"], "s");
}

TEST(RequestLogTest, ConversationJsonShowsEveryMessageAsTheModelReadsIt) {
  ChatRequest request;
  request.system = "be brief";
  request.messages.push_back(UserMessage("find x"));
  ChatMessage call;
  call.role = ChatRole::kAssistant;
  call.text = "looking";
  call.reasoning = "hmm";
  call.tool_calls.push_back({"call_1", "grep", R"({"pattern":"x"})"});
  request.messages.push_back(call);
  request.messages.push_back(ToolResultMessage("call_1", "grep", "no match", /*is_error=*/true));
  ChatMessage answer;
  answer.role = ChatRole::kAssistant;
  answer.text = "none";
  request.messages.push_back(answer);

  EXPECT_EQ(ConversationJson(request), json::parse(R"({
    "system": "be brief",
    "messages": [
      {"role": "user", "text": "find x"},
      {"role": "assistant", "text": "looking", "reasoning": "hmm",
       "tool_calls": [{"id": "call_1", "name": "grep", "arguments": "{\"pattern\":\"x\"}"}]},
      {"role": "tool", "text": "no match", "tool_call_id": "call_1", "tool_name": "grep",
       "is_error": true},
      {"role": "assistant", "text": "none"}
    ]})"));
}

TEST(RequestLogTest, CompleteAppendsOneJsonLinePerRequest) {
  char path[] = "/tmp/troupe_request_log_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    RequestLog log(1);
    ASSERT_TRUE(log.OpenFile(path).ok());
    auto first = log.Add(Entry("/a"));
    auto second = log.Add(Entry("/b"));  // evicts the first from memory
    second->outcome = "completed";
    log.Complete(*second);
    first->outcome = "client_closed";
    log.Complete(*first);  // still written: the file does not depend on the ring
  }
  std::ifstream in(path);
  std::string line;
  std::vector<json> lines;
  while (std::getline(in, line)) lines.push_back(json::parse(line));
  unlink(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["path"], "/b");
  EXPECT_EQ(lines[0]["outcome"], "completed");
  EXPECT_EQ(lines[1]["path"], "/a");
  EXPECT_EQ(lines[1]["outcome"], "client_closed");
}

TEST(RequestLogTest, OpenFileFailsWithTheReason) {
  RequestLog log;
  Status s = log.OpenFile("/nonexistent-dir/log.jsonl");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("/nonexistent-dir/log.jsonl"));
}

}  // namespace
}  // namespace troupe
