#include "agent/task_reports.h"

#include <fmt/format.h>

#include <algorithm>

#include "agent/message_codec.h"
#include "agent/tool_output.h"
#include "core/duration_format.h"

namespace troupe {
namespace {

// `text` cut to `max_bytes` at a character boundary, with "…" when something was cut.
std::string Shorten(const std::string& text, size_t max_bytes) {
  std::string valid = ToValidUtf8(text);
  if (valid.size() <= max_bytes) return valid;
  return std::string(Utf8Prefix(valid, max_bytes)) + "…";
}

// One line of model-written text: line breaks and tabs become spaces.
std::string OneLine(const std::string& text) {
  std::string out = ToValidUtf8(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

// A Markdown table cell: one line, `|` escaped, cut to `max_bytes` (0 = no cut).
std::string Cell(const std::string& text, size_t max_bytes = 0) {
  std::string line = OneLine(text);
  if (max_bytes > 0 && line.size() > max_bytes) {
    line = std::string(Utf8Prefix(line, max_bytes)) + "…";
  }
  std::string out;
  out.reserve(line.size());
  for (char c : line) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string Code(const std::string& id) { return "`" + Cell(id) + "`"; }

// Long text (a result, an error) cut to kReportResultBytes with the standard marker.
std::string Body(const std::string& text, const char* what) {
  std::string valid = ToValidUtf8(text);
  if (valid.size() <= kReportResultBytes) return valid;
  std::string_view kept = Utf8Prefix(valid, kReportResultBytes);
  return std::string(kept) + "\n" +
         TruncationMarker(FormatCount(valid.size() - kept.size()) + " more bytes of the " + what);
}

// "running", "pending (queue position 2)", "completed", ...
std::string StateCell(const DelegatedTask& t) {
  if (t.state == "pending" && t.queue_position > 0) {
    return "pending (queue position " + std::to_string(t.queue_position) + ")";
  }
  return Cell(t.state);
}

// "12s", or "queued 12s" while pending.
std::string DurationCell(const DelegatedTask& t) {
  if (t.state == "pending") return "queued " + FormatDuration(t.duration_ms);
  return FormatDuration(t.duration_ms);
}

std::string ContinueCall(const std::string& session_id) {
  return "delegate_task(session_id=\"" + OneLine(session_id) + "\", prompt=\"<your follow-up>\")";
}

std::string ResultCall(const std::string& task_id) {
  return "background_output(task_id=\"" + OneLine(task_id) + "\")";
}

constexpr const char* kStatusNote =
    "No need to wait or poll: you will be notified automatically when this task finishes.";
constexpr const char* kReadFinished =
    "Read each finished task with background_output(task_id=\"…\").";
constexpr const char* kOthersRun =
    "The others keep running: you will be notified when they finish; call background_wait again "
    "only if you have nothing else to do.";
constexpr const char* kContinueCancelled =
    "delegate_task(session_id=\"<session_id>\", prompt=\"Continue: <your follow-up>\")";
constexpr const char* kNothingToContinue =
    "None of the cancelled tasks had started, so there is nothing to continue; delegate them "
    "again if you still need them.";

// The tasks of `before` that a cancel stopped: those that were pending or running.
std::vector<const DelegatedTask*> CancelledOf(const std::vector<DelegatedTask>& before) {
  std::vector<const DelegatedTask*> cancelled;
  for (const DelegatedTask& t : before) {
    if (!t.final()) cancelled.push_back(&t);
  }
  return cancelled;
}
// Those of `cancelled` that had started, and so have a session to continue.
std::vector<const DelegatedTask*> StartedOf(const std::vector<const DelegatedTask*>& cancelled) {
  std::vector<const DelegatedTask*> started;
  for (const DelegatedTask* t : cancelled) {
    if (t->state != "pending") started.push_back(t);
  }
  return started;
}

// One message of a transcript, numbered from 1, without its trailing blank line.
std::string TranscriptBlock(size_t number, const Result<ChatMessage>& entry) {
  std::string out = "### " + std::to_string(number) + ". ";
  if (!entry.ok()) {
    return out + "unreadable message\n\n(" + ToValidUtf8(entry.status().message()) + ")\n";
  }
  const ChatMessage& m = *entry;
  out += ChatRoleName(m.role);
  if (m.role == ChatRole::kTool) {
    out += ": " + OneLine(m.tool_name.empty() ? std::string("?") : m.tool_name);
    if (m.is_error) out += " (error)";
  }
  out += "\n";
  std::string text = ToValidUtf8(m.text);
  if (text.size() > kTranscriptMessageBytes) {
    std::string_view kept = Utf8Prefix(text, kTranscriptMessageBytes);
    text = std::string(kept) + "\n" +
           TruncationMarker(FormatCount(text.size() - kept.size()) + " more bytes");
  }
  if (!text.empty()) out += "\n" + text + "\n";
  if (!m.tool_calls.empty()) {
    out += "\nTool calls:\n";
    for (const ToolCall& call : m.tool_calls) {
      out += "- " + OneLine(call.name) + " " + Shorten(OneLine(call.arguments_json), 500) + "\n";
    }
  }
  if (text.empty() && m.tool_calls.empty()) out += "\n(empty)\n";
  return out;
}

}  // namespace

std::string FormatLaunched(const DelegatedTask& t, bool continued) {
  std::string out =
      continued ? "Background task launched, continuing session " + OneLine(t.session_id) + ".\n\n"
                : "Background task launched.\n\n";
  out += "Task ID: " + OneLine(t.task_id) + "\n";
  out += "Session ID: " + OneLine(t.session_id) + "\n";
  out += "Description: " + OneLine(t.description) + "\n";
  out += "Agent: " + OneLine(t.agent) + "\n";
  if (!t.model.empty()) out += "Model: " + OneLine(t.model) + "\n";
  out += "Status: " + OneLine(t.state) + "\n";
  if (t.state == "pending") {
    if (t.queue_position > 0) {
      out += "Queue position: " + std::to_string(t.queue_position) + "\n";
    }
    if (!t.waiting_reason.empty()) out += "Waiting for: " + OneLine(t.waiting_reason) + "\n";
  }
  return out + "\n" + LaunchGuidance(t);
}

std::string LaunchGuidance(const DelegatedTask& t) {
  return "You will be notified automatically when it finishes, so there is no need to poll: keep "
         "working, or call background_wait when you have nothing else to do. Then read the "
         "result with " +
         ResultCall(t.task_id) + ".";
}

std::string ReportGuidance(const DelegatedTask& t) {
  if (!t.final()) return kStatusNote;
  if (t.state == "completed") return "";
  if (t.state == "interrupted") {
    return "The task stopped because troupe shut down while it ran; it resumes from its last "
           "message when troupe starts again (if configured to).";
  }
  return "Its session keeps the conversation so far: continue it with " +
         ContinueCall(t.session_id) + ", or delegate a new task.";
}

std::string WaitGuidance(const std::vector<DelegatedTask>& tasks) {
  size_t done = 0;
  for (const DelegatedTask& t : tasks) done += t.final() ? 1 : 0;
  std::string out;
  if (done > 0) out = kReadFinished;
  if (done < tasks.size()) out += std::string(out.empty() ? "" : " ") + kOthersRun;
  return out;
}

std::string CancelGuidance(const std::vector<DelegatedTask>& before) {
  const std::vector<const DelegatedTask*> cancelled = CancelledOf(before);
  if (cancelled.empty()) return "";
  const std::vector<const DelegatedTask*> started = StartedOf(cancelled);
  if (started.empty()) return kNothingToContinue;
  std::string sessions;
  for (const DelegatedTask* t : started) {
    if (!sessions.empty()) sessions += ", ";
    sessions += OneLine(t->session_id) + " (" + OneLine(Shorten(t->description, 80)) + ")";
  }
  return "To continue a cancelled task, use " + std::string(kContinueCancelled) +
         ". Continuable sessions: " + sessions + ".";
}

std::string SpendLine(const UsageTotals& u) {
  return fmt::format("{} tokens ({} in, {} out) in {} model request{}, {}", u.tokens(),
                     u.input_tokens, u.output_tokens, u.requests, u.requests == 1 ? "" : "s",
                     FormatCost(u));
}

std::string FormatTaskStatus(const DelegatedTask& t) {
  std::string out = "## Task Status\n\n| Field | Value |\n| --- | --- |\n";
  out += "| Task ID | " + Code(t.task_id) + " |\n";
  out += "| Description | " + Cell(t.description) + " |\n";
  out += "| Agent | " + Cell(t.agent) + " |\n";
  if (!t.model.empty()) out += "| Model | " + Cell(t.model) + " |\n";
  out += "| Status | **" + Cell(t.state) + "** |\n";
  if (t.state == "pending") {
    if (t.queue_position > 0) {
      out += "| Queue position | " + std::to_string(t.queue_position) + " |\n";
    }
    if (!t.waiting_reason.empty()) out += "| Waiting for | " + Cell(t.waiting_reason) + " |\n";
    out += "| Queued for | " + FormatDuration(t.duration_ms) + " |\n";
  } else {
    out += "| Duration | " + FormatDuration(t.duration_ms) + " |\n";
  }
  out += "| Session ID | " + Code(t.session_id) + " |\n";
  if (t.state != "pending") {
    out += "| Last tool | " + (t.last_tool.empty() ? "none yet" : Cell(t.last_tool)) + " |\n";
  }
  if (t.usage.requests > 0) out += "| Spend | " + Cell(SpendLine(t.usage)) + " |\n";
  out += "\n> **Note**: " + std::string(kStatusNote) + "\n\n## Original Prompt\n\n";
  std::string prompt = ToValidUtf8(t.prompt);
  if (prompt.size() > kReportPromptBytes) {
    std::string_view kept = Utf8Prefix(prompt, kReportPromptBytes);
    prompt = std::string(kept) + "\n" +
             TruncationMarker(FormatCount(prompt.size() - kept.size()) + " more bytes");
  }
  return out + prompt;
}

std::string FormatTaskResult(const DelegatedTask& t) {
  std::string out = "Task Result\n\n";
  out += "Task ID: " + OneLine(t.task_id) + "\n";
  out += "Description: " + OneLine(t.description) + "\n";
  out += "Duration: " + FormatDuration(t.duration_ms) + "\n";
  if (t.usage.requests > 0) out += "Spend: " + SpendLine(t.usage) + "\n";
  out += "Session ID: " + OneLine(t.session_id) + "\n\n---\n\n";
  out += t.result.empty() ? std::string("(the task finished without any text)")
                          : Body(t.result, "result");
  return out;
}

std::string FormatTaskError(const DelegatedTask& t) {
  std::string title = "Task Error";
  if (t.state == "cancelled") title = "Task Cancelled";
  if (t.state == "interrupted") title = "Task Interrupted";
  std::string out = title + "\n\n";
  out += "Task ID: " + OneLine(t.task_id) + "\n";
  out += "Description: " + OneLine(t.description) + "\n";
  out += "Status: " + OneLine(t.state) + "\n";
  out += "Duration: " + FormatDuration(t.duration_ms) + "\n";
  if (t.usage.requests > 0) out += "Spend: " + SpendLine(t.usage) + "\n";
  out += "Session ID: " + OneLine(t.session_id) + "\n\n---\n\n";
  out += t.error.empty() ? std::string("(no reason was recorded)") : Body(t.error, "error");
  return out + "\n\n" + ReportGuidance(t);
}

std::string FormatTaskReport(const DelegatedTask& t) {
  if (!t.final()) return FormatTaskStatus(t);
  if (t.state == "completed") return FormatTaskResult(t);
  return FormatTaskError(t);
}

std::string FormatCancelled(const std::vector<DelegatedTask>& before) {
  const std::vector<const DelegatedTask*> cancelled = CancelledOf(before);
  std::vector<const DelegatedTask*> finished;
  for (const DelegatedTask& t : before) {
    if (t.final()) finished.push_back(&t);
  }

  std::string out;
  if (before.empty()) return "No active background tasks to cancel.";
  if (cancelled.empty() && finished.size() == 1) {
    const DelegatedTask& t = *finished[0];
    return "Task " + OneLine(t.task_id) + " is already " + OneLine(t.state) +
           "; there is nothing to cancel. Read it with " + ResultCall(t.task_id) + ".";
  }
  if (!cancelled.empty()) {
    out += "Cancelled " + std::to_string(cancelled.size()) + " background task(s):\n\n";
    out += "| Task ID | Description | Status | Session ID |\n| --- | --- | --- | --- |\n";
    for (const DelegatedTask* t : cancelled) {
      out += "| " + Code(t->task_id) + " | " + Cell(t->description, kReportCellBytes) + " | " +
             Cell(t->state) + " | " +
             (t->state == "pending" ? std::string("(not started)") : Code(t->session_id)) + " |\n";
    }
  }
  if (!finished.empty()) {
    if (!out.empty()) out += "\n";
    out += "Already finished, not cancelled:\n";
    for (const DelegatedTask* t : finished) {
      out += "- " + Code(t->task_id) + " (" + OneLine(t->state) + ")\n";
    }
  }
  if (cancelled.empty()) return out;

  out += "\n## Continue Instructions\n\n";
  std::string sessions;
  for (const DelegatedTask* t : StartedOf(cancelled)) {
    sessions += "- " + Code(t->session_id) + " (" + OneLine(Shorten(t->description, 80)) + ")\n";
  }
  if (sessions.empty()) return out + kNothingToContinue;
  out += "To continue a cancelled task, use:\n\n    " + std::string(kContinueCancelled) +
         "\n\nContinuable sessions:\n" + sessions;
  out.pop_back();  // the last newline
  return out;
}

std::string FormatWaitSummary(const std::vector<DelegatedTask>& tasks, bool timed_out,
                              int64_t waited_ms) {
  if (tasks.empty()) return "No background tasks to wait for.";
  size_t done = 0;
  for (const DelegatedTask& t : tasks) done += t.final() ? 1 : 0;
  const size_t open = tasks.size() - done;
  std::string out;
  if (timed_out) out = "Timed out after " + FormatDuration(waited_ms) + ": ";
  if (open == 0) {
    out += tasks.size() == 1 ? "The task finished.\n\n"
                             : "All " + std::to_string(tasks.size()) + " tasks finished.\n\n";
  } else {
    out += std::to_string(done) + " of " + std::to_string(tasks.size()) + " tasks finished; " +
           std::to_string(open) + (open == 1 ? " is" : " are") + " still pending or running.\n\n";
  }
  out +=
      "| Task ID | Description | Agent | Status | Duration | Session ID |\n"
      "| --- | --- | --- | --- | --- | --- |\n";
  for (const DelegatedTask& t : tasks) {
    out += "| " + Code(t.task_id) + " | " + Cell(t.description, kReportCellBytes) + " | " +
           Cell(t.agent) + " | " + StateCell(t) + " | " + DurationCell(t) + " | " +
           Code(t.session_id) + " |\n";
  }
  if (done > 0) out += "\n" + std::string(kReadFinished);
  if (open > 0) out += "\n" + std::string(kOthersRun);
  return out;
}

std::string FormatTaskList(const std::vector<DelegatedTask>& tasks) {
  if (tasks.empty()) return "No background tasks.";
  std::string out = "Background tasks (" + std::to_string(tasks.size()) + "):\n\n";
  out +=
      "| Task ID | Description | Agent | Status | Duration | Last tool | Session ID |\n"
      "| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const DelegatedTask& t : tasks) {
    out += "| " + Code(t.task_id) + " | " + Cell(t.description, kReportCellBytes) + " | " +
           Cell(t.agent) + " | " + StateCell(t) + " | " + DurationCell(t) + " | " +
           (t.last_tool.empty() ? std::string("-") : Cell(t.last_tool)) + " | " +
           Code(t.session_id) + " |\n";
  }
  out.pop_back();
  return out;
}

std::string FormatTranscript(const std::string& session_id,
                             const std::vector<Result<ChatMessage>>& messages, size_t max_bytes) {
  std::string out = "## Session " + OneLine(session_id) + " (" +
                    CountOf(messages.size(), "message", "messages") + ")\n";
  if (messages.empty()) return out + "\n(no messages)";
  std::vector<std::string> blocks;
  blocks.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i)
    blocks.push_back(TranscriptBlock(i + 1, messages[i]));

  // Keep the first block (the original prompt), then as many of the latest as fit.
  size_t budget = max_bytes > out.size() + blocks[0].size() + 1
                      ? max_bytes - out.size() - blocks[0].size() - 1
                      : 0;
  size_t first_kept = blocks.size();
  while (first_kept > 1 && blocks[first_kept - 1].size() + 1 <= budget) {
    budget -= blocks[first_kept - 1].size() + 1;
    --first_kept;
  }
  out += "\n" + blocks[0];
  if (first_kept > 1) {
    out += "\n" +
           TruncationMarker(CountOf(first_kept - 1, "message", "messages") +
                            " left out here; the latest are shown") +
           "\n";
  }
  for (size_t i = first_kept; i < blocks.size(); ++i) out += "\n" + blocks[i];
  out.pop_back();
  return out;
}

}  // namespace troupe
