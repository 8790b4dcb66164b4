#include "rest/task_json.h"

#include <algorithm>

#include "core/utf8.h"
#include "rest/request_parsing.h"
#include "rest/task_worktree_json.h"

namespace troupe {

using json = nlohmann::json;

int64_t TaskQueuedMs(const TaskRecord& t, int64_t now_wall_ms) {
  if (t.queued_at_ms <= 0) return 0;
  int64_t end = 0;
  if (t.state == TaskState::kPending) {
    end = now_wall_ms;
  } else if (t.started_at_ms >= t.queued_at_ms) {
    end = t.started_at_ms;  // left the queue by starting
  } else if (t.finished_at_ms > 0) {
    end = t.finished_at_ms;  // left the queue without starting (cancelled, timed out)
  } else {
    return 0;
  }
  return std::max<int64_t>(0, end - t.queued_at_ms);
}

int64_t TaskDurationMs(const TaskRecord& t, int64_t now_wall_ms) {
  // Only the current attempt counts: a task re-queued after an interruption has started_at_ms
  // from before its queued_at_ms and has not run since.
  if (t.started_at_ms <= 0 || t.started_at_ms < t.queued_at_ms) return 0;
  if (t.state == TaskState::kRunning) return std::max<int64_t>(0, now_wall_ms - t.started_at_ms);
  if (t.state == TaskState::kPending || t.finished_at_ms <= 0) return 0;
  return std::max<int64_t>(0, t.finished_at_ms - t.started_at_ms);
}

json TaskJson(const TaskView& view, int64_t now_wall_ms, TaskJsonMode mode) {
  const TaskRecord& t = view.task;
  const bool listing = mode == TaskJsonMode::kListing;
  json j = json::object();
  j["id"] = t.id;
  j["session_id"] = t.session_id;
  j["parent_session_id"] = t.parent_session_id;
  j["owner"] = t.owner;
  j["description"] = t.description;
  if (listing && t.prompt.size() > kListingPromptBytes) {
    j["prompt"] = std::string(Utf8Prefix(t.prompt, kListingPromptBytes));
    j["prompt_truncated"] = true;
  } else {
    j["prompt"] = t.prompt;
  }
  j["agent"] = t.agent;
  j["model"] = t.model;
  j["state"] = std::string(TaskStateName(t.state));
  j["attempt"] = t.attempt;
  j["depth"] = t.depth;
  if (!listing) j["result"] = t.result;
  j["error"] = t.error;
  j["created_at_ms"] = t.created_at_ms;
  j["queued_at_ms"] = t.queued_at_ms;
  j["started_at_ms"] = t.started_at_ms;
  j["finished_at_ms"] = t.finished_at_ms;
  j["updated_at_ms"] = t.updated_at_ms;
  j["queued_ms"] = TaskQueuedMs(t, now_wall_ms);
  j["duration_ms"] = TaskDurationMs(t, now_wall_ms);
  j["turns"] = t.turns;
  j["tool_calls"] = t.tool_calls;
  j["input_tokens"] = t.input_tokens;
  j["output_tokens"] = t.output_tokens;
  j["last_tool"] = t.last_tool;
  j["root_session_id"] = t.root_session_id;
  if (!t.worktree_json.empty()) j["worktree"] = WorktreeJson(t.worktree_json);
  j["usage"] = UsageJson(UsageOf(t));
  const TaskBudget budget = TaskBudgetOf(t);
  j["budget"] = {{"max_tokens", budget.max_tokens ? json(*budget.max_tokens) : json(nullptr)},
                 {"max_cost_usd", budget.max_cost_nano_usd
                                      ? json(NanoToUsd(*budget.max_cost_nano_usd))
                                      : json(nullptr)}};
  const bool active = IsActive(t.state);
  j["pool"] = active ? view.pool : std::string();
  j["queue_position"] = t.state == TaskState::kPending ? view.queue_position : 0;
  j["waiting_reason"] = t.state == TaskState::kPending ? view.waiting_reason : std::string();
  j["last_activity_at_ms"] = t.state == TaskState::kRunning ? view.last_activity_wall_ms : 0;
  return j;
}

json UsageJson(const UsageTotals& u) {
  return json{{"requests", u.requests},
              {"input_tokens", u.input_tokens},
              {"output_tokens", u.output_tokens},
              {"cache_write_tokens", u.cache_write_tokens},
              {"cache_read_tokens", u.cache_read_tokens},
              {"reasoning_tokens", u.reasoning_tokens},
              {"cost_usd", u.cost_known() ? json(NanoToUsd(u.cost_nano_usd)) : json(nullptr)},
              {"priced_cost_usd", NanoToUsd(u.cost_nano_usd)},
              {"unpriced_requests", u.unpriced_requests},
              {"cost", FormatCost(u)}};
}

json TreeSpendJson(const TreeSpendView& tree) {
  json waiting = json::array();
  for (const TreeSpendView::Waiting& w : tree.waiting) {
    waiting.push_back({{"task_id", w.task_id},
                       {"agent", w.agent},
                       {"model", w.model},
                       {"held", w.held},
                       {"reason", w.reason}});
  }
  return json{{"root_session_id", tree.root_session_id},
              {"tasks", tree.tasks},
              {"delegated", tree.delegated},
              {"running", tree.running},
              {"usage", UsageJson(tree.usage)},
              {"max_cost_usd", tree.budget.max_cost_nano_usd
                                   ? json(NanoToUsd(*tree.budget.max_cost_nano_usd))
                                   : json(nullptr)},
              {"max_tasks", tree.budget.max_tasks},
              {"stopped", tree.verdict},
              {"waiting", std::move(waiting)}};
}

json SpendJson(const SpendOverview& spend) {
  auto usd = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  const BudgetConfig& b = spend.budgets;
  json trees = json::array();
  for (const TreeSpendView& t : spend.active_trees) trees.push_back(TreeSpendJson(t));
  return json{
      {"day", spend.day},
      {"today", UsageJson(spend.today)},
      {"budgets",
       {{"task_max_tokens", b.task_max_tokens ? json(*b.task_max_tokens) : json(nullptr)},
        {"task_max_cost_usd", usd(b.task_max_cost_usd)},
        {"tree_max_cost_usd", usd(b.tree_max_cost_usd)},
        {"tree_max_tasks", b.tree_max_tasks},
        {"tree_max_running", b.tree_max_running},
        {"daily_max_cost_usd", usd(b.daily_max_cost_usd)}}},
      {"daily_stopped", spend.daily_verdict},
      {"trees", std::move(trees)}};
}

json SessionJson(const SessionRecord& s) {
  return json{{"id", s.id},
              {"agent", s.agent},
              {"model", s.model},
              {"workspace", s.workspace},
              {"parent_session_id", s.parent_session_id},
              {"owner", s.owner},
              {"title", s.title},
              {"depth", s.depth},
              {"created_at_ms", s.created_at_ms},
              {"updated_at_ms", s.updated_at_ms}};
}

json TodoJson(const TodoItem& t) {
  return json{{"id", t.id}, {"content", t.content}, {"status", t.status}, {"priority", t.priority}};
}

json MessageJson(const MessageRecord& m) {
  json message = json::parse(m.content, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) message = m.content;
  return json{{"seq", m.seq},
              {"task_id", m.task_id},
              {"role", m.role},
              {"created_at_ms", m.created_at_ms},
              {"message", std::move(message)}};
}

json LastStopReason(const std::vector<MessageRecord>& messages, const std::string& task_id) {
  for (auto m = messages.rbegin(); m != messages.rend(); ++m) {
    if (m->task_id != task_id || m->role != "assistant") continue;
    const json message = json::parse(m->content, nullptr, /*allow_exceptions=*/false);
    const auto reason = message.is_object() ? message.find("stop_reason") : message.end();
    if (message.is_object() && reason != message.end() && reason->is_string() &&
        !reason->get<std::string>().empty()) {
      return *reason;
    }
    return nullptr;
  }
  return nullptr;
}

json PoolJson(const PoolSnapshot& p, int64_t now_wall_ms) {
  const int64_t remaining = p.cooldown_until_wall_ms > 0
                                ? std::max<int64_t>(0, p.cooldown_until_wall_ms - now_wall_ms)
                                : 0;
  return json{{"key", p.key},
              {"level", p.level},
              {"provider", p.provider},
              {"limit", p.limit},
              {"in_use", p.in_use},
              {"queued", p.queued},
              {"cooldown_until_ms", p.cooldown_until_wall_ms},
              {"cooldown_remaining_ms", remaining}};
}

json AgentJson(const AgentDefinition& a) {
  const std::string source =
      a.config_overrides.empty() ? AgentOriginName(a.source.origin) : "config";
  return json{{"name", a.name},
              {"description", a.description},
              {"model", a.model},
              {"tools", a.tools},
              {"source", source}};
}

json DefaultModelJson(const DefaultModel& choice) {
  json out = {{"model", choice.model},
              {"source", DefaultModelSourceName(choice.source)},
              {"origin", DefaultModelOrigin(choice)}};
  if (choice.source == DefaultModelSource::kEnvKey) out["env"] = choice.key_env;
  if (choice.source == DefaultModelSource::kOffline) {
    out["hint"] = DefaultModelHint(choice);
    out["notice"] = OfflineModelNotice(choice);
  }
  return out;
}

std::string JsonBody(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  text += '\n';
  return text;
}

}  // namespace troupe
