#include "cli/task_commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "cli/exit_codes.h"
#include "cli/task_format.h"
#include "core/duration_format.h"

namespace troupe {
namespace {

using json = nlohmann::json;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

// The exit code of a task that ended: 0 completed, else 3.
int ExitForState(const std::string& state) {
  return state == "completed" ? kExitOk : kExitTaskFailed;
}

// "failed: <error>", "was cancelled: <reason>", "was interrupted ..." for messages.
std::string EndedBadly(const json& task) {
  const std::string state = JsonString(task, "state");
  const std::string error = JsonString(task, "error");
  std::string what;
  if (state == "error") {
    what = "failed";
  } else if (state == "cancelled") {
    what = "was cancelled";
  } else if (state == "interrupted") {
    what = "was interrupted (the daemon stopped; it resumes when the daemon starts again)";
  } else {
    what = "is " + state;
  }
  return error.empty() ? what : what + ": " + error;
}

void PrintText(std::ostream& out, const std::string& text) {
  out << text;
  if (!text.empty() && text.back() != '\n') out << '\n';
  out.flush();
}

// POST /v1/tasks with `body`, then print the id (or the JSON), or wait for the result.
int Launch(CommandEnv& env, json body, bool wait, int64_t timeout_ms, bool as_json) {
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  Result<json> created = (*client)->Post("/v1/tasks", body);
  if (!created.ok()) return env.FailRequest(created.status());
  const json task = created->value("task", json::object());
  const std::string id = JsonString(task, "id");
  if (id.empty()) return env.Error(kExitError, "the daemon answered without a task id");

  if (!wait) {
    if (as_json) {
      env.PrintJson(*created);
    } else {
      env.out() << id << "\n";
      env.out().flush();
      if (env.io().err_tty) {
        env.err() << fmt::format(
            "started {} ({} on {}); `troupe output {} --wait` for its result\n", id,
            JsonString(task, "agent"), JsonString(task, "model"), id);
      }
    }
    return kExitOk;
  }

  const std::string state = JsonString(task, "state");
  std::string launched = fmt::format("{}  {}  new, {}", FormatClock(WallMs()), id,
                                     Paint(state, StateSgr(state), env.io().ErrColor()));
  if (JsonInt(task, "queue_position") > 0) {
    launched += fmt::format(" (#{} in the queue of {})", JsonInt(task, "queue_position"),
                            JsonString(task, "pool", JsonString(task, "model")));
  }
  env.err() << launched << "\n";
  Result<WaitOutcome> outcome = WaitForTasks(env, **client, {id}, false, timeout_ms, true);
  if (!outcome.ok()) return env.FailRequest(outcome.status());
  const json& final_task = outcome->tasks.at(0);
  if (outcome->timed_out) {
    if (as_json) env.PrintJson(json{{"task", final_task}, {"timed_out", true}});
    return env.Error(kExitTimeout,
                     fmt::format("{} is still {} after {}", id, JsonString(final_task, "state"),
                                 FormatDuration(timeout_ms)),
                     fmt::format("`troupe output {} --wait` waits for its result", id));
  }
  const std::string final_state = JsonString(final_task, "state");
  if (as_json) {
    env.PrintJson(json{{"task", final_task}});
  } else if (final_state == "completed") {
    PrintText(env.out(), JsonString(final_task, "result"));
  }
  if (final_state != "completed") {
    return env.Error(kExitTaskFailed, fmt::format("{} {}", id, EndedBadly(final_task)),
                     fmt::format("`troupe show {}` has the details", id));
  }
  return kExitOk;
}

}  // namespace

Result<WaitOutcome> WaitForTasks(CommandEnv& env, DaemonClient& client,
                                 const std::vector<std::string>& ids, bool any, int64_t timeout_ms,
                                 bool progress) {
  std::set<std::string> wanted(ids.begin(), ids.end());
  std::set<std::string> ended;
  WaitOutcome outcome;
  Status failure;
  auto satisfied = [&] {
    return any ? !outcome.ended_order.empty() : ended.size() == wanted.size();
  };
  auto mark = [&](const std::string& id, const std::string& state) {
    if (wanted.count(id) == 0 || !IsEndedState(state) || ended.count(id) != 0) return;
    ended.insert(id);
    outcome.ended_order.push_back(id);
  };

  EventsOptions events;
  events.timeout_ms = timeout_ms;
  // Each time the stream opens, what ended before it (or while it was down) is read directly;
  // what ends later arrives as an event. An ended task stays ended, so an older event read
  // after this cannot undo it.
  events.on_open = [&] {
    std::vector<std::tuple<int64_t, std::string, std::string>> newly;  // finished at, id, state
    for (const std::string& id : ids) {
      if (ended.count(id) != 0) continue;
      Result<json> r = client.Get("/v1/tasks/" + id);
      if (!r.ok()) {
        failure = r.status();
        return;
      }
      const json task = r->value("task", json::object());
      if (IsEndedState(JsonString(task, "state"))) {
        newly.emplace_back(JsonInt(task, "finished_at_ms"), id, JsonString(task, "state"));
      }
    }
    std::sort(newly.begin(), newly.end());
    for (const auto& [at, id, state] : newly) mark(id, state);
  };
  events.on_tick = [&] { return failure.ok() && !satisfied(); };
  auto on_event = [&](const SseEvent& event) {
    if (progress) {
      if (std::optional<std::string> line = ProgressLine(event, WallMs(), env.io().ErrColor())) {
        env.err() << *line << "\n";
        env.err().flush();
      }
    }
    if (event.event == "task.state") {
      const json data = json::parse(event.data, nullptr, /*allow_exceptions=*/false);
      if (data.is_object()) mark(JsonString(data, "task_id"), JsonString(data, "state"));
    }
    return failure.ok() && !satisfied();
  };
  std::string target = WithQuery("/v1/events", "task", Join(ids, ","));
  if (!progress) target = WithQuery(target, "progress", "0");
  const Status streamed = client.Events(target, on_event, events);
  if (!failure.ok()) return failure;
  if (streamed.code() == StatusCode::kDeadlineExceeded) {
    outcome.timed_out = true;
  } else if (!streamed.ok()) {
    return streamed;
  }
  for (const std::string& id : ids) {
    Result<json> r = client.Get("/v1/tasks/" + id);
    if (!r.ok()) return r.status();
    outcome.tasks.push_back(r->value("task", json::object()));
  }
  return outcome;
}

int RunRunCommand(CommandEnv& env, const RunCommandOptions& options) {
  Result<std::string> prompt = ReadPrompt(options.prompt, env.io());
  if (!prompt.ok()) return env.Usage(prompt.status().message());
  std::error_code ec;
  std::filesystem::path workspace = options.workspace.empty()
                                        ? std::filesystem::current_path(ec)
                                        : std::filesystem::path(options.workspace);
  workspace = std::filesystem::absolute(workspace, ec).lexically_normal();
  if (!std::filesystem::is_directory(workspace, ec)) {
    return env.Usage(fmt::format("--workspace {}: not a directory", workspace.string()));
  }
  std::string dir = workspace.string();
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  json body = {{"prompt", *prompt}, {"owner", "cli"}, {"workspace", dir}};
  if (!options.agent.empty()) body["agent"] = options.agent;
  if (!options.model.empty()) {
    // "a,b,c": the task's model, then its fallback models in order (a list in the REST body).
    json models = json::array();
    for (size_t start = 0;;) {
      const size_t comma = options.model.find(',', start);
      models.push_back(options.model.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    body["model"] = models.size() == 1 ? models.front() : models;
  }
  if (!options.description.empty()) body["description"] = options.description;
  if (options.max_tokens > 0) body["max_tokens"] = options.max_tokens;
  if (options.max_cost_usd > 0) body["max_cost_usd"] = options.max_cost_usd;
  if (options.tree_max_cost_usd > 0) body["tree_max_cost_usd"] = options.tree_max_cost_usd;
  if (options.tree_max_tasks >= 0) body["tree_max_tasks"] = options.tree_max_tasks;
  if (!options.isolation.empty()) body["isolation"] = options.isolation;
  if (!options.base.empty()) body["base"] = options.base;
  return Launch(env, std::move(body), options.wait, options.timeout_ms, options.json);
}

int RunContinueCommand(CommandEnv& env, const ContinueCommandOptions& options) {
  Result<std::string> prompt = ReadPrompt(options.prompt, env.io());
  if (!prompt.ok()) return env.Usage(prompt.status().message());
  std::string session = options.session;
  if (session.rfind("bg_", 0) == 0) {  // a task id: continue its session
    Result<DaemonClient*> client = env.Client();
    if (!client.ok()) return env.Fail(client.status());
    Result<json> task = (*client)->Get("/v1/tasks/" + session);
    if (!task.ok()) return env.FailRequest(task.status());
    session = JsonString(task->value("task", json::object()), "session_id");
  }
  json body = {{"prompt", *prompt}, {"owner", "cli"}, {"session_id", session}};
  if (!options.description.empty()) body["description"] = options.description;
  return Launch(env, std::move(body), options.wait, options.timeout_ms, options.json);
}

namespace {

// The tasks `ps` shows, oldest first; `*more` when finished tasks were left out.
Result<std::vector<json>> FetchPsTasks(DaemonClient& client, const PsCommandOptions& options,
                                       bool* more) {
  std::vector<std::string> targets;
  std::string base = "/v1/tasks";
  if (!options.parent.empty()) base = WithQuery(base, "parent", options.parent);
  if (options.all) {
    targets.push_back(base);
  } else {
    targets.push_back(WithQuery(base, "status", "pending,running,interrupted"));
    targets.push_back(WithQuery(WithQuery(base, "status", "completed,error,cancelled"), "limit",
                                std::to_string(kPsFinishedShown)));
  }
  std::vector<json> tasks;
  *more = false;
  for (size_t i = 0; i < targets.size(); ++i) {
    TROUPE_ASSIGN_OR_RETURN(json answer, client.Get(targets[i]));
    if (!answer.is_object() || !answer.contains("tasks") || !answer["tasks"].is_array()) continue;
    json& list = answer["tasks"];
    if (i == 1 && static_cast<int>(list.size()) >= kPsFinishedShown) *more = true;
    // Moved, not copied: with --all the answer holds every task of the store.
    for (json& t : list) tasks.push_back(std::move(t));
  }
  std::stable_sort(tasks.begin(), tasks.end(), [](const json& a, const json& b) {
    const int64_t ta = JsonInt(a, "created_at_ms");
    const int64_t tb = JsonInt(b, "created_at_ms");
    if (ta != tb) return ta < tb;
    return JsonString(a, "id") < JsonString(b, "id");
  });
  return tasks;
}

std::string PsText(const std::vector<json>& tasks, bool more, const TableOptions& table) {
  std::string text = tasks.empty() ? std::string("no tasks\n") : TaskTable(tasks, table);
  if (more) {
    text += fmt::format("(the last {} finished tasks; `troupe ps --all` shows every task)\n",
                        kPsFinishedShown);
  }
  return text;
}

int Watch(CommandEnv& env, DaemonClient& client, const PsCommandOptions& options) {
  const bool tty = env.io().out_tty;
  int64_t last_draw = 0;
  bool dirty = true;
  bool any_active = false;
  std::string last_text;  // what was printed last: appended output does not repeat itself
  Status failure;
  auto draw = [&] {
    bool more = false;
    Result<std::vector<json>> tasks = FetchPsTasks(client, options, &more);
    last_draw = SteadyMs();
    dirty = false;
    if (!tasks.ok()) {
      failure = tasks.status();
      return;
    }
    any_active = std::any_of(tasks->begin(), tasks->end(),
                             [](const json& t) { return !IsEndedState(JsonString(t, "state")); });
    std::string text =
        options.json
            ? json{{"tasks", *tasks}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"
            : PsText(*tasks, more, env.Table());
    if (tty && !options.json) {
      env.out() << "\x1b[H\x1b[2J"
                << fmt::format("troupe ps --watch   {}   (Ctrl-C to quit)\n\n",
                               FormatClock(WallMs()))
                << text;
    } else if (text != last_text) {
      env.out() << text << (options.json ? "" : "\n");
    }
    last_text = std::move(text);
    env.out().flush();
  };
  draw();
  if (!failure.ok()) return env.FailRequest(failure);
  constexpr int64_t kMinRedrawMs = 250;
  EventsOptions events;
  events.on_tick = [&] {
    const int64_t since = SteadyMs() - last_draw;
    // On a terminal the clock and the running times move on even without events.
    if ((dirty && since >= kMinRedrawMs) || (tty && !options.json && any_active && since >= 1000)) {
      draw();
    }
    return failure.ok();
  };
  // After a reconnection, events may have been missed: read everything again.
  events.on_open = [&] { dirty = true; };
  auto on_event = [&](const SseEvent&) {
    dirty = true;
    if (SteadyMs() - last_draw >= kMinRedrawMs) draw();
    return failure.ok();
  };
  const Status streamed = client.Events("/v1/events", on_event, events);
  if (!failure.ok()) return env.FailRequest(failure);
  if (!streamed.ok()) return env.FailRequest(streamed);
  return kExitOk;
}

}  // namespace

int RunPsCommand(CommandEnv& env, const PsCommandOptions& options) {
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  if (options.watch) return Watch(env, **client, options);
  bool more = false;
  Result<std::vector<json>> tasks = FetchPsTasks(**client, options, &more);
  if (!tasks.ok()) return env.FailRequest(tasks.status());
  if (options.json) {
    env.PrintJson(json{{"tasks", std::move(*tasks)}});
  } else {
    env.out() << PsText(*tasks, more, env.Table());
    env.out().flush();
  }
  return kExitOk;
}

int RunShowCommand(CommandEnv& env, const ShowCommandOptions& options) {
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  DaemonClient& c = **client;
  if (options.id.rfind("ses_", 0) == 0) {
    Result<json> session = c.Get("/v1/sessions/" + options.id);
    if (!session.ok()) return env.FailRequest(session.status());
    if (options.json) {
      env.PrintJson(*session);
    } else {
      env.out() << SessionDetails(*session, env.Table());
    }
    return kExitOk;
  }
  Result<json> task = c.Get("/v1/tasks/" + options.id);
  if (!task.ok()) return env.FailRequest(task.status());
  json t = task->value("task", json::object());
  // The tree's spend, from a daemon that has it.
  if (Result<json> spend = c.Get("/v1/tasks/" + options.id + "/spend"); spend.ok()) {
    if (const json tree = spend->value("tree", json(nullptr)); tree.is_object()) t["tree"] = tree;
  }
  json session = nullptr;
  const std::string session_id = JsonString(t, "session_id");
  if (!session_id.empty()) {
    Result<json> s = c.Get("/v1/sessions/" + session_id);
    if (s.ok()) {
      session = *s;
    } else if (s.status().code() == StatusCode::kUnavailable) {
      return env.FailRequest(s.status());
    }
  }
  if (options.json) {
    json out = {{"task", t}};
    if (session.is_object()) {
      out["session"] = session.value("session", json::object());
      out["session_tasks"] = session.value("tasks", json::array());
      out["todos"] = session.value("todos", json::array());
    }
    env.PrintJson(out);
  } else {
    env.out() << TaskDetails(t, session, env.io().OutColor());
    env.out().flush();
  }
  return kExitOk;
}

int RunOutputCommand(CommandEnv& env, const OutputCommandOptions& options) {
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  DaemonClient& c = **client;
  const int64_t deadline = options.timeout_ms > 0 ? SteadyMs() + options.timeout_ms : INT64_MAX;
  json task;
  bool timed_out = false;
  while (true) {
    std::string target = "/v1/tasks/" + options.id;
    int64_t wait_ms = 0;
    if (options.wait) {
      wait_ms = std::min<int64_t>(60'000, deadline - SteadyMs());
      if (wait_ms > 0) target = WithQuery(target, "wait_ms", std::to_string(wait_ms));
    }
    Result<json> r = c.Get(target, wait_ms + 30'000);
    if (!r.ok()) return env.FailRequest(r.status());
    task = r->value("task", json::object());
    if (!options.wait || IsEndedState(JsonString(task, "state"))) break;
    if (SteadyMs() >= deadline) {
      timed_out = true;
      break;
    }
  }
  const std::string state = JsonString(task, "state");
  json messages;
  if (options.full) {
    Result<json> m = c.Get("/v1/sessions/" + JsonString(task, "session_id") + "/messages");
    if (!m.ok()) return env.FailRequest(m.status());
    messages = *m;
  }
  if (options.json) {
    json out = {{"task", task}};
    if (options.full) out["messages"] = messages.value("messages", json::array());
    if (options.wait) out["timed_out"] = timed_out;
    env.PrintJson(out);
  } else if (options.full) {
    env.out() << Transcript(messages);
    env.out().flush();
  } else if (state == "completed") {
    PrintText(env.out(), JsonString(task, "result"));
  }
  if (timed_out) {
    return env.Error(kExitTimeout, fmt::format("{} is still {} after {}", options.id, state,
                                               FormatDuration(options.timeout_ms)));
  }
  if (state == "pending" || state == "running") {
    return env.Error(kExitError, fmt::format("{} is still {}, no result yet", options.id, state),
                     fmt::format("`troupe output {} --wait` waits for it", options.id));
  }
  if (state != "completed") {
    return env.Error(kExitTaskFailed, fmt::format("{} {}", options.id, EndedBadly(task)));
  }
  return kExitOk;
}

int RunWaitCommand(CommandEnv& env, const WaitCommandOptions& options) {
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  DaemonClient& c = **client;
  std::vector<std::string> ids = options.ids;
  if (ids.empty()) {
    Result<json> active = c.Get(WithQuery("/v1/tasks", "status", "pending,running"));
    if (!active.ok()) return env.FailRequest(active.status());
    for (const json& t : active->value("tasks", json::array())) {
      ids.push_back(JsonString(t, "id"));
    }
    if (ids.empty()) {
      if (options.json) env.PrintJson(json{{"tasks", json::array()}, {"timed_out", false}});
      env.err() << "troupe wait: no pending or running tasks\n";
      return kExitOk;
    }
  }
  // Each id once, in the order given.
  std::vector<std::string> unique;
  for (const std::string& id : ids) {
    if (std::find(unique.begin(), unique.end(), id) == unique.end()) unique.push_back(id);
  }
  Result<WaitOutcome> outcome =
      WaitForTasks(env, c, unique, options.any, options.timeout_ms, !options.quiet);
  if (!outcome.ok()) return env.FailRequest(outcome.status());

  if (options.json) {
    env.PrintJson(json{{"tasks", outcome->tasks}, {"timed_out", outcome->timed_out}});
  } else {
    env.out() << TaskSummaryTable(outcome->tasks, env.Table());
    env.out().flush();
  }
  std::map<std::string, std::string> states;
  for (const json& t : outcome->tasks) states[JsonString(t, "id")] = JsonString(t, "state");
  std::vector<std::string> failed;
  std::vector<std::string> unfinished;
  for (const std::string& id : unique) {
    if (!IsEndedState(states[id])) {
      unfinished.push_back(id);
    } else if (states[id] != "completed") {
      failed.push_back(id);
    }
  }
  if (options.any && !outcome->ended_order.empty()) {
    const std::string& first = outcome->ended_order.front();
    return ExitForState(states[first]);
  }
  if (!failed.empty()) {
    return env.Error(kExitTaskFailed,
                     fmt::format("{} did not complete: {}", failed.size() == 1 ? "a task" : "tasks",
                                 Join(failed, ", ")),
                     "`troupe show ID` has the error");
  }
  if (outcome->timed_out) {
    return env.Error(kExitTimeout,
                     fmt::format("timed out after {}; still going: {}",
                                 FormatDuration(options.timeout_ms), Join(unfinished, ", ")));
  }
  return kExitOk;
}

int RunCancelCommand(CommandEnv& env, const CancelCommandOptions& options) {
  if (options.all == !options.ids.empty()) {
    return env.Usage(options.all ? "give task ids or --all, not both"
                                 : "which tasks? give their ids, or --all");
  }
  if (options.all && !options.reason.empty()) {
    return env.Usage("--reason goes with task ids, not with --all");
  }
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  DaemonClient& c = **client;
  std::vector<std::pair<json, std::string>> cancelled;  // task, state before
  std::vector<std::pair<json, std::string>> already;    // ended before the request
  int exit_code = kExitOk;
  json answers = json::array();
  if (options.all) {
    Result<json> r = c.Post("/v1/tasks/cancel", json{{"all", true}});
    if (!r.ok()) return env.FailRequest(r.status());
    answers.push_back(*r);
    for (const json& t : r->value("cancelled", json::array())) {
      const std::string was = t.contains("was")                 ? JsonString(t, "was")
                              : JsonInt(t, "started_at_ms") > 0 ? "running"
                                                                : "pending";
      cancelled.emplace_back(t, was);
    }
  } else {
    for (const std::string& id : options.ids) {
      json body = json::object();
      if (!options.reason.empty()) body["reason"] = options.reason;
      Result<json> r = c.Post("/v1/tasks/" + id + "/cancel", body);
      if (!r.ok()) {
        exit_code = std::max(exit_code, env.FailRequest(r.status()));
        if (r.status().code() == StatusCode::kUnavailable) return exit_code;
        continue;
      }
      answers.push_back(*r);
      const json task = r->value("task", json::object());
      const std::string was = JsonString(*r, "was", JsonString(task, "state"));
      if (IsEndedState(was)) {
        already.emplace_back(task, was);
      } else {
        cancelled.emplace_back(task, was);
      }
    }
  }
  if (options.json) {
    if (answers.empty()) return exit_code;
    env.PrintJson(options.all || answers.size() == 1 ? answers[0] : answers);
    return exit_code;
  }
  if (cancelled.empty()) {
    env.out() << "nothing to cancel\n";
  } else {
    env.out() << CancelTable(cancelled, env.Table());
    std::set<std::string> sessions;
    for (const auto& [t, was] : cancelled) sessions.insert(JsonString(t, "session_id"));
    env.out() << fmt::format("\n{} can be continued: troupe continue {} PROMPT\n",
                             sessions.size() == 1 ? "The session" : "Each session",
                             sessions.size() == 1 ? *sessions.begin() : std::string("SESSION"));
  }
  for (const auto& [t, was] : already) {
    env.out() << fmt::format("{} had already ended ({}); nothing changed\n", JsonString(t, "id"),
                             was);
  }
  env.out().flush();
  return exit_code;
}

}  // namespace troupe
