// The agent loop: one task's run of a session. It sends the session's messages to the model,
// streams the reply, persists each finished message, runs the tools the model asked for (all
// calls of a turn concurrently), appends their results and goes round again, until a turn ends
// without tool calls — the final answer.
//
// It is an explicit state machine on the event loop (request in flight → tools in flight →
// next request), not a coroutine: every step is a callback from the provider, a tool or a
// Clock timer, so tests drive it deterministically with FakeClock and fakes.
//
// Around each turn:
//  - unseen notifications of the session's children are added first, as one user message
//    holding a <system-reminder> block (persisted, so a continuation sees what the model saw);
//  - a turn without tool calls while the session's todo list has unfinished items gets a
//    reminder message and another turn, at most `todo_reminders` times;
//  - limits end the run with a clear error: max_turns, max_tool_calls, the same tool with the
//    same arguments `loop_repeat_limit` times in a row;
//  - after each turn's tool results, the loop detector (agent/loop_detector.h) looks for the same
//    call with the same result repeated and for turns without progress: the first time it warns
//    the model (a <system-reminder> message naming the calls), the second time the run fails
//    naming which calls repeated and how often;
//  - a request that would exceed the model's context window has its oldest tool outputs
//    replaced by a marker (in the request only; the stored messages stay whole).
// Cancel aborts the model request and kills every tool run before it returns.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_host.h"
#include "agent/loop_detector.h"
#include "agent/tool.h"
#include "core/clock.h"
#include "core/host_pattern.h"
#include "core/secret_redactor.h"
#include "llm/provider.h"

namespace troupe {

struct AgentLimits {
  int max_turns = 50;
  int max_tool_calls = 150;
  int loop_repeat_limit = 20;
  // LoopThresholds (agent/loop_detector.h); 0 = that rule off.
  int loop_same_result_limit = LoopThresholds{}.repeat_limit;
  int loop_idle_turns = LoopThresholds{}.idle_turns;
  int todo_reminders = 3;
  int64_t context_window_tokens = 200'000;  // estimated as bytes / 4
  int max_output_tokens = 8192;
  std::optional<double> temperature;
  ReasoningSettings reasoning;
  bool prompt_caching = true;  // Anthropic breakpoints; OpenAI prompt_cache_key = the session
  // A text answer cut off by the output limit is continued (the model is asked to go on where
  // it stopped) at most this many times; then the task fails saying so.
  int length_continuations = 3;
};

struct AgentRunSpec {
  std::string session_id;
  std::string task_id;
  std::string workspace;  // absolute, canonical
  std::string system_prompt;
  Provider* provider = nullptr;
  std::string model_id;     // what the provider is asked for
  std::string task_prompt;  // the task's prompt, as stored in the session ("" = unknown)
  std::vector<Tool*> tools;
  AgentLimits limits;
  // For the tools (ToolContext): whether tool processes may use the network (nullopt = the
  // sandbox's default) and the agents delegate_task may start (nullopt = any).
  std::optional<NetworkAccess> network;
  std::optional<std::vector<std::string>> delegates_to;
};

struct AgentLoopDeps {
  Clock* clock = nullptr;
  SessionHistory* history = nullptr;
  BlockingExecutor* executor = nullptr;
  TodoList* todos = nullptr;  // the session's list; null = none
  // Tool results and the run's error pass through it before they are stored or reported;
  // null = none.
  const SecretRedactor* redactor = nullptr;
};

struct AgentLoopCallbacks {
  std::function<void(const AgentProgress&)> progress;
  // Once, last (not after Cancel): ok with the final answer, or the reason it failed.
  std::function<void(Result<std::string>)> finish;
  // Asked before each model request with the prompt's estimated size in tokens
  // (EstimatePromptTokens) and the request's max_tokens; an error ends the run with it, the
  // request unsent; else the max_tokens to ask for, which may only be lower (a budget that can
  // pay for less): the request's thinking budget is fitted below it. Unset = always, as built.
  std::function<Result<int>(int64_t estimated_prompt_tokens, int max_output_tokens)> admit_request;
  // Told, just before finish, when the run ends because a model request failed after the
  // provider's retries, with that request's error (its code says whether another model could
  // answer: kUnavailable or kDeadlineExceeded). Unset = not told.
  std::function<void(const Status& error)> model_request_failed;
};

class AgentLoop {
 public:
  // Starts from a later loop turn. All pointers in `spec` and `deps` must outlive the loop.
  // The session must already hold the prompt as its last message; a resumed run continues from
  // the last persisted message (running the tool calls that have no result yet).
  static std::unique_ptr<AgentLoop> Start(AgentRunSpec spec, AgentLoopDeps deps,
                                          AgentLoopCallbacks callbacks);
  virtual ~AgentLoop() = default;
  // Stops the run before returning; no callback afterwards. Destroying the loop also stops it.
  virtual void Cancel() = 0;
};

// The request the loop would send for `messages`, with the context rule above applied: exposed
// for tests and for `troupe show --request`.
ChatRequest BuildAgentRequest(const AgentRunSpec& spec, const std::vector<ChatMessage>& messages);
// The tokens a request of `messages` would send, estimated (system prompt, tool schemas, messages).
int64_t EstimatePromptTokens(const AgentRunSpec& spec, const std::vector<ChatMessage>& messages);

}  // namespace troupe
