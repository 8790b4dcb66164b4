#include "agent/agent_loop.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "llm/model_limits.h"

namespace troupe {
namespace {

constexpr const char* kTodoReminder =
    "<system-reminder>\nYour todo list still has unfinished items:\n{}\nContinue with them, or "
    "update the list with todo_write if they are done or no longer needed. Then give your final "
    "answer.\n</system-reminder>";

// The start of kTodoReminder, by which a resumed run finds the reminders its task was given.
constexpr std::string_view kTodoReminderStart =
    "<system-reminder>\nYour todo list still has unfinished items:";

constexpr const char* kCutOffReminder =
    "<system-reminder>\nYour answer was cut off by the output limit. Continue exactly where it "
    "stopped, without repeating what you already wrote.\n</system-reminder>";

constexpr int64_t kToolHeartbeatMs = 30'000;

int64_t EstimateTokens(const ChatMessage& m) {
  size_t bytes = m.text.size() + m.reasoning.size() + 16;
  for (const ToolCall& c : m.tool_calls) bytes += c.name.size() + c.arguments_json.size() + 16;
  return int64_t(bytes / 4);
}

// The same call as the previous one: same tool, same arguments (compared as parsed JSON, so
// spacing differences do not hide a loop).
class LoopState : public std::enable_shared_from_this<LoopState> {
 public:
  LoopState(AgentRunSpec spec, AgentLoopDeps deps, AgentLoopCallbacks callbacks)
      : spec_(std::move(spec)),
        deps_(deps),
        callbacks_(std::move(callbacks)),
        step_(deps.clock),
        heartbeat_(deps.clock),
        detector_(
            LoopThresholds{spec_.limits.loop_same_result_limit, spec_.limits.loop_idle_turns}) {
    context_.workspace_root = spec_.workspace;
    context_.session_id = spec_.session_id;
    context_.task_id = spec_.task_id;
    context_.clock = deps_.clock;
    context_.executor = deps_.executor;
    context_.todos = deps_.todos;
    context_.network = spec_.network;
    context_.delegates_to = spec_.delegates_to;
  }

  void Begin() {
    std::weak_ptr<LoopState> weak = weak_from_this();
    step_.Start(0, [weak] {
      if (auto self = weak.lock()) self->Resume();
    });
  }

  void Cancel() {
    if (done_) return;
    done_ = true;
    step_.Cancel();
    heartbeat_.Cancel();
    if (chat_) chat_->Cancel();
    for (auto& run : runs_) {
      if (run) run->Cancel();
    }
    runs_.clear();
  }

 private:
  // Continues from what the session holds.
  void Resume() {
    Result<std::vector<ChatMessage>> loaded = deps_.history->Load(spec_.session_id);
    if (!loaded.ok()) return Fail(loaded.status().WithContext("loading the session"));
    history_ = std::move(loaded).value();
    if (history_.empty()) return Fail(Status::FailedPrecondition("the session has no prompt"));
    // A resumed run (after a restart, or on a fallback model) is the same task: it keeps the
    // task's counts, read again from the session — the store is their only record.
    detector_.Rebuild(history_, spec_.task_prompt);
    CountWhatTheTaskDid(TaskStartIndex(history_, spec_.task_prompt));
    const ChatMessage& last = history_.back();
    if (last.role == ChatRole::kAssistant && !last.tool_calls.empty()) {
      return StartTools(history_.size() - 1, last.tool_calls);  // interrupted before its tools ran
    }
    if (last.role == ChatRole::kTool) {
      // Interrupted while writing results: run the calls of the last assistant turn that have
      // no result yet, if any.
      std::vector<ToolCall> missing;
      for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
        if (it->role != ChatRole::kAssistant) continue;
        for (const ToolCall& c : it->tool_calls) {
          bool answered = false;
          for (auto r = history_.rbegin(); r != it; ++r) {
            answered = answered || (r->role == ChatRole::kTool && r->tool_call_id == c.id);
          }
          if (!answered) missing.push_back(c);
        }
        if (!missing.empty())
          return StartTools(static_cast<size_t>(history_.rend() - it - 1), missing);
        break;
      }
    }
    Request();
  }

  // The task's limits count from its prompt (history_[start - 1]): turns (the model's
  // persisted replies), tool calls, the same call in a row, todo reminders, and the text cut
  // by the output limit and continued since the last full reply — as OnReply and CutOff count
  // them while the run goes.
  void CountWhatTheTaskDid(size_t start) {
    for (size_t i = start; i < history_.size(); ++i) {
      const ChatMessage& m = history_[i];
      if (m.role == ChatRole::kUser && m.text.starts_with(kTodoReminderStart)) ++reminders_;
      if (m.role != ChatRole::kAssistant) continue;
      ++turns_;
      tool_calls_ += int(m.tool_calls.size());
      for (const ToolCall& c : m.tool_calls) {
        std::string signature = CanonicalCall(c);
        repeats_ = signature == last_signature_ ? repeats_ + 1 : 1;
        last_signature_ = std::move(signature);
      }
      const bool cut = i + 1 < history_.size() && history_[i + 1].role == ChatRole::kUser &&
                       history_[i + 1].text == kCutOffReminder;
      if (cut) {
        ++continuations_;
        cut_text_ += m.text;
      } else {
        continuations_ = 0;
        if (!m.tool_calls.empty()) cut_text_.clear();
      }
    }
  }

  void Request() {
    if (done_) return;
    if (turns_ >= spec_.limits.max_turns) {
      return Fail(Status::ResourceExhausted(
          fmt::format("max turns ({}) reached without a final answer", spec_.limits.max_turns)));
    }
    Result<std::vector<std::string>> notes = deps_.history->ClaimNotifications(spec_.session_id);
    if (!notes.ok()) return Fail(notes.status().WithContext("reading notifications"));
    if (!notes.value().empty()) {
      std::string text = "<system-reminder>\nBackground tasks you delegated have finished:\n";
      for (const std::string& line : notes.value()) text += "- " + line + "\n";
      text += "Use background_output with a task id to read a result.\n</system-reminder>";
      if (!Persist(UserMessage(std::move(text)))) return;
    }

    ChatRequest request = BuildAgentRequest(spec_, history_);
    output_limit_ = request.max_tokens;
    if (callbacks_.admit_request) {
      Result<int> admitted = callbacks_.admit_request(EstimatePromptTokens(spec_, request.messages),
                                                      request.max_tokens);
      if (done_) return;
      if (!admitted.ok()) return Fail(std::move(admitted).status());
      if (*admitted < request.max_tokens) {  // what the budget left can pay for
        const OutputTokens fitted =
            ChooseOutputTokens(spec_.model_id, *admitted, std::nullopt, request.reasoning);
        request.max_tokens = fitted.max_tokens;
        request.reasoning = fitted.reasoning;
        output_limit_ = request.max_tokens;
      }
    }
    std::weak_ptr<LoopState> weak = weak_from_this();
    ChatCallbacks cb;
    cb.on_bytes = [weak](int64_t n) {
      if (auto self = weak.lock(); self && !self->done_) {
        AgentProgress p;
        p.bytes = n;
        self->Report(p);
      }
    };
    cb.on_retry = [weak](const RetryNotice& notice) {
      if (auto self = weak.lock(); self && !self->done_) {
        AgentProgress p;
        p.note = fmt::format("retrying in {} ms: {}", notice.delay_ms, notice.reason);
        self->Report(p);
      }
    };
    cb.on_done = [weak](Result<ChatResult> reply) {
      if (auto self = weak.lock(); self && !self->done_) self->OnReply(std::move(reply));
    };
    chat_ = spec_.provider->Chat(std::move(request), std::move(cb));
  }

  void OnReply(Result<ChatResult> reply) {
    if (!reply.ok()) {
      if (callbacks_.model_request_failed) {
        auto keep = shared_from_this();
        callbacks_.model_request_failed(reply.status());
        if (done_) return;
      }
      return Fail(reply.status().WithContext("model request failed"));
    }
    ChatResult& r = reply.value();
    ++turns_;
    AgentProgress turn;
    turn.turns = 1;
    turn.requests = 1;
    turn.input_tokens = UsageInputTotal(r.usage);
    turn.output_tokens = r.usage.output_tokens;
    turn.cache_write_tokens = r.usage.cache_write_tokens;
    turn.cache_read_tokens = r.usage.cache_read_tokens;
    turn.reasoning_tokens = r.usage.reasoning_tokens;
    Report(turn);
    if (done_) return;
    ChatMessage message = std::move(r.message);
    message.role = ChatRole::kAssistant;
    if (message.stop_reason.empty()) message.stop_reason = r.raw_finish_reason;
    if (r.finish == FinishReason::kRefusal || r.finish == FinishReason::kContentFilter) {
      return Refused(std::move(message), r.finish);
    }
    if (r.finish == FinishReason::kLength) return CutOff(std::move(message));
    continuations_ = 0;
    std::vector<ToolCall> calls = message.tool_calls;
    std::string text = message.text;
    if (!Persist(std::move(message))) return;

    if (!calls.empty()) cut_text_.clear();  // what was continued was not the answer
    if (calls.empty()) {
      if (std::string open = UnfinishedTodos(); !open.empty()) {
        if (reminders_ < spec_.limits.todo_reminders) {
          ++reminders_;
          if (!Persist(UserMessage(fmt::format(fmt::runtime(kTodoReminder), open)))) {
            return;
          }
          return Request();
        }
      }
      return Finish(cut_text_ + text);
    }

    tool_calls_ += int(calls.size());
    if (tool_calls_ > spec_.limits.max_tool_calls) {
      return Fail(Status::ResourceExhausted(
          fmt::format("max tool calls ({}) exceeded", spec_.limits.max_tool_calls)));
    }
    for (const ToolCall& c : calls) {
      std::string signature = CanonicalCall(c);
      repeats_ = signature == last_signature_ ? repeats_ + 1 : 1;
      last_signature_ = std::move(signature);
      if (repeats_ >= spec_.limits.loop_repeat_limit) {
        return Fail(Status::ResourceExhausted(
            fmt::format("loop detected: {} was called {} times in a row with the same arguments",
                        c.name, repeats_)));
      }
    }
    StartTools(history_.size() - 1, calls);
  }

  // The provider refused, or its filter stopped the answer: the task fails in the provider's
  // words, with what the model did say kept in the session.
  void Refused(ChatMessage message, FinishReason finish) {
    std::string why = finish == FinishReason::kRefusal
                          ? fmt::format("the model refused: {}",
                                        message.refusal.empty() ? message.text : message.refusal)
                          : fmt::format(
                                "the provider's content filter stopped the answer "
                                "(finish reason \"{}\")",
                                message.stop_reason);
    message.tool_calls.clear();  // never run a call from a refused reply
    if (!Persist(std::move(message))) return;
    Fail(Status::FailedPrecondition(std::move(why)));
  }

  // The output limit cut the reply. A cut tool call's input is incomplete: it is neither run nor
  // kept (a continuation of the session must not run it either), and the task fails saying
  // which call and which limit. Cut text is continued, a few times, then fails the same way.
  void CutOff(ChatMessage message) {
    const std::string limit =
        output_limit_ < spec_.limits.max_output_tokens
            ? fmt::format("{} tokens, lowered from {} to fit the task's budget", output_limit_,
                          spec_.limits.max_output_tokens)
            : fmt::format("{} tokens", spec_.limits.max_output_tokens);
    if (!message.tool_calls.empty()) {
      const std::string name = message.tool_calls.back().name;
      message.tool_calls.clear();
      if (!Persist(std::move(message))) return;
      return Fail(Status::ResourceExhausted(fmt::format(
          "the output limit ({}) cut off the model's call of {}: its input is incomplete, "
          "so it was not run; raise max_output_tokens for this model or agent",
          limit, name)));
    }
    if (continuations_ >= spec_.limits.length_continuations) {
      if (!Persist(std::move(message))) return;
      return Fail(Status::ResourceExhausted(
          fmt::format("the answer was cut off by the output limit ({}) {} times in a row; raise "
                      "max_output_tokens for this model or agent",
                      limit, continuations_ + 1)));
    }
    ++continuations_;
    cut_text_ += message.text;
    if (!Persist(std::move(message))) return;
    if (!Persist(UserMessage(kCutOffReminder))) return;
    Request();
  }

  // Runs `calls` of the assistant message at `message_index` in history_.
  void StartTools(size_t message_index, const std::vector<ToolCall>& calls) {
    pending_calls_ = calls;
    results_.assign(calls.size(), std::nullopt);
    runs_.clear();
    runs_.resize(calls.size());
    std::weak_ptr<LoopState> weak = weak_from_this();
    for (size_t i = 0; i < calls.size(); ++i) {
      const ToolCall& call = calls[i];
      AgentProgress started;
      started.tool_calls = 1;
      started.tool = call.name;
      Report(started);
      if (done_) return;
      Tool* tool = FindTool(call.name);
      auto deliver = [weak, i](ToolResult result) {
        if (auto self = weak.lock(); self && !self->done_) self->OnToolDone(i, std::move(result));
      };
      if (tool == nullptr) {
        deliver(ToolResult::Error(fmt::format("unknown tool \"{}\"; the tools you have are: {}",
                                              call.name, ToolNames())));
        continue;
      }
      nlohmann::json args = call.arguments_json.empty()
                                ? nlohmann::json::object()
                                : nlohmann::json::parse(call.arguments_json, nullptr, false);
      if (args.is_discarded()) {
        deliver(ToolResult::Error(fmt::format(
            "{}: the arguments are not valid JSON; send a JSON object matching the tool's schema",
            call.name)));
        continue;
      }
      ToolContext context = context_;
      if (!call.id.empty()) context.call_key = fmt::format("{}:{}", message_index, call.id);
      runs_[i] = tool->Start(args, context, deliver);
    }
    if (!done_ && !pending_calls_.empty()) Heartbeat();
  }

  // Tools bound their own time (bash and the waits have time limits), and a lead waiting for its
  // children receives nothing from its provider meanwhile: while tools run, the loop reports
  // that it is alive so the engine's stale timer does not take waiting for working.
  void Heartbeat() {
    std::weak_ptr<LoopState> weak = weak_from_this();
    heartbeat_.Start(kToolHeartbeatMs, [weak] {
      auto self = weak.lock();
      if (!self || self->done_ || self->pending_calls_.empty()) return;
      AgentProgress p;
      p.note = "waiting for " + self->pending_calls_.front().name;
      self->Report(p);
      if (!self->done_) self->Heartbeat();
    });
  }

  void OnToolDone(size_t i, ToolResult result) {
    if (i >= results_.size() || results_[i]) return;
    results_[i] = std::move(result);
    for (const auto& r : results_) {
      if (!r) return;
    }
    // All calls of the turn answered: persist the results in call order, then the next turn.
    heartbeat_.Cancel();
    runs_.clear();
    std::vector<ToolCall> calls = std::move(pending_calls_);
    std::vector<std::optional<ToolResult>> results = std::move(results_);
    std::vector<LoopDetector::CallResult> turn;
    for (size_t k = 0; k < calls.size(); ++k) {
      ChatMessage m;
      m.role = ChatRole::kTool;
      m.tool_call_id = calls[k].id;
      m.tool_name = calls[k].name;
      m.text = Redact(std::move(results[k]->content));
      m.is_error = results[k]->is_error;
      turn.push_back({calls[k], m.text, m.is_error});
      if (!Persist(std::move(m))) return;
    }
    const LoopDetector::Outcome loop = detector_.OnTurn(turn);
    if (loop.verdict == LoopDetector::Verdict::kLoop) {
      return Fail(Status::ResourceExhausted(loop.message));
    }
    if (loop.verdict == LoopDetector::Verdict::kWarn) {
      AgentProgress warned;
      warned.note = "loop warning: " + loop.message;
      Report(warned);
      if (done_) return;
      if (!Persist(UserMessage("<system-reminder>\n" + loop.message + "\n</system-reminder>"))) {
        return;
      }
    }
    // From a fresh loop turn: a tool that answered synchronously must not recurse into the
    // next request from inside StartTools.
    std::weak_ptr<LoopState> weak = weak_from_this();
    step_.Start(0, [weak] {
      if (auto self = weak.lock(); self && !self->done_) self->Request();
    });
  }

  Tool* FindTool(const std::string& name) const {
    for (Tool* t : spec_.tools) {
      if (t->spec().name == name) return t;
    }
    return nullptr;
  }

  std::string ToolNames() const {
    std::string out;
    for (Tool* t : spec_.tools) out += (out.empty() ? "" : ", ") + t->spec().name;
    return out.empty() ? "(none)" : out;
  }

  std::string UnfinishedTodos() const {
    if (deps_.todos == nullptr) return "";
    Result<std::vector<TodoItem>> items = deps_.todos->Get();
    if (!items.ok()) return "";
    std::string out;
    for (const TodoItem& item : items.value()) {
      if (item.status == "pending" || item.status == "in_progress") {
        out += fmt::format("- [{}] {}\n", item.status, item.content);
      }
    }
    return out;
  }

  // Appends to the in-memory history and the store; on a store error, fails the run.
  bool Persist(ChatMessage message) {
    Status s = deps_.history->Append(spec_.session_id, spec_.task_id, message);
    if (!s.ok()) {
      Fail(s.WithContext("saving a message"));
      return false;
    }
    history_.push_back(std::move(message));
    return true;
  }

  void Report(const AgentProgress& p) {
    if (callbacks_.progress) {
      auto keep = shared_from_this();
      callbacks_.progress(p);
    }
  }

  std::string Redact(std::string text) const {
    return deps_.redactor != nullptr ? deps_.redactor->Redact(std::move(text)) : text;
  }

  void Finish(std::string text) { End(Result<std::string>(std::move(text))); }
  // A provider's error may quote the request, key included.
  void Fail(Status status) {
    Status redacted(status.code(), Redact(status.message()));
    if (!status.field().empty()) redacted = redacted.WithField(status.field());
    End(Result<std::string>(std::move(redacted)));
  }

  void End(Result<std::string> outcome) {
    if (done_) return;
    Cancel();  // stops whatever is still in flight; sets done_
    auto finish = std::move(callbacks_.finish);
    auto keep = shared_from_this();
    if (finish) finish(std::move(outcome));
  }

  AgentRunSpec spec_;
  AgentLoopDeps deps_;
  AgentLoopCallbacks callbacks_;
  ToolContext context_;
  Timer step_;
  Timer heartbeat_;
  std::vector<ChatMessage> history_;
  std::unique_ptr<ChatCall> chat_;
  std::vector<ToolCall> pending_calls_;
  std::vector<std::optional<ToolResult>> results_;
  std::vector<std::unique_ptr<ToolRun>> runs_;
  int turns_ = 0;
  int tool_calls_ = 0;
  int reminders_ = 0;
  int continuations_ = 0;  // of text cut by the output limit, in a row
  int output_limit_ = 0;   // the last request's max_tokens
  std::string cut_text_;   // the answer so far, when it was cut and continued
  int repeats_ = 0;
  std::string last_signature_;
  LoopDetector detector_;
  bool done_ = false;
};

class AgentLoopHandle : public AgentLoop {
 public:
  explicit AgentLoopHandle(std::shared_ptr<LoopState> state) : state_(std::move(state)) {}
  ~AgentLoopHandle() override { Cancel(); }
  void Cancel() override {
    if (state_) state_->Cancel();
  }

 private:
  std::shared_ptr<LoopState> state_;
};

}  // namespace

std::unique_ptr<AgentLoop> AgentLoop::Start(AgentRunSpec spec, AgentLoopDeps deps,
                                            AgentLoopCallbacks callbacks) {
  auto state = std::make_shared<LoopState>(std::move(spec), deps, std::move(callbacks));
  state->Begin();
  return std::make_unique<AgentLoopHandle>(std::move(state));
}

int64_t EstimatePromptTokens(const AgentRunSpec& spec, const std::vector<ChatMessage>& messages) {
  int64_t used = int64_t(spec.system_prompt.size() / 4);
  for (Tool* t : spec.tools) used += t->SpecTokens();
  for (const ChatMessage& m : messages) used += EstimateTokens(m);
  return used;
}

ChatRequest BuildAgentRequest(const AgentRunSpec& spec, const std::vector<ChatMessage>& messages) {
  ChatRequest request;
  request.model = spec.model_id;
  request.system = spec.system_prompt;
  request.messages = messages;
  request.max_tokens = spec.limits.max_output_tokens;
  request.temperature = spec.limits.temperature;
  request.reasoning = spec.limits.reasoning;
  request.caching.enabled = spec.limits.prompt_caching;
  if (request.caching.enabled) request.caching.key = spec.session_id;
  int64_t budget = spec.limits.context_window_tokens - spec.limits.max_output_tokens;
  request.tools.reserve(spec.tools.size());
  ToolContext caller;
  caller.delegates_to = spec.delegates_to;
  for (Tool* t : spec.tools) request.tools.push_back(t->SpecFor(caller));
  int64_t used = EstimatePromptTokens(spec, request.messages);
  // Oldest tool outputs go first; the latest turn's results are what the model is working on,
  // so they are the last to go.
  for (ChatMessage& m : request.messages) {
    if (used <= budget) break;
    if (m.role != ChatRole::kTool || m.text.size() < 256) continue;
    const int64_t before = EstimateTokens(m);
    m.text = fmt::format("[output of {} removed to fit the context window: {} bytes]", m.tool_name,
                         m.text.size());
    used -= before - EstimateTokens(m);
  }
  return request;
}

}  // namespace troupe
