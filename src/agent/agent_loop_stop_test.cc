// How the agent loop treats the ways a reply can end besides a final answer or tool calls: the
// output limit cutting text (continued) or a tool call (never run), refusals and content
// filters (the task fails in the provider's words), and the usage it reports.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent_loop.h"
#include "agent/message_codec.h"
#include "agent/testing/memory_history.h"
#include "core/fake_clock.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;

// Answers each request with the next scripted reply, on the next clock tick; records requests.
class ScriptedReplies : public Provider {
 public:
  explicit ScriptedReplies(Clock* clock) : clock_(clock) {}
  const std::string& name() const override { return name_; }

  class Call : public ChatCall {
   public:
    Call(Clock* clock, ChatResult reply, ChatCallbacks cb) : timer_(clock) {
      timer_.Start(0, [reply, cb] { cb.on_done(reply); });
    }
    void Cancel() override { timer_.Cancel(); }

   private:
    Timer timer_;
  };

  std::unique_ptr<ChatCall> Chat(ChatRequest request, ChatCallbacks callbacks) override {
    requests.push_back(request);
    ChatResult reply = replies.empty() ? Reply("(no more replies)", FinishReason::kStop, "stop")
                                       : replies.front();
    if (!replies.empty()) replies.pop_front();
    return std::make_unique<Call>(clock_, std::move(reply), std::move(callbacks));
  }

  static ChatResult Reply(std::string text, FinishReason finish, std::string raw) {
    ChatResult r;
    r.message.role = ChatRole::kAssistant;
    r.message.text = std::move(text);
    r.finish = finish;
    r.raw_finish_reason = std::move(raw);
    return r;
  }

  std::deque<ChatResult> replies;
  std::vector<ChatRequest> requests;

 private:
  Clock* clock_;
  std::string name_ = "scripted";
};

using testing::MemoryHistory;

// A tool that counts its runs.
class CountingTool : public Tool {
 public:
  CountingTool() {
    spec_.name = "write";
    spec_.input_schema = {{"type", "object"}};
  }
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json&, const ToolContext&,
                                 std::function<void(ToolResult)> done) override {
    ++runs;
    done(ToolResult::Ok("written"));
    return nullptr;
  }
  int runs = 0;

 private:
  ToolSpec spec_;
};

class AgentLoopStopTest : public ::testing::Test {
 protected:
  AgentLoopStopTest() : provider_(&clock_) {
    history_.sessions["ses_1"].push_back(UserMessage("Write the report."));
  }

  void RunToEnd(AgentLimits limits = {}) {
    AgentRunSpec spec;
    spec.session_id = "ses_1";
    spec.task_id = "bg_1";
    spec.workspace = "/ws";
    spec.provider = &provider_;
    spec.model_id = "m";
    spec.tools = {&tool_};
    spec.limits = limits;
    AgentLoopDeps deps{&clock_, &history_, nullptr, nullptr};
    AgentLoopCallbacks cb;
    cb.progress = [this](const AgentProgress& p) { input_tokens_ += p.input_tokens; };
    cb.finish = [this](Result<std::string> r) {
      ++finishes_;
      outcome_ = std::move(r);
    };
    loop_ = AgentLoop::Start(std::move(spec), deps, std::move(cb));
    for (int i = 0; i < 1000 && finishes_ == 0 && clock_.AdvanceToNextTimer(); ++i) {
    }
  }

  const std::vector<ChatMessage>& Messages() { return history_.sessions["ses_1"]; }

  FakeClock clock_;
  MemoryHistory history_;
  ScriptedReplies provider_;
  CountingTool tool_;
  std::unique_ptr<AgentLoop> loop_;
  int finishes_ = 0;
  int64_t input_tokens_ = 0;
  Result<std::string> outcome_ = Status::Internal("unfinished");
};

TEST_F(AgentLoopStopTest, CutTextIsContinuedAndTheAnswerJoined) {
  provider_.replies.push_back(ScriptedReplies::Reply("The report: par", FinishReason::kLength,
                                                     "max_tokens"));
  provider_.replies.push_back(ScriptedReplies::Reply("t one, part two.", FinishReason::kStop,
                                                     "end_turn"));
  RunToEnd();
  ASSERT_EQ(finishes_, 1);
  ASSERT_TRUE(outcome_.ok()) << outcome_.status().ToString();
  EXPECT_EQ(outcome_.value(), "The report: part one, part two.");
  ASSERT_EQ(provider_.requests.size(), 2u);
  const auto& m = Messages();
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[1].stop_reason, "max_tokens");  // stored with the message, for the transcript
  EXPECT_THAT(m[2].text, HasSubstr("cut off by the output limit"));
  EXPECT_EQ(m[3].stop_reason, "end_turn");
}

TEST_F(AgentLoopStopTest, TextCutEveryTimeFailsSayingWhichLimit) {
  for (int i = 0; i < 5; ++i) {
    provider_.replies.push_back(ScriptedReplies::Reply("more", FinishReason::kLength, "length"));
  }
  AgentLimits limits;
  limits.max_output_tokens = 512;
  limits.length_continuations = 2;
  RunToEnd(limits);
  ASSERT_EQ(finishes_, 1);
  ASSERT_FALSE(outcome_.ok());
  EXPECT_THAT(outcome_.status().message(), HasSubstr("output limit (512 tokens) 3 times"));
  EXPECT_EQ(provider_.requests.size(), 3u);
}

TEST_F(AgentLoopStopTest, ACutToolCallIsNeverRunNorKept) {
  ChatResult cut = ScriptedReplies::Reply("", FinishReason::kLength, "max_tokens");
  cut.message.tool_calls.push_back({"toolu_1", "write", R"({"path":"r.md","content":"Lor)"});
  provider_.replies.push_back(cut);
  AgentLimits limits;
  limits.max_output_tokens = 4096;
  RunToEnd(limits);
  ASSERT_EQ(finishes_, 1);
  ASSERT_FALSE(outcome_.ok());
  EXPECT_THAT(outcome_.status().message(),
              HasSubstr("output limit (4096 tokens) cut off the model's call of write"));
  EXPECT_EQ(tool_.runs, 0);
  ASSERT_EQ(Messages().size(), 2u);
  EXPECT_TRUE(Messages()[1].tool_calls.empty());  // a continued session cannot run it either
  EXPECT_EQ(Messages()[1].stop_reason, "max_tokens");
}

TEST_F(AgentLoopStopTest, ARefusalFailsInTheProvidersWords) {
  ChatResult refused = ScriptedReplies::Reply("", FinishReason::kRefusal, "stop");
  refused.message.refusal = "I'm sorry, I can't help with that.";
  provider_.replies.push_back(refused);
  RunToEnd();
  ASSERT_FALSE(outcome_.ok());
  EXPECT_EQ(outcome_.status().message(), "the model refused: I'm sorry, I can't help with that.");
  EXPECT_EQ(Messages().back().refusal, "I'm sorry, I can't help with that.");
}

TEST_F(AgentLoopStopTest, AContentFilterStopFails) {
  provider_.replies.push_back(
      ScriptedReplies::Reply("partial", FinishReason::kContentFilter, "content_filter"));
  RunToEnd();
  ASSERT_FALSE(outcome_.ok());
  EXPECT_THAT(outcome_.status().message(), HasSubstr("content filter"));
  EXPECT_THAT(outcome_.status().message(), HasSubstr("content_filter"));
}

TEST_F(AgentLoopStopTest, InputTokensCountCacheReadsAndWrites) {
  ChatResult r = ScriptedReplies::Reply("done", FinishReason::kStop, "end_turn");
  r.usage.input_tokens = 10;
  r.usage.cache_read_tokens = 3000;
  r.usage.cache_write_tokens = 500;
  provider_.replies.push_back(r);
  RunToEnd();
  ASSERT_TRUE(outcome_.ok());
  EXPECT_EQ(input_tokens_, 3510);
}

TEST_F(AgentLoopStopTest, RequestsCarryCachingAndReasoningSettings) {
  provider_.replies.push_back(ScriptedReplies::Reply("done", FinishReason::kStop, "end_turn"));
  provider_.replies.push_back(ScriptedReplies::Reply("done", FinishReason::kStop, "end_turn"));
  AgentLimits limits;
  limits.reasoning.budget_tokens = 2048;
  RunToEnd(limits);
  ASSERT_EQ(provider_.requests.size(), 1u);
  EXPECT_TRUE(provider_.requests[0].caching.enabled);
  EXPECT_EQ(provider_.requests[0].caching.key, "ses_1");
  EXPECT_EQ(provider_.requests[0].reasoning.budget_tokens, 2048);
  limits.prompt_caching = false;
  finishes_ = 0;
  RunToEnd(limits);
  ASSERT_EQ(provider_.requests.size(), 2u);
  EXPECT_FALSE(provider_.requests[1].caching.enabled);
  EXPECT_EQ(provider_.requests[1].caching.key, "");
}

}  // namespace
}  // namespace troupe
