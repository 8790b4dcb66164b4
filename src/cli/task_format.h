// How the commands show the API's JSON to people: task tables, task details, transcripts, event
// lines, pools and agents. Pure functions over the JSON of docs/HTTP_API.md; missing fields read
// as "" / 0, so an older or newer daemon's answers still print.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/table.h"
#include "wire/sse_parser.h"

namespace troupe {

// Tolerant field access: the value when present with the right type, else the fallback.
std::string JsonString(const nlohmann::json& object, const char* key, std::string fallback = "");
int64_t JsonInt(const nlohmann::json& object, const char* key, int64_t fallback = 0);

// completed, error, cancelled, interrupted: the task is not going anywhere (interrupted tasks
// resume only when a daemon starts).
bool IsEndedState(std::string_view state);

// ANSI colour of a state: pending yellow, running cyan, completed green, error red, cancelled
// grey, interrupted magenta.
std::string StateSgr(std::string_view state);

// The QUEUE/TIME column: "#2 queued 3s" while pending, the run time while running or after
// ("-" when it never ran).
std::string QueueTimeText(const nlohmann::json& task);

// Local wall-clock time of a Unix time in ms: "14:03:07", or with the date
// "2025-11-21 14:03:07". "-" for 0.
std::string FormatClock(int64_t at_ms);
std::string FormatDateTime(int64_t at_ms);

// ID, AGENT, MODEL, STATE, QUEUE/TIME, LAST TOOL, DESCRIPTION (the description is cut first).
std::string TaskTable(const std::vector<nlohmann::json>& tasks, const TableOptions& options);

// ID, STATE, TIME, DESCRIPTION, and the error of tasks that failed: what `troupe wait` ends with.
std::string TaskSummaryTable(const std::vector<nlohmann::json>& tasks, const TableOptions& options);

// `troupe show`: every field of the task, then its session and todos when `session` (the
// GET /v1/sessions/{id} answer) is an object.
// A provider's stop reason with what it means when it is not a plain end: "max_tokens (the reply
// was cut off at the output limit)", "refusal (the model refused)"; others as they are.
std::string StopReasonText(std::string_view reason);
std::string TaskDetails(const nlohmann::json& task, const nlohmann::json& session, bool color);
// `troupe show ses_…`: the session, its tasks and todos.
std::string SessionDetails(const nlohmann::json& session, const TableOptions& options);

// `troupe output --full`: the messages of GET /v1/sessions/{id}/messages with roles and tool
// calls.
std::string Transcript(const nlohmann::json& messages);

// `troupe events`: one line per event (state changes with their log id, progress without).
// `now_ms` stands in for an event without at_ms.
std::string EventLine(const SseEvent& event, int64_t now_ms);
// Live progress while waiting: state changes and progress that names a tool or a note; nullopt
// for the rest (token counts).
std::optional<std::string> ProgressLine(const SseEvent& event, int64_t now_ms, bool color);
// `troupe events --json`: {"id": N or null, "event": TYPE, "data": {...}} (data as a string
// when it is not JSON).
nlohmann::json EventJson(const SseEvent& event);

// `troupe pools` and `troupe agents` (the table, then which model agents with none use, from
// where, and for the offline fallback what to set instead).
std::string PoolsText(const nlohmann::json& pools, const TableOptions& options);
// A task's or tree's "usage" object: "1234 in (1000 cache read, 0 cache write), 34 out
// (0 reasoning) in 2 requests: $0.0123" (or "cost unknown").
std::string UsageText(const nlohmann::json& usage);
// The TOKENS/COST cell of a "usage" object: "12k tok, $0.31"; "-" before any request.
std::string SpendText(const nlohmann::json& usage);
// 9999, 12k, 1.5M.
std::string CompactCount(int64_t n);
// GET /v1/budgets as `troupe budgets` shows it.
std::string BudgetsText(const nlohmann::json& spend, const TableOptions& options);
std::string AgentsTable(const nlohmann::json& agents, const TableOptions& options);

// `troupe cancel`: ID, WAS, AGENT, SESSION, DESCRIPTION, one row per {task, was}.
std::string CancelTable(const std::vector<std::pair<nlohmann::json, std::string>>& cancelled,
                        const TableOptions& options);

}  // namespace troupe
