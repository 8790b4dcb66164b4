// Over 600 lines on purpose: every text the CLI prints about tasks (tables, details, transcripts,
// event lines, spend) shares the private helpers at the top (Member, Indent, KeyValues, Plural)
// and the state colours; split by command, each file would need its own copy of them.
#include "cli/task_format.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <set>

#include "core/duration_format.h"

namespace troupe {
namespace {

using json = nlohmann::json;

const json& Member(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// Every line of `text` indented by `indent`; "" stays "".
std::string Indent(const std::string& text, const std::string& indent) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += indent;
    out.append(text, start, end - start);
    out += '\n';
    start = end + 1;
  }
  return out;
}

std::string OrDash(std::string s) { return s.empty() ? "-" : s; }

std::string ShortJson(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Aligned "key  value" lines.
std::string KeyValues(const std::vector<std::pair<std::string, std::string>>& rows,
                      const std::string& indent) {
  size_t width = 0;
  for (const auto& [k, v] : rows) width = std::max(width, k.size());
  std::string out;
  for (const auto& [k, v] : rows) {
    out += indent + k + std::string(width - k.size() + 2, ' ') + OneLine(v) + "\n";
  }
  return out;
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string TimeText(const json& task) { return QueueTimeText(task); }

}  // namespace

std::string JsonString(const json& object, const char* key, std::string fallback) {
  const json& v = Member(object, key);
  return v.is_string() ? v.get<std::string>() : fallback;
}

int64_t JsonInt(const json& object, const char* key, int64_t fallback) {
  const json& v = Member(object, key);
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number()) return static_cast<int64_t>(v.get<double>());
  return fallback;
}

bool IsEndedState(std::string_view state) {
  return state == "completed" || state == "error" || state == "cancelled" || state == "interrupted";
}

std::string StateSgr(std::string_view state) {
  if (state == "pending") return "33";
  if (state == "running") return "36";
  if (state == "completed") return "32";
  if (state == "error") return "31";
  if (state == "cancelled") return "90";
  if (state == "interrupted") return "35";
  return "";
}

std::string QueueTimeText(const json& task) {
  const std::string state = JsonString(task, "state");
  if (state == "pending") {
    const int64_t position = JsonInt(task, "queue_position");
    const std::string queued = "queued " + FormatDuration(JsonInt(task, "queued_ms"));
    return position > 0 ? fmt::format("#{} {}", position, queued) : queued;
  }
  const int64_t duration = JsonInt(task, "duration_ms");
  if (duration == 0 && JsonInt(task, "started_at_ms") == 0) return "-";
  return FormatDuration(duration);
}

std::string FormatClock(int64_t at_ms) {
  if (at_ms <= 0) return "-";
  const time_t seconds = static_cast<time_t>(at_ms / 1000);
  struct tm tm;
  localtime_r(&seconds, &tm);
  char buffer[32];
  strftime(buffer, sizeof buffer, "%H:%M:%S", &tm);
  return buffer;
}

std::string FormatDateTime(int64_t at_ms) {
  if (at_ms <= 0) return "-";
  const time_t seconds = static_cast<time_t>(at_ms / 1000);
  struct tm tm;
  localtime_r(&seconds, &tm);
  char buffer[40];
  strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &tm);
  return buffer;
}

std::string TaskTable(const std::vector<json>& tasks, const TableOptions& options) {
  // When the terminal is narrow the description gives way first, then long tool and model
  // names; ids, states and times are never cut.
  const std::vector<TableColumn> columns = {{"ID"},
                                            {"AGENT"},
                                            {"MODEL", Align::kLeft, true, 16},
                                            {"STATE"},
                                            {"QUEUE/TIME"},
                                            {"LAST TOOL", Align::kLeft, true, 10},
                                            {"DESCRIPTION", Align::kLeft, true, 10}};
  std::vector<std::vector<TableCell>> rows;
  // Spend gets a column once a task of the listing has made a model request.
  const bool spend = std::any_of(tasks.begin(), tasks.end(), [](const json& t) {
    return JsonInt(Member(t, "usage"), "requests") > 0;
  });
  std::vector<TableColumn> shown = columns;
  if (spend) shown.insert(shown.begin() + 5, TableColumn{"TOKENS/COST"});
  for (const json& t : tasks) {
    const std::string state = JsonString(t, "state");
    std::vector<TableCell> row = {JsonString(t, "id"),
                                  JsonString(t, "agent"),
                                  JsonString(t, "model"),
                                  TableCell(state, StateSgr(state)),
                                  QueueTimeText(t),
                                  OrDash(JsonString(t, "last_tool")),
                                  JsonString(t, "description")};
    if (spend) row.insert(row.begin() + 5, TableCell(SpendText(Member(t, "usage"))));
    rows.push_back(std::move(row));
  }
  return RenderTable(shown, rows, options);
}

std::string SpendText(const json& usage) {
  if (JsonInt(usage, "requests") == 0) return "-";
  const int64_t tokens = JsonInt(usage, "input_tokens") + JsonInt(usage, "output_tokens");
  const std::string cost = JsonString(usage, "cost");
  return fmt::format("{} tok, {}", CompactCount(tokens), cost.empty() ? "cost unknown" : cost);
}

std::string CompactCount(int64_t n) {
  if (n < 10'000) return std::to_string(n);
  if (n < 1'000'000) return fmt::format("{}k", n / 1000);
  return fmt::format("{:.1f}M", static_cast<double>(n) / 1e6);
}

std::string TaskSummaryTable(const std::vector<json>& tasks, const TableOptions& options) {
  const std::vector<TableColumn> columns = {
      {"ID"}, {"STATE"}, {"TIME"}, {"DESCRIPTION", Align::kLeft, true, 12}};
  std::vector<std::vector<TableCell>> rows;
  for (const json& t : tasks) {
    const std::string state = JsonString(t, "state");
    std::string description = JsonString(t, "description");
    const std::string error = JsonString(t, "error");
    if (!error.empty() && state != "completed") description += " — " + error;
    rows.push_back(
        {JsonString(t, "id"), TableCell(state, StateSgr(state)), TimeText(t), description});
  }
  return RenderTable(columns, rows, options);
}

std::string StopReasonText(std::string_view reason) {
  if (reason == "length" || reason == "max_tokens" || reason == "max_output_tokens") {
    return fmt::format("{} (the reply was cut off at the output limit)", reason);
  }
  if (reason == "refusal") return "refusal (the model refused)";
  if (reason == "content_filter") return "content_filter (the provider's filter stopped the reply)";
  return std::string(reason);
}

std::string TaskDetails(const json& task, const json& session, bool color) {
  const std::string state = JsonString(task, "state");
  std::string out =
      fmt::format("{}  {}\n", JsonString(task, "id"), Paint(state, StateSgr(state), color));
  std::vector<std::pair<std::string, std::string>> rows;
  std::set<std::string> shown = {"id", "state", "prompt", "result", "error", "prompt_truncated"};
  auto add = [&](const char* key, const std::string& label, std::string value) {
    shown.insert(key);
    rows.emplace_back(label, std::move(value));
  };
  add("description", "description", OrDash(JsonString(task, "description")));
  add("agent", "agent", OrDash(JsonString(task, "agent")));
  add("model", "model", OrDash(JsonString(task, "model")));
  add("session_id", "session", OrDash(JsonString(task, "session_id")));
  add("parent_session_id", "parent session", OrDash(JsonString(task, "parent_session_id")));
  add("owner", "owner", OrDash(JsonString(task, "owner")));
  add("attempt", "attempt", std::to_string(JsonInt(task, "attempt")));
  add("depth", "depth", std::to_string(JsonInt(task, "depth")));
  add("pool", "pool", OrDash(JsonString(task, "pool")));
  {
    const int64_t position = JsonInt(task, "queue_position");
    const std::string reason = JsonString(task, "waiting_reason");
    std::string queue = position > 0 ? fmt::format("#{}", position) : "-";
    if (!reason.empty()) queue += " (" + reason + ")";
    add("queue_position", "queue position", queue);
    shown.insert("waiting_reason");
  }
  add("created_at_ms", "created", FormatDateTime(JsonInt(task, "created_at_ms")));
  add("queued_at_ms", "queued at", FormatDateTime(JsonInt(task, "queued_at_ms")));
  add("queued_ms", "queued for", FormatDuration(JsonInt(task, "queued_ms")));
  add("started_at_ms", "started", FormatDateTime(JsonInt(task, "started_at_ms")));
  add("finished_at_ms", "finished", FormatDateTime(JsonInt(task, "finished_at_ms")));
  add("duration_ms", "ran for",
      QueueTimeText(json{{"state", "running"},
                         {"duration_ms", JsonInt(task, "duration_ms")},
                         {"started_at_ms", JsonInt(task, "started_at_ms")}}));
  add("updated_at_ms", "updated", FormatDateTime(JsonInt(task, "updated_at_ms")));
  add("last_activity_at_ms", "last activity", FormatDateTime(JsonInt(task, "last_activity_at_ms")));
  add("turns", "turns", std::to_string(JsonInt(task, "turns")));
  {
    std::string calls = std::to_string(JsonInt(task, "tool_calls"));
    const std::string last = JsonString(task, "last_tool");
    if (!last.empty()) calls += " (last: " + last + ")";
    add("tool_calls", "tool calls", calls);
    shown.insert("last_tool");
  }
  if (task.is_object() && task.contains("stop_reason")) {
    add("stop_reason", "last stop", OrDash(StopReasonText(JsonString(task, "stop_reason"))));
  }
  add("input_tokens", "tokens",
      fmt::format("{} in, {} out", JsonInt(task, "input_tokens"), JsonInt(task, "output_tokens")));
  shown.insert("output_tokens");
  const json& usage = Member(task, "usage");
  if (usage.is_object()) {
    add("usage", "usage", UsageText(usage));
    const json& budget = Member(task, "budget");
    std::vector<std::string> limits;
    if (Member(budget, "max_tokens").is_number()) {
      limits.push_back(fmt::format("max {} tokens", JsonInt(budget, "max_tokens")));
    }
    if (Member(budget, "max_cost_usd").is_number()) {
      limits.push_back(fmt::format("max ${:.2f}", budget["max_cost_usd"].get<double>()));
    }
    std::string joined;
    for (const std::string& l : limits) joined += (joined.empty() ? "" : ", ") + l;
    add("budget", "budget", joined.empty() ? "none" : joined);
    const json& tree = Member(task, "tree");
    if (tree.is_object()) {
      std::string text = fmt::format("{} tasks ({} delegated, {} running), {}",
                                     JsonInt(tree, "tasks"), JsonInt(tree, "delegated"),
                                     JsonInt(tree, "running"), UsageText(Member(tree, "usage")));
      if (JsonInt(tree, "max_tasks") > 0) {
        text += fmt::format("; cap {} tasks", JsonInt(tree, "max_tasks"));
      }
      if (Member(tree, "max_cost_usd").is_number()) {
        text += fmt::format("; max ${:.2f}", tree["max_cost_usd"].get<double>());
      }
      if (!JsonString(tree, "stopped").empty()) text += "; stopped: " + JsonString(tree, "stopped");
      add("tree", "tree " + JsonString(tree, "root_session_id"), text);
    }
    shown.insert({"root_session_id", "requests"});
  }
  const json& worktree = Member(task, "worktree");
  std::string worktree_text;
  if (worktree.is_object()) {
    const json& commits = Member(worktree, "commits");
    const size_t count = commits.is_array() ? commits.size() : 0;
    add("worktree", "worktree",
        fmt::format("branch {} from {}, {} commit{}{}; {}", JsonString(worktree, "branch"),
                    JsonString(worktree, "base").substr(0, 12), count, count == 1 ? "" : "s",
                    Member(worktree, "auto_committed").is_boolean() &&
                            worktree["auto_committed"].get<bool>()
                        ? " (uncommitted changes committed by troupe)"
                        : "",
                    Member(worktree, "removed").is_boolean() && worktree["removed"].get<bool>()
                        ? "worktree removed"
                        : "in " + JsonString(worktree, "path")));
    for (size_t i = 0; i < count; ++i) {
      if (commits[i].is_string()) worktree_text += commits[i].get<std::string>() + "\n";
    }
    const std::string stat = JsonString(worktree, "diff_stat");
    if (!stat.empty()) worktree_text += stat + "\n";
    if (!JsonString(worktree, "error").empty())
      worktree_text += "clean-up failed: " + JsonString(worktree, "error") + "\n";
  } else {
    shown.insert("worktree");
  }
  // Fields this version does not know yet, as they are.
  if (task.is_object()) {
    for (auto it = task.begin(); it != task.end(); ++it) {
      if (shown.count(it.key()) == 0) rows.emplace_back(it.key(), ShortJson(it.value()));
    }
  }
  out += KeyValues(rows, "  ");

  auto block = [&](const char* title, const std::string& text) {
    if (text.empty()) return;
    out += fmt::format("\n{}:\n", title);
    out += Indent(text, "  ");
  };
  std::string prompt = JsonString(task, "prompt");
  if (Member(task, "prompt_truncated").is_boolean() && task["prompt_truncated"].get<bool>()) {
    prompt += " …";
  }
  block("prompt", prompt);
  block("result", JsonString(task, "result"));
  block("error", JsonString(task, "error"));
  block("worktree", worktree_text);

  const json& s = Member(session, "session");
  if (s.is_object()) {
    out += fmt::format("\nsession {}:\n", JsonString(s, "id"));
    std::vector<std::pair<std::string, std::string>> srows = {
        {"title", OrDash(JsonString(s, "title"))},
        {"agent", OrDash(JsonString(s, "agent"))},
        {"model", OrDash(JsonString(s, "model"))},
        {"workspace", OrDash(JsonString(s, "workspace"))},
        {"parent session", OrDash(JsonString(s, "parent_session_id"))},
        {"owner", OrDash(JsonString(s, "owner"))},
        {"depth", std::to_string(JsonInt(s, "depth"))},
        {"created", FormatDateTime(JsonInt(s, "created_at_ms"))},
        {"updated", FormatDateTime(JsonInt(s, "updated_at_ms"))},
    };
    const json& tasks = Member(session, "tasks");
    if (tasks.is_array()) {
      std::string list;
      for (const json& t : tasks) {
        if (!list.empty()) list += ", ";
        list += JsonString(t, "id") + " " + JsonString(t, "state");
      }
      srows.emplace_back("tasks", OrDash(list));
    }
    out += KeyValues(srows, "  ");
  }
  const json& todos = Member(session, "todos");
  if (todos.is_array() && !todos.empty()) {
    out += "\ntodos:\n";
    for (const json& todo : todos) {
      const std::string status = JsonString(todo, "status");
      const char* box = status == "completed"     ? "[x]"
                        : status == "in_progress" ? "[~]"
                        : status == "cancelled"   ? "[-]"
                                                  : "[ ]";
      std::string line = fmt::format("  {} {}", box, OneLine(JsonString(todo, "content")));
      const std::string priority = JsonString(todo, "priority");
      if (!priority.empty()) line += " (" + priority + ")";
      out += line + "\n";
    }
  }
  return out;
}

std::string SessionDetails(const json& session, const TableOptions& options) {
  const json& s = Member(session, "session");
  std::string out = fmt::format("{}\n", JsonString(s, "id"));
  std::vector<std::pair<std::string, std::string>> rows;
  std::set<std::string> shown;
  auto add = [&](const char* key, const std::string& label, std::string value) {
    shown.insert(key);
    rows.emplace_back(label, std::move(value));
  };
  shown.insert("id");
  add("title", "title", OrDash(JsonString(s, "title")));
  add("agent", "agent", OrDash(JsonString(s, "agent")));
  add("model", "model", OrDash(JsonString(s, "model")));
  add("workspace", "workspace", OrDash(JsonString(s, "workspace")));
  add("parent_session_id", "parent session", OrDash(JsonString(s, "parent_session_id")));
  add("owner", "owner", OrDash(JsonString(s, "owner")));
  add("depth", "depth", std::to_string(JsonInt(s, "depth")));
  add("created_at_ms", "created", FormatDateTime(JsonInt(s, "created_at_ms")));
  add("updated_at_ms", "updated", FormatDateTime(JsonInt(s, "updated_at_ms")));
  if (s.is_object()) {
    for (auto it = s.begin(); it != s.end(); ++it) {
      if (shown.count(it.key()) == 0) rows.emplace_back(it.key(), ShortJson(it.value()));
    }
  }
  out += KeyValues(rows, "  ");
  const json& tasks = Member(session, "tasks");
  if (tasks.is_array() && !tasks.empty()) {
    out += "\ntasks:\n";
    out += TaskTable(std::vector<json>(tasks.begin(), tasks.end()), options);
  }
  const json& todos = Member(session, "todos");
  if (todos.is_array() && !todos.empty()) {
    // TaskDetails formats todos; reuse it with an empty task.
    const std::string details = TaskDetails(json::object(), json{{"todos", todos}}, false);
    const size_t at = details.find("\ntodos:\n");
    if (at != std::string::npos) out += details.substr(at);
  }
  return out;
}

std::string Transcript(const json& messages) {
  std::string out;
  const json& list = Member(messages, "messages");
  if (!list.is_array()) return out;
  std::string last_task;
  for (const json& entry : list) {
    const json& m = Member(entry, "message");
    std::string role = JsonString(m, "role", JsonString(entry, "role"));
    const std::string task = JsonString(entry, "task_id");
    std::string head = fmt::format("#{} {}", JsonInt(entry, "seq"), role);
    if (role == "tool") {
      head += ' ';
      head += JsonString(m, "name");
      if (Member(m, "is_error").is_boolean() && m["is_error"].get<bool>()) head += " (error)";
    }
    if (!task.empty() && task != last_task) head += "  [" + task + "]";
    last_task = task;
    const int64_t at = JsonInt(entry, "created_at_ms");
    if (at > 0) head += "  " + FormatClock(at);
    const std::string stop = JsonString(m, "stop_reason");
    if (role == "assistant" && !stop.empty()) head += "  stop: " + StopReasonText(stop);
    if (!out.empty()) out += "\n";
    out += head + "\n";
    const std::string reasoning = JsonString(m, "reasoning");
    if (!reasoning.empty()) out += Indent("(thinking) " + reasoning, "  ");
    const std::string content = JsonString(m, "content");
    if (!content.empty()) out += Indent(content, "  ");
    const json& calls = Member(m, "tool_calls");
    if (calls.is_array()) {
      for (const json& call : calls) {
        std::string args = JsonString(call, "arguments");
        out += fmt::format("  → {} {}\n", JsonString(call, "name"), OneLine(args));
      }
    }
  }
  return out;
}

json EventJson(const SseEvent& event) {
  json data = json::parse(event.data, nullptr, /*allow_exceptions=*/false);
  if (data.is_discarded()) data = event.data;
  json id = nullptr;
  if (data.is_object() && data.contains("id") && data["id"].is_number_integer()) {
    id = data["id"];
  } else if (event.event != "task.progress" && !event.id.empty()) {
    char* end = nullptr;
    const long long n = std::strtoll(event.id.c_str(), &end, 10);
    if (end != nullptr && *end == '\0') id = n;
  }
  return json{{"id", id}, {"event", event.event}, {"data", data}};
}

namespace {

// What a progress event says, or "" when it only counts tokens.
std::string ProgressWhat(const json& data, bool with_counts) {
  const std::string tool = JsonString(data, "tool");
  const std::string note = JsonString(data, "note");
  std::string what;
  if (!tool.empty()) what = "tool " + tool;
  if (!note.empty()) what += (what.empty() ? "" : "; ") + OneLine(note);
  if (with_counts) {
    std::vector<std::string> counts;
    if (int64_t n = JsonInt(data, "turns")) counts.push_back("+" + Plural(n, "turn", "turns"));
    if (int64_t n = JsonInt(data, "tool_calls")) {
      counts.push_back("+" + Plural(n, "tool call", "tool calls"));
    }
    const int64_t in = JsonInt(data, "input_tokens");
    const int64_t out = JsonInt(data, "output_tokens");
    if (in != 0 || out != 0) counts.push_back(fmt::format("+{} in/+{} out tokens", in, out));
    std::string joined;
    for (const std::string& c : counts) joined += (joined.empty() ? "" : ", ") + c;
    if (!joined.empty()) what += (what.empty() ? "" : " ") + ("(" + joined + ")");
  }
  return what;
}

std::string StateChange(const json& data, bool color) {
  const std::string state = JsonString(data, "state");
  const std::string from = JsonString(data, "from");
  std::string text = from.empty() || from == state
                         ? "new, " + Paint(state, StateSgr(state), color)
                         : from + " → " + Paint(state, StateSgr(state), color);
  const std::string error = JsonString(data, "error");
  if (!error.empty()) text += ": " + OneLine(error);
  return text;
}

}  // namespace

std::string EventLine(const SseEvent& event, int64_t now_ms) {
  const json j = EventJson(event);
  const json& data = j["data"];
  const int64_t at = JsonInt(data, "at_ms", now_ms);
  const std::string id = j["id"].is_null() ? "" : std::to_string(j["id"].get<int64_t>());
  const std::string task = JsonString(data, "task_id");
  if (event.event == "task.state") {
    std::string line =
        fmt::format("{:>6}  {}  {}  {}", id, FormatClock(at), task, StateChange(data, false));
    const std::string agent = JsonString(data, "agent");
    const std::string model = JsonString(data, "model");
    const std::string description = JsonString(data, "description");
    if (!agent.empty() || !model.empty()) line += fmt::format("  [{} {}]", agent, model);
    if (!description.empty()) line += "  " + OneLine(description);
    return line;
  }
  if (event.event == "task.progress") {
    return fmt::format("{:>6}  {}  {}  {}", "", FormatClock(at), task, ProgressWhat(data, true));
  }
  return fmt::format("{:>6}  {}  {}  {}", id, FormatClock(at), event.event, OneLine(event.data));
}

std::optional<std::string> ProgressLine(const SseEvent& event, int64_t now_ms, bool color) {
  const json data = json::parse(event.data, nullptr, /*allow_exceptions=*/false);
  if (!data.is_object()) return std::nullopt;
  const int64_t at = JsonInt(data, "at_ms", now_ms);
  const std::string task = JsonString(data, "task_id");
  if (event.event == "task.state") {
    return fmt::format("{}  {}  {}", FormatClock(at), task, StateChange(data, color));
  }
  if (event.event == "task.progress") {
    const std::string what = ProgressWhat(data, false);
    if (what.empty()) return std::nullopt;
    return fmt::format("{}  {}  {}", FormatClock(at), task, what);
  }
  return std::nullopt;
}

std::string UsageText(const json& usage) {
  std::string text = fmt::format(
      "{} in ({} cache read, {} cache write), {} out ({} reasoning) in {} requests: {}",
      JsonInt(usage, "input_tokens"), JsonInt(usage, "cache_read_tokens"),
      JsonInt(usage, "cache_write_tokens"), JsonInt(usage, "output_tokens"),
      JsonInt(usage, "reasoning_tokens"), JsonInt(usage, "requests"), JsonString(usage, "cost"));
  return text;
}

std::string BudgetsText(const json& spend, const TableOptions& options) {
  const json& b = Member(spend, "budgets");
  auto usd = [&](const char* key) {
    const json& v = Member(b, key);
    return v.is_number() ? fmt::format("${:.2f}", v.get<double>()) : std::string("none");
  };
  auto count = [&](const char* key) {
    const json& v = Member(b, key);
    return v.is_number() && v.get<int64_t>() > 0 ? std::to_string(v.get<int64_t>())
                                                  : std::string("none");
  };
  std::vector<std::pair<std::string, std::string>> rows = {
      {"today (UTC " + JsonString(spend, "day") + ")", UsageText(Member(spend, "today"))},
      {"daily budget", usd("daily_max_cost_usd")},
      {"per task", "max tokens " + count("task_max_tokens") + ", max cost " +
                       usd("task_max_cost_usd")},
      {"per tree", "max tasks " + count("tree_max_tasks") + ", max cost " +
                       usd("tree_max_cost_usd")},
  };
  if (!JsonString(spend, "daily_stopped").empty()) {
    rows.emplace_back("stopped", JsonString(spend, "daily_stopped"));
  }
  std::string out = KeyValues(rows, "");
  const json& trees = Member(spend, "trees");
  if (trees.is_array() && !trees.empty()) {
    const std::vector<TableColumn> columns = {
        {"TREE"},        {"TASKS"}, {"RUNNING"},  {"WAITING"},
        {"TOKENS/COST"}, {"CAP"},   {"MAX COST"}, {"STOPPED", Align::kLeft, true, 10}};
    std::vector<std::vector<TableCell>> table;
    std::vector<std::pair<std::string, std::string>> waits;
    for (const json& t : trees) {
      const json& max_cost = Member(t, "max_cost_usd");
      const json& waiting = Member(t, "waiting");
      const size_t waiting_count = waiting.is_array() ? waiting.size() : 0;
      for (size_t i = 0; i < waiting_count; ++i) {
        const json& w = waiting[i];
        waits.emplace_back(JsonString(w, "task_id") + " (" + JsonString(w, "agent") + ")",
                           "waits: " + JsonString(w, "reason"));
      }
      table.push_back({JsonString(t, "root_session_id"), std::to_string(JsonInt(t, "tasks")),
                       std::to_string(JsonInt(t, "running")), std::to_string(waiting_count),
                       SpendText(Member(t, "usage")),
                       JsonInt(t, "max_tasks") > 0 ? std::to_string(JsonInt(t, "max_tasks")) : "-",
                       max_cost.is_number() ? fmt::format("${:.2f}", max_cost.get<double>()) : "-",
                       OrDash(JsonString(t, "stopped"))});
    }
    out += "\n" + RenderTable(columns, table, options);
    if (!waits.empty()) out += "\n" + KeyValues(waits, "");
  }
  return out;
}

std::string PoolsText(const json& pools, const TableOptions& options) {
  const std::vector<TableColumn> columns = {{"POOL"},
                                            {"LEVEL"},
                                            {"LIMIT", Align::kRight},
                                            {"IN USE", Align::kRight},
                                            {"QUEUED", Align::kRight},
                                            {"COOLDOWN"}};
  std::vector<std::vector<TableCell>> rows;
  const json& list = Member(pools, "pools");
  if (list.is_array()) {
    for (const json& p : list) {
      const int64_t limit = JsonInt(p, "limit");
      const int64_t cooldown = JsonInt(p, "cooldown_remaining_ms");
      rows.push_back({JsonString(p, "key"), JsonString(p, "level"),
                      limit > 0 ? std::to_string(limit) : "none",
                      std::to_string(JsonInt(p, "in_use")), std::to_string(JsonInt(p, "queued")),
                      cooldown > 0 ? FormatDuration(cooldown) : "-"});
    }
  }
  std::string out = rows.empty() ? "no pools yet (a pool appears when a task first uses it)\n"
                                 : RenderTable(columns, rows, options);
  const json& global = Member(pools, "global");
  if (global.is_object()) {
    const int64_t limit = JsonInt(global, "limit");
    out += fmt::format("global: {} running, {} pending, {}\n", JsonInt(global, "running"),
                       JsonInt(global, "pending"),
                       limit > 0 ? fmt::format("limit {}", limit) : std::string("no limit"));
  }
  return out;
}

std::string AgentsTable(const json& agents, const TableOptions& options) {
  // The description keeps at least 30 columns; the tool list gives way first.
  const std::vector<TableColumn> columns = {{"NAME"},
                                            {"MODEL", Align::kLeft, true, 16},
                                            {"SOURCE"},
                                            {"TOOLS", Align::kLeft, true, 10},
                                            {"DESCRIPTION", Align::kLeft, true, 30}};
  std::vector<std::vector<TableCell>> rows;
  const json& list = Member(agents, "agents");
  if (list.is_array()) {
    for (const json& a : list) {
      std::string tools;
      const json& t = Member(a, "tools");
      if (t.is_array()) {
        for (const json& name : t) {
          if (!name.is_string()) continue;
          if (!tools.empty()) tools += ',';
          tools += name.get<std::string>();
        }
      }
      rows.push_back({JsonString(a, "name"), OrDash(JsonString(a, "model")),
                      JsonString(a, "source"), OrDash(tools), JsonString(a, "description")});
    }
  }
  std::string out = RenderTable(columns, rows, options);
  const json& model = Member(agents, "default_model");
  const std::string name = JsonString(model, "model");
  if (name.empty()) return out;  // an older daemon
  out += "\nAgents with no model (-) use " + name;
  const std::string origin = JsonString(model, "origin");
  out += origin.empty() ? ".\n" : " (" + origin + ").\n";
  const std::string hint = JsonString(model, "hint");
  if (!hint.empty()) out += hint + "\n";
  return out;
}

std::string CancelTable(const std::vector<std::pair<json, std::string>>& cancelled,
                        const TableOptions& options) {
  const std::vector<TableColumn> columns = {
      {"ID"}, {"WAS"}, {"AGENT"}, {"SESSION"}, {"DESCRIPTION", Align::kLeft, true, 12}};
  std::vector<std::vector<TableCell>> rows;
  for (const auto& [task, was] : cancelled) {
    rows.push_back({JsonString(task, "id"), TableCell(was, StateSgr(was)),
                    JsonString(task, "agent"), JsonString(task, "session_id"),
                    JsonString(task, "description")});
  }
  return RenderTable(columns, rows, options);
}

}  // namespace troupe
