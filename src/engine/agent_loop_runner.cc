#include "engine/agent_loop_runner.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <system_error>

#include "agent/message_codec.h"
#include "agent/tools/mcp_tool.h"
#include "engine/model_name.h"
#include "llm/model_limits.h"

namespace troupe {
namespace {

// The session's todo list, as the todo tools and the loop see it.
class SessionTodos : public TodoList {
 public:
  SessionTodos(TaskManager* manager, std::string session_id)
      : manager_(manager), session_id_(std::move(session_id)) {}
  Result<std::vector<TodoItem>> Get() override { return manager_->Todos(session_id_); }
  Status Replace(const std::vector<TodoItem>& items) override {
    return manager_->ReplaceTodos(session_id_, items);
  }

 private:
  TaskManager* manager_;
  std::string session_id_;
};

class LoopRun : public RunHandle {
 public:
  LoopRun(std::unique_ptr<SessionTodos> todos) : todos_(std::move(todos)) {}
  void set_loop(std::unique_ptr<AgentLoop> loop) { loop_ = std::move(loop); }
  // While the agent's MCP servers start: the token that keeps the answer coming.
  void set_resolving(std::shared_ptr<void> token) { resolving_ = std::move(token); }
  // The MCP tools the loop was given; they live as long as the run.
  void keep_tools(std::vector<std::shared_ptr<Tool>> tools) { mcp_tools_ = std::move(tools); }
  // The task's hold on its own MCP server processes (McpServers::Hold): dropped with the run.
  void hold_servers(std::shared_ptr<void> hold) { mcp_hold_ = std::move(hold); }
  void Cancel() override {
    resolving_.reset();
    if (loop_) loop_->Cancel();
  }

 private:
  std::unique_ptr<SessionTodos> todos_;  // outlives the loop (declared first, destroyed last)
  std::shared_ptr<void> mcp_hold_;       // after the tools: their processes stop last
  std::vector<std::shared_ptr<Tool>> mcp_tools_;  // outlive the loop too
  std::shared_ptr<void> resolving_;
  std::unique_ptr<AgentLoop> loop_;
};

// A run that could not start: reports its failure from the loop, as runs do.
class FailedRun : public RunHandle {
 public:
  FailedRun(Clock* clock, std::string why, RunCallbacks callbacks) : timer_(clock) {
    timer_.Start(0, [why = std::move(why), cb = std::move(callbacks)] {
      cb.finish(RunOutcome::Failed(why));
    });
  }
  void Cancel() override { timer_.Cancel(); }

 private:
  Timer timer_;
};

// Whether a model request's error (after the provider's retries) is one another model may not
// have: the provider overloaded, rate-limited, failing (5xx) or unreachable — not a request it
// refuses (400) or credentials it rejects.
bool AnotherModelMayAnswer(const Status& error) {
  return error.code() == StatusCode::kUnavailable || error.code() == StatusCode::kDeadlineExceeded;
}

}  // namespace

std::string NextFallbackModel(const AgentDefinition& agent, const std::string& model,
                              const std::vector<std::string>& launch_fallbacks) {
  const std::vector<std::string>& list =
      launch_fallbacks.empty() ? agent.fallback_models : launch_fallbacks;
  const std::string canonical = CanonicalModel(model, {});
  auto same = [&](const std::string& m) {
    return m == model || CanonicalModel(m, {}) == canonical;
  };
  for (size_t i = 0; i < list.size(); ++i) {
    if (same(list[i])) return i + 1 < list.size() ? list[i + 1] : "";
  }
  if (!launch_fallbacks.empty()) return list.front();  // the launch's first model
  // The agent's own model; an agent without one runs on the default model, whichever it is.
  if (!list.empty() && (agent.model.empty() || same(agent.model))) return list.front();
  return "";
}

std::vector<DelegableAgent> DelegableAgentsOf(const AgentCatalog& catalog) {
  std::vector<DelegableAgent> out;
  for (const AgentDefinition& a : catalog.List()) out.push_back({a.name, a.description});
  return out;
}

std::string AgentSystemPrompt(const AgentDefinition& agent, const std::string& workspace,
                              int64_t wall_ms, int depth) {
  const auto when =
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(wall_ms));
  std::string out = agent.system_prompt;
  out += fmt::format(
      "\n\n<environment>\nWorkspace: {} (every path you use is relative to it; you cannot leave "
      "it)\nDate: {:%Y-%m-%d}\nYou are the agent \"{}\"{}.\n</environment>",
      workspace, std::chrono::floor<std::chrono::days>(when), agent.name,
      depth > 0 ? fmt::format(", working on a task delegated to you (depth {})", depth) : "");
  return out;
}

Status AgentLoopRunner::PrepareLaunch(LaunchRequest* request) const {
  if (request->agent.empty()) return Status::Ok();  // a continuation keeps its session's agent
  Result<AgentDefinition> agent = deps_.agents->Find(request->agent);
  if (!agent.ok()) return agent.status();
  const AgentDefinition& a = agent.value();
  if (request->model.empty() && request->session_id.empty()) request->model = a.model;
  // A new session of an isolated agent gets its worktree unless the launch chose.
  if (request->isolation.empty() && request->session_id.empty()) request->isolation = a.isolation;
  if (!request->task_ttl_ms) request->task_ttl_ms = a.task_ttl_ms;
  if (!request->pending_ttl_ms) request->pending_ttl_ms = a.pending_ttl_ms;
  if (!request->stale_timeout_ms) request->stale_timeout_ms = a.stale_timeout_ms;
  // The agent's budgets are ceilings: a launch may ask for less, never for more.
  auto lower = [](auto* asked, const auto& ceiling) {
    if (ceiling && (!*asked || **asked > *ceiling)) *asked = ceiling;
  };
  lower(&request->max_tokens, a.max_tokens);
  lower(&request->max_cost_usd, a.max_cost_usd);
  return Status::Ok();
}

std::unique_ptr<RunHandle> AgentLoopRunner::Start(const RunRequest& request,
                                                  RunCallbacks callbacks) {
  auto fail = [&](std::string why) {
    return std::make_unique<FailedRun>(deps_.clock, std::move(why), std::move(callbacks));
  };
  const AgentDefinition* agent = deps_.agents->Get(request.agent);
  if (agent == nullptr) {
    return fail(deps_.agents->Find(request.agent).status().message());
  }
  Result<ResolvedModel> model = deps_.providers->Resolve(request.model);
  if (!model.ok()) return fail(model.status().message());
  std::error_code ec;
  std::filesystem::path root = std::filesystem::canonical(request.workspace, ec);
  if (ec || !std::filesystem::is_directory(root, ec)) {
    return fail(
        fmt::format("workspace {} is not a directory that can be opened", request.workspace));
  }

  AgentRunSpec spec;
  spec.session_id = request.session_id;
  spec.task_id = request.task_id;
  spec.workspace = root.string();
  spec.system_prompt =
      AgentSystemPrompt(*agent, spec.workspace, deps_.clock->WallMs(), request.depth);
  spec.provider = model.value().provider;
  spec.model_id = model.value().model_id;
  spec.task_prompt = request.prompt;
  for (const std::string& name : agent->tools) {
    if (Tool* tool = deps_.tools->Find(name)) spec.tools.push_back(tool);
  }
  std::vector<McpToolPattern> mcp_patterns;
  if (HasMcpPatterns(agent->tools)) {
    Result<std::vector<McpToolPattern>> patterns =
        ExpandMcpPatterns(deps_.mcp, agent->name, agent->tools);
    if (!patterns.ok()) return fail(patterns.status().message());
    mcp_patterns = std::move(patterns).value();
  }
  spec.limits = deps_.limits;
  spec.limits.max_turns = agent->max_turns;
  spec.limits.max_tool_calls = agent->max_tool_calls;
  spec.limits.temperature = agent->temperature;
  const OutputTokens output = ChooseOutputTokens(spec.model_id, model.value().max_output_tokens,
                                                 agent->max_output_tokens, agent->reasoning);
  spec.limits.max_output_tokens = output.max_tokens;
  spec.limits.reasoning = output.reasoning;
  if (agent->loop_repeats) spec.limits.loop_same_result_limit = *agent->loop_repeats;
  if (agent->loop_idle_turns) spec.limits.loop_idle_turns = *agent->loop_idle_turns;
  spec.limits.prompt_caching = agent->prompt_caching;
  spec.network = agent->network;
  spec.delegates_to = deps_.agents->AllowedDelegates(*agent);

  auto todos = std::make_unique<SessionTodos>(manager_, request.session_id);
  AgentLoopDeps loop_deps{deps_.clock, this, deps_.executor, todos.get(), deps_.redactor};
  auto run = std::make_unique<LoopRun>(std::move(todos));
  AgentLoopCallbacks cb;
  cb.progress = callbacks.progress;
  cb.admit_request = callbacks.admit_request;
  // A model failure another model may not have continues the task on the agent's next model.
  auto fallback = std::make_shared<std::string>();
  cb.model_request_failed =
      [fallback, next = NextFallbackModel(*agent, request.model, request.fallback_models)](
          const Status& error) {
        if (AnotherModelMayAnswer(error)) *fallback = next;
      };

  std::string notice;
  if (CanonicalModel(request.model, {}) == CanonicalModel(deps_.default_model.model, {})) {
    notice = OfflineModelNotice(deps_.default_model);
  }
  cb.finish = [finish = callbacks.finish, notice = std::move(notice),
               fallback](Result<std::string> outcome) {
    if (!finish) return;
    if (!outcome.ok()) {
      RunOutcome failed = RunOutcome::Failed(outcome.status().message());
      failed.fallback_model = *fallback;
      return finish(std::move(failed));
    }
    std::string result = std::move(outcome).value();
    if (!notice.empty()) result += (result.empty() ? "" : "\n\n") + notice;
    finish(RunOutcome::Completed(std::move(result)));
  };
  if (mcp_patterns.empty()) {
    run->set_loop(AgentLoop::Start(std::move(spec), loop_deps, std::move(cb)));
    return run;
  }
  // The loop starts once the agent's MCP servers are up and listed (the first task to use a
  // shared server starts it; later ones find it ready; a per-task server starts for this task
  // and stops when its run ends).
  LoopRun* raw = run.get();
  run->hold_servers(deps_.mcp->Hold(request.task_id));
  run->set_resolving(ResolveMcpTools(
      deps_.mcp, request.task_id, std::move(mcp_patterns),
      [raw, spec = std::move(spec), loop_deps,
       cb = std::move(cb)](Result<std::vector<std::shared_ptr<Tool>>> tools) mutable {
        if (!tools.ok()) {
          cb.finish(tools.status());
          return;
        }
        for (const std::shared_ptr<Tool>& tool : *tools) spec.tools.push_back(tool.get());
        raw->keep_tools(std::move(tools).value());
        raw->set_loop(AgentLoop::Start(std::move(spec), loop_deps, std::move(cb)));
      }));
  return run;
}

Result<std::vector<ChatMessage>> AgentLoopRunner::Load(const std::string& session_id) {
  std::vector<MessageRecord> records;
  TROUPE_ASSIGN_OR_RETURN(records, manager_->Messages(session_id));
  std::vector<ChatMessage> out;
  out.reserve(records.size());
  for (const MessageRecord& r : records) {
    Result<ChatMessage> m = DecodeStoredMessage(r.content);
    if (!m.ok()) {
      return m.status().WithContext(fmt::format("session {} message {}", session_id, r.seq));
    }
    out.push_back(std::move(m).value());
  }
  return out;
}

Status AgentLoopRunner::Append(const std::string& session_id, const std::string& task_id,
                               const ChatMessage& message) {
  MessageRecord record;
  record.session_id = session_id;
  record.task_id = task_id;
  record.role = ChatRoleName(message.role);
  record.content = EncodeStoredMessage(message);
  return manager_->AppendMessage(&record);
}

Result<std::vector<std::string>> AgentLoopRunner::ClaimNotifications(
    const std::string& session_id) {
  std::vector<NotificationRecord> claimed;
  TROUPE_ASSIGN_OR_RETURN(claimed, manager_->ClaimNotifications(session_id));
  std::vector<std::string> out;
  for (const NotificationRecord& n : claimed) out.push_back(n.summary);
  return out;
}

}  // namespace troupe
