// What the delegation tools (and the MCP server's tools of the same names) print about delegated
// tasks: the Markdown shapes of the reference system, so prompts written for it keep working.
//   launch confirmation    delegate_task, background=true
//   "## Task Status"       a pending or running task: field table, then its original prompt
//   "Task Result"          a completed task; the same text every time it is read
//   "Task Error" / "Task Cancelled" / "Task Interrupted"   a task that ended without a result
//   cancel table           background_cancel, then "## Continue Instructions"
//   wait summary           background_wait: which finished, which still run, timed out or not
//   list table             every task of a caller
//   transcript             background_output full_session=true
// Pure functions of their arguments (durations come in the DelegatedTask), so every shape is
// tested with golden strings. Model-written text (descriptions, prompts, results) is made valid
// UTF-8; inside table cells `|` is escaped and line breaks become spaces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/agent_host.h"
#include "core/status.h"
#include "llm/chat_types.h"

namespace troupe {

// Longest original prompt shown in a status table, in bytes (cut at a character boundary).
inline constexpr size_t kReportPromptBytes = 1500;
// Longest result or error text shown, in bytes; the rest is replaced by a truncation marker.
inline constexpr size_t kReportResultBytes = 50'000;
// Longest description shown in a table cell, in bytes.
inline constexpr size_t kReportCellBytes = 80;
// Default cap of FormatTranscript, and of one message inside it.
inline constexpr size_t kTranscriptBytes = 60'000;
inline constexpr size_t kTranscriptMessageBytes = 4'000;

// The answer to delegate_task with background=true: ids, agent, state (with queue position and
// what it waits for while pending) and the reminder that completion is announced, so polling is
// wasted. `continued` says the task continues an existing session.
std::string FormatLaunched(const DelegatedTask& task, bool continued);

// "## Task Status" table of a pending or running task, then its original prompt (cut to
// kReportPromptBytes).
// "12034 tokens (12000 in, 34 out) in 3 model requests, $0.0412" (or "cost unknown").
std::string SpendLine(const UsageTotals& usage);
std::string FormatTaskStatus(const DelegatedTask& task);

// "Task Result" block of a completed task: header (id, description, duration, session), a rule,
// then the result text. Depends only on stored fields, so it reads the same every time.
std::string FormatTaskResult(const DelegatedTask& task);

// The block of a task that ended without a result (error, cancelled, interrupted): header with
// the state, the reason, and how to continue its session.
std::string FormatTaskError(const DelegatedTask& task);

// The right one of the three above for the task's state.
std::string FormatTaskReport(const DelegatedTask& task);

// background_cancel's answer. `before` holds the tasks as they were before the cancel: those
// that were pending or running are listed as cancelled, the others as already finished. Ends
// with "## Continue Instructions" naming the sessions that had started (and so have work to
// continue).
std::string FormatCancelled(const std::vector<DelegatedTask>& before);

// background_wait's answer: a one-line outcome ("All 3 tasks finished." / "1 of 3 tasks
// finished; …" / "Timed out after 1m 0s: …"), a table of the tasks and what to do next.
// `waited_ms` is only shown when `timed_out`.
std::string FormatWaitSummary(const std::vector<DelegatedTask>& tasks, bool timed_out,
                              int64_t waited_ms);

// A table of tasks (id, description, agent, status, duration, last tool, session), in the given
// order; "No background tasks." when empty.
std::string FormatTaskList(const std::vector<DelegatedTask>& tasks);

// What to do next, alone: the sentences of the shapes above that guide the reader, for answers
// that carry them beside the Markdown (the MCP tools' structuredContent, which some clients show
// the model instead of the text). The Markdown holds the very same sentences.
// FormatLaunched's closing paragraph: notified automatically, no need to poll, how to read it.
std::string LaunchGuidance(const DelegatedTask& task);
// FormatTaskReport's: the note of a status table (no need to wait or poll), the closing sentence
// of an error, cancelled or interrupted block (how to continue); "" for a completed task.
std::string ReportGuidance(const DelegatedTask& task);
// FormatWaitSummary's closing lines (how to read the finished tasks; the others keep running),
// joined by a space; "" when there are no tasks.
std::string WaitGuidance(const std::vector<DelegatedTask>& tasks);
// FormatCancelled's "Continue Instructions" in one paragraph, naming the continuable sessions;
// "" when nothing was cancelled.
std::string CancelGuidance(const std::vector<DelegatedTask>& before);

// A session's messages as readable text: numbered, with roles, tool calls (name and arguments)
// and tool results (marked when they are errors). Messages that could not be decoded appear as
// a line saying why. Each message is cut to kTranscriptMessageBytes; when the whole exceeds
// `max_bytes`, the first message (the original prompt) and the most recent ones are kept and a
// marker says how many in between were left out.
std::string FormatTranscript(const std::string& session_id,
                             const std::vector<Result<ChatMessage>>& messages,
                             size_t max_bytes = kTranscriptBytes);

}  // namespace troupe
