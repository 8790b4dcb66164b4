// What the MCP tools (mcp/mcp_tools.h) answer, beyond the task reports themselves: the tasks as
// structuredContent objects, what to do next, how to wait again after a wait stopped at its
// bound, and the completion notices of other tasks.
//
// Everything goes both into the text content and into structuredContent, because clients differ
// in what they show the model: Claude Code and Codex show structuredContent (and not the text)
// when the tool declares an outputSchema; others show the text. So the <system-reminder> block of
// notices in front of the text is also `notices` + `reminder`, the guidance sentences of the
// Markdown (agent/task_reports.h) are also `guidance`, and "still running, call X to wait again"
// is also `timed_out` + `wait_again`. mcp/mcp_tool_schemas.cc declares these fields.
//
// Pure functions of their arguments.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "agent/agent_host.h"
#include "agent/delegation_service.h"
#include "mcp/mcp_tool_host.h"
#include "store/records.h"

namespace troupe {

// The task as structuredContent describes it (task_id, session_id, agent, model, description,
// state, queue_position, waiting_reason, duration_ms, last_tool, result, error).
nlohmann::json DelegatedTaskJson(const DelegatedTask& task);
nlohmann::json DelegatedTasksJson(const std::vector<DelegatedTask>& tasks);

// A tool call, as an answer suggests it (agent/delegation_service.h).
using McpSuggestedCall = SuggestedCall;

// Sets structuredContent["guidance"] to `guidance` (when the result has structuredContent and
// `guidance` is not empty).
void AddGuidance(const std::string& guidance, McpToolResult* result);

// A blocking call stopped waiting at its bound while `waited_for` still run: `wait_again` is
// the call that goes on waiting, `waited_ms` how long this one waited, `asked_ms` the timeout_ms
// the caller gave (0 = none; when above `waited_ms` the answer says it was lowered). Returns the
// sentence that says so ("[timeout_ms … was lowered to …] To wait again, call …."), and marks
// the result: structuredContent timed_out = true, wait_again = {tool, arguments}, and the
// sentence at the end of `guidance`.
std::string StillRunning(const McpSuggestedCall& wait_again, int64_t waited_ms, int64_t asked_ms,
                         McpToolResult* result);
// The marking alone, for an answer whose text already holds `sentence`
// (DelegationAnswer::wait_again_sentence).
void MarkWaitAgain(const McpSuggestedCall& wait_again, const std::string& sentence,
                   McpToolResult* result);

// Puts the completion notices claimed for the calling session on `result`: one
// <system-reminder> text block in front of its content, and, when it has structuredContent,
// `notices` ([{task_id, state, summary}]) and `reminder` (what the block says). Nothing when
// `notices` is empty.
void AttachNotices(const std::vector<NotificationRecord>& notices, McpToolResult* result);

}  // namespace troupe
