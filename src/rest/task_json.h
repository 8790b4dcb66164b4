// The JSON shapes of the HTTP API's objects (docs/HTTP_API.md): tasks, sessions, todos,
// messages, pools and agents. Pure functions of the records and the time they are shown at.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/agent_definition.h"
#include "engine/slot_scheduler.h"
#include "engine/task_manager.h"
#include "llm/default_model.h"
#include "store/records.h"

namespace troupe {

enum class TaskJsonMode {
  kFull,     // GET /v1/tasks/{id}: everything
  kListing,  // GET /v1/tasks: no result, prompt cut to kListingPromptBytes
};

// Listings cut prompts to this many bytes (at a UTF-8 boundary) and add "prompt_truncated".
inline constexpr size_t kListingPromptBytes = 200;

// "The task object". queued_ms and duration_ms are computed from the timestamps: while pending
// or running they count up to `now_wall_ms`; once the task left those states they are fixed.
nlohmann::json TaskJson(const TaskView& view, int64_t now_wall_ms,
                        TaskJsonMode mode = TaskJsonMode::kFull);
// Time spent pending (the current stay in the queue) and running (the current attempt).
int64_t TaskQueuedMs(const TaskRecord& task, int64_t now_wall_ms);
int64_t TaskDurationMs(const TaskRecord& task, int64_t now_wall_ms);

// Tokens and cost (docs/HTTP_API.md "Usage"): "cost_usd" is null when a request had no price.
nlohmann::json UsageJson(const UsageTotals& usage);
// A tree's spend and limits; the engine's spend and budgets (GET /v1/budgets).
nlohmann::json TreeSpendJson(const TreeSpendView& tree);
nlohmann::json SpendJson(const SpendOverview& spend);
nlohmann::json SessionJson(const SessionRecord& session);
nlohmann::json TodoJson(const TodoItem& todo);
// {"seq", "task_id", "role", "created_at_ms", "message"}: the stored content parsed back to JSON,
// or the raw string when it is not JSON.
nlohmann::json MessageJson(const MessageRecord& message);
// The provider's stop reason ("end_turn", "length", "max_tokens", "refusal", ...) of the last
// assistant message task `task_id` stored among `messages` (a session's, in order); null when
// it stored none or the provider gave none.
nlohmann::json LastStopReason(const std::vector<MessageRecord>& messages,
                              const std::string& task_id);
// One pool of GET /v1/pools; cooldown_remaining_ms counts down to `now_wall_ms`.
nlohmann::json PoolJson(const PoolSnapshot& pool, int64_t now_wall_ms);
// {"name", "description", "model", "tools", "source"}; source is "config" when the config's
// `agents` entry changed the definition, else where it came from (builtin, user, project).
nlohmann::json AgentJson(const AgentDefinition& agent);
// The model of agents that name none, in GET /v1/health and GET /v1/agents: {"model", "source"
// (config, env, offline), "origin" (where it came from, in words), "env" (source env: the key's
// variable), "hint" and "notice" (source offline: what to set for a real model, and what every
// result of the offline model says)}.
nlohmann::json DefaultModelJson(const DefaultModel& choice);

// The response text of a JSON value: compact, invalid UTF-8 replaced (never throws), "\n" last.
std::string JsonBody(const nlohmann::json& value);

}  // namespace troupe
