// Over 600 lines on purpose: the REST facade is one class, RestApi::Impl, whose handlers share
// its state — the pending long polls and their watches, the shutdown timer, the alive token that
// late git answers check. Its pure parts already live beside it (rest_routes: which route;
// request_parsing: what a body says; task_json: what a task looks like); splitting the handlers
// would put that state behind an internal header for every file.

#include "rest/rest_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <iterator>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "http/api_error.h"
#include "rest/request_parsing.h"
#include "rest/rest_routes.h"
#include "rest/task_json.h"
#include "rest/task_worktree_json.h"

namespace troupe {

namespace {

using json = nlohmann::json;

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";
// GET /v1/pools lists at most this many of a pool's waiting tasks (`queued` counts them all).
constexpr size_t kShownWaiters = 100;
// How long a cancel's answer waits for the cancelled task's worktree to be finished (git's
// commit and removal: about a second); after that it answers with the task still finishing.
constexpr int64_t kCancelFinishWaitMs = 60'000;

// The "store" object of GET /v1/health: whether the database takes writes, and since when not.
json StoreHealthJson(const StoreHealth& h) {
  json j = {{"status", h.degraded ? "degraded" : "ok"},
            {"write_failures", h.failures},
            {"unsaved_writes", h.unsaved_writes}};
  if (h.degraded) j["degraded_since_ms"] = h.since_wall_ms;
  if (!h.last_error.ok()) {
    j["last_error"] = h.last_error.message();
    j["last_error_at_ms"] = h.last_error_wall_ms;
  }
  return j;
}

// Final, or interrupted: nothing more happens to the task until someone resumes it.
bool Settled(TaskState s) { return IsFinal(s) || s == TaskState::kInterrupted; }

ApiResponse JsonResponse(int status, const json& body) {
  ApiResponse r;
  r.status = status;
  r.body = JsonBody(body);
  return r;
}

ApiError Unavailable(std::string message) {
  return ApiError::Of(503, "unavailable", std::move(message));
}

ApiError Internal(std::string message) { return ApiError::Of(500, "internal", std::move(message)); }

// Maps what refused a launch (the agent catalog, TaskManager::Launch, the provider registry) to
// the API's errors by its typed reason, never its text: an agent or model the caller named that
// cannot be used is the caller's bad field (400, whatever the code); an unknown session_id is a
// 404; another missing thing a launch refers to is the caller's bad argument (400); the rest maps
// by code (a busy session is 409).
ApiError LaunchError(const Status& status, const LaunchRequest& request) {
  const std::string& field = status.field();
  if (field == "agent" || field == "model") {
    const bool agent = field == "agent";
    ApiError e =
        ApiError::BadField(field, agent ? "a known agent" : "a model of a configured provider",
                           QuoteForError(agent ? request.agent : request.model));
    e.message = field + ": " + status.message();
    return e;
  }
  ApiError e = ApiErrorFromStatus(status);
  if (status.code() == StatusCode::kNotFound && field != "session_id") {
    e.status = 400;
    e.code = "invalid_argument";
  }
  return e;
}

// "bg_a", "bg_b" and 3 more.
std::string NameList(const std::vector<std::string>& ids) {
  constexpr size_t kShown = 10;
  std::string out;
  for (size_t i = 0; i < ids.size() && i < kShown; ++i) {
    out += (i ? ", " : "") + QuoteForError(ids[i]);
  }
  if (ids.size() > kShown) out += fmt::format(" and {} more", ids.size() - kShown);
  return out;
}

}  // namespace

struct RestApi::Impl {
  explicit Impl(RestApiDeps d) : deps(std::move(d)), shutdown_timer(deps.clock) {}

  // A long poll waiting for TaskManager::Watch.
  struct PendingWait {
    std::shared_ptr<HttpExchange> exchange;
    TaskManager::WatchId watch = 0;
    bool many = false;  // POST /v1/wait: {"tasks": [...]}; else {"task": {...}}
    std::vector<std::string> ids;
    std::string cancelled_was;  // a cancel's answer, once the task's worktree is finished
  };

  RestApiDeps deps;
  Timer shutdown_timer;
  bool shutting_down = false;
  bool shutdown_requested = false;
  std::map<uint64_t, PendingWait> pending;
  uint64_t next_wait = 1;
  // False once detached: answers of git work (a launch in a worktree, a diff, an apply) that
  // come back later find nobody.
  std::shared_ptr<bool> alive_token = std::make_shared<bool>(true);

  int64_t Now() const { return deps.clock->WallMs(); }

  void Reply(HttpExchange& ex, int status, const json& body) {
    ex.Respond(JsonResponse(status, body));
  }
  void Fail(HttpExchange& ex, const ApiError& error) { ex.Respond(ApiErrorResponse(error)); }

  // The body's Content-Type, when there is a body, must be JSON.
  std::optional<ApiError> CheckBodyType(const ApiRequest& req) {
    if (req.body.empty()) return std::nullopt;
    return CheckJsonContentType(req.Header("content-type"));
  }

  // The handler mounted at the longest prefix of `path`, or null.
  HttpHandler* MountFor(std::string_view path) const;
  void Handle(const std::shared_ptr<HttpExchange>& ex);
  void Dispatch(const std::shared_ptr<HttpExchange>& ex, Route route, const std::string& id);

  void Launch(const std::shared_ptr<HttpExchange>& ex);
  void Launched(const std::shared_ptr<HttpExchange>& ex, const LaunchRequest& request,
                std::optional<int64_t> wait_ms, Result<TaskView> view);
  void List(HttpExchange& ex);
  void GetTask(const std::shared_ptr<HttpExchange>& ex, const std::string& id);
  void CancelTask(const std::shared_ptr<HttpExchange>& ex, const std::string& id);
  void CancelAll(HttpExchange& ex);
  void Wait(const std::shared_ptr<HttpExchange>& ex);
  void Session(HttpExchange& ex, const std::string& id);
  void Messages(HttpExchange& ex, const std::string& id);
  void Pools(HttpExchange& ex);
  void Budgets(HttpExchange& ex);
  void TaskSpend(HttpExchange& ex, const std::string& id);
  void Agents(HttpExchange& ex);
  void Health(HttpExchange& ex);
  void Shutdown(HttpExchange& ex);

  // Registers a long poll over `ids`; answered by FinishWait, Shutdown, or dropped by ClientLeft.
  // With `cancelled_was`, it answers as a cancel does (the state before it).
  void StartWait(const std::shared_ptr<HttpExchange>& ex, std::vector<std::string> ids,
                 WaitMode mode, int64_t timeout_ms, bool many, std::string cancelled_was = "");
  void FinishWait(uint64_t key, const std::vector<TaskView>& views, bool timed_out);
  void ClientLeft(uint64_t key);
  void AnswerWait(PendingWait& wait, const std::vector<TaskView>& views, bool timed_out);
  std::vector<TaskView> ViewsOf(const std::vector<std::string>& ids);
  // TaskJson of one task asked for by id, with the stop reason of its last reply (a read of its
  // session's messages, so not in listings).
  json TaskDetailJson(const TaskView& view, int64_t now);

  void ShutdownAll();
  void Detach();
};

HttpHandler* RestApi::Impl::MountFor(std::string_view path) const {
  HttpHandler* mounted = nullptr;
  size_t best = 0;  // the longest matching prefix wins
  for (const auto& [prefix, handler] : deps.mounts) {
    if (prefix.empty() || handler == nullptr || !path.starts_with(prefix)) continue;
    const bool boundary =
        path.size() == prefix.size() || prefix.back() == '/' || path[prefix.size()] == '/';
    if (boundary && prefix.size() > best) {
      best = prefix.size();
      mounted = handler;
    }
  }
  return mounted;
}

void RestApi::Impl::Handle(const std::shared_ptr<HttpExchange>& ex) {
  const ApiRequest& req = ex->request();
  if (shutting_down) {
    Fail(*ex, Unavailable("troupe is shutting down"));
    return;
  }
  // Mounted handlers first.
  if (req.path == "/" && deps.root != nullptr) {
    deps.root->Handle(ex);
    return;
  }
  if (HttpHandler* mounted = MountFor(req.path)) {
    mounted->Handle(ex);
    return;
  }

  std::string id;
  const Route route = MatchRoute(req.path, &id);
  if (route == Route::kNone) {
    Fail(*ex, ApiError::NotFound(fmt::format("no route for {} {}; see docs/HTTP_API.md", req.method,
                                             QuoteForError(req.path, 100))));
    return;
  }
  const std::vector<std::string> allowed = AllowedMethods(route);
  if (std::find(allowed.begin(), allowed.end(), req.method) == allowed.end()) {
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    ApiResponse r = ApiErrorResponse(ApiError::Of(
        405, "method_not_allowed",
        fmt::format("{} is not allowed on {}; allowed: {}", QuoteForError(req.method, 20),
                    QuoteForError(req.path, 100), allow)));
    r.headers.emplace_back("Allow", allow);
    ex->Respond(std::move(r));
    return;
  }
  try {
    Dispatch(ex, route, id);
  } catch (const std::exception& e) {
    // Nothing below is meant to throw; if something does, answer instead of taking the loop down.
    Fail(*ex, Internal(std::string("internal error: ") + e.what()));
  }
}

void RestApi::Impl::Dispatch(const std::shared_ptr<HttpExchange>& ex, Route route,
                             const std::string& id) {
  const ApiRequest& req = ex->request();
  switch (route) {
    case Route::kTasks:
      if (req.method == "POST") {
        Launch(ex);
      } else {
        List(*ex);
      }
      return;
    case Route::kCancelAll:
      return CancelAll(*ex);
    case Route::kTask:
      return GetTask(ex, id);
    case Route::kTaskCancel:
      return CancelTask(ex, id);
    case Route::kWait:
      return Wait(ex);
    case Route::kSession:
      return Session(*ex, id);
    case Route::kMessages:
      return Messages(*ex, id);
    case Route::kPools:
      return Pools(*ex);
    case Route::kBudgets:
      return Budgets(*ex);
    case Route::kTaskSpend:
      return TaskSpend(*ex, id);
    case Route::kTaskDiff:
    case Route::kTaskApply: {
      // git runs off the loop; the answer comes on a later turn.
      std::weak_ptr<bool> alive = alive_token;
      auto respond = [alive, ex](ApiResponse response) {
        if (auto a = alive.lock(); a && *a && !ex->closed()) ex->Respond(std::move(response));
      };
      if (route == Route::kTaskDiff) return TaskDiffResponseAsync(deps.manager, id, respond);
      return TaskApplyResponseAsync(deps.manager, id, respond);
    }
    case Route::kAgents:
      return Agents(*ex);
    case Route::kHealth:
      return Health(*ex);
    case Route::kShutdown:
      return Shutdown(*ex);
    case Route::kEvents:
      if (deps.events == nullptr) return Fail(*ex, ApiError::NotFound("event stream not enabled"));
      deps.events->Serve(ex);
      return;
    case Route::kMetrics: {
      if (deps.metrics == nullptr) return Fail(*ex, ApiError::NotFound("metrics not enabled"));
      ApiResponse r;
      r.status = 200;
      r.content_type = kMetricsContentType;
      r.body = deps.metrics->Render();
      ex->Respond(std::move(r));
      return;
    }
    case Route::kNone:
      return;
  }
}

void RestApi::Impl::Launch(const std::shared_ptr<HttpExchange>& ex) {
  const ApiRequest& req = ex->request();
  if (auto e = CheckBodyType(req)) return Fail(*ex, *e);
  LaunchDefaults defaults;
  defaults.max_wait_ms = deps.max_wait_ms;
  Parsed<LaunchBody> body = ParseLaunchBody(req.body, defaults);
  if (!body.ok()) return Fail(*ex, body.error());
  const LaunchRequest& request = body->request;
  if (deps.agents != nullptr && !request.agent.empty() &&
      deps.agents->Get(request.agent) == nullptr) {
    Result<AgentDefinition> found = deps.agents->Find(request.agent);
    return Fail(*ex, LaunchError(found.status(), request));
  }
  // A launch in a worktree answers once git made it, on a later loop turn; the loop serves
  // others meanwhile.
  std::weak_ptr<bool> alive = alive_token;
  deps.manager->LaunchAsync(
      request, [this, alive, ex, request, wait_ms = body->wait_ms](Result<TaskView> view) {
        if (auto a = alive.lock(); !a || !*a) return;
        Launched(ex, request, wait_ms, std::move(view));
      });
}

void RestApi::Impl::Launched(const std::shared_ptr<HttpExchange>& ex, const LaunchRequest& request,
                             std::optional<int64_t> wait_ms, Result<TaskView> view) {
  if (ex->closed()) return;  // the task (if any) runs; nobody to tell
  if (!view.ok()) return Fail(*ex, LaunchError(view.status(), request));
  if (!wait_ms) {
    return Reply(*ex, 201, json{{"task", TaskJson(*view, Now(), TaskJsonMode::kFull)}});
  }
  const bool settled = Settled(view->task.state);
  if (settled || *wait_ms == 0) {
    return Reply(
        *ex, 200,
        json{{"task", TaskJson(*view, Now(), TaskJsonMode::kFull)}, {"timed_out", !settled}});
  }
  StartWait(ex, {view->task.id}, WaitMode::kAll, *wait_ms, /*many=*/false);
}

void RestApi::Impl::List(HttpExchange& ex) {
  Parsed<TaskFilter> filter = ParseTaskQuery(ex.request().query);
  if (!filter.ok()) return Fail(ex, filter.error());
  const TaskPaging paging = TaskPagingOf(ex.request().query);
  const int limit = filter->limit;
  TaskFilter query = filter.value();
  query.before_id = paging.before;
  // Read in the same loop turn as the tasks, so the listing is the state as of this event: a
  // client that follows GET /v1/events?after=<last_event_id> misses and repeats nothing.
  int64_t last_event_id = 0;
  if (deps.store != nullptr) {
    Result<int64_t> last = deps.store->LastEventId();
    if (!last.ok()) return Fail(ex, ApiErrorFromStatus(last.status()));
    last_event_id = *last;
  }
  Result<std::vector<TaskView>> listed = deps.manager->List(query);
  if (!listed.ok()) return Fail(ex, ApiErrorFromStatus(listed.status()));
  std::vector<TaskView>& views = *listed;  // oldest first
  // A full page may have older tasks behind it: its oldest id is the cursor to them.
  json next_before = nullptr;
  if (limit > 0 && views.size() == static_cast<size_t>(limit)) next_before = views.front().task.id;
  if (paging.newest_first) std::reverse(views.begin(), views.end());
  const int64_t now = Now();
  json tasks = json::array();
  for (const auto& v : views) tasks.push_back(TaskJson(v, now, TaskJsonMode::kListing));
  // Every task in the store by state (one GROUP BY on the state index), whatever the filter.
  json counts = json::object();
  for (TaskState s : {TaskState::kPending, TaskState::kRunning, TaskState::kCompleted,
                      TaskState::kError, TaskState::kCancelled, TaskState::kInterrupted}) {
    counts[std::string(TaskStateName(s))] = 0;
  }
  if (deps.store != nullptr) {
    Result<std::vector<std::pair<TaskState, int64_t>>> by_state = deps.store->CountTasksByState();
    if (!by_state.ok()) return Fail(ex, ApiErrorFromStatus(by_state.status()));
    for (const auto& [state, count] : *by_state) counts[std::string(TaskStateName(state))] = count;
  }
  Reply(ex, 200,
        json{{"tasks", std::move(tasks)},
             {"next_before", std::move(next_before)},
             {"counts", std::move(counts)},
             {"last_event_id", last_event_id}});
}

void RestApi::Impl::GetTask(const std::shared_ptr<HttpExchange>& ex, const std::string& id) {
  Parsed<std::optional<int64_t>> wait = ParseWaitMs(ex->request().query, deps.max_wait_ms);
  if (!wait.ok()) return Fail(*ex, wait.error());
  Result<TaskView> view = deps.manager->Get(id);
  if (!view.ok()) return Fail(*ex, ApiErrorFromStatus(view.status()));
  if (!wait.value()) return Reply(*ex, 200, json{{"task", TaskDetailJson(*view, Now())}});
  const bool settled = Settled(view->task.state);
  if (settled || *wait.value() == 0) {
    return Reply(*ex, 200, json{{"task", TaskDetailJson(*view, Now())}, {"timed_out", !settled}});
  }
  StartWait(ex, {id}, WaitMode::kAll, *wait.value(), /*many=*/false);
}

void RestApi::Impl::CancelTask(const std::shared_ptr<HttpExchange>& exchange,
                               const std::string& id) {
  HttpExchange& ex = *exchange;
  const ApiRequest& req = ex.request();
  if (auto e = CheckBodyType(req)) return Fail(ex, *e);
  Parsed<CancelBody> body = ParseCancelBody(req.body);
  if (!body.ok()) return Fail(ex, body.error());
  Result<TaskView> before = deps.manager->Get(id);
  if (!before.ok()) return Fail(ex, ApiErrorFromStatus(before.status()));
  Result<TaskView> after = deps.manager->Cancel(id, body->reason);
  if (!after.ok()) return Fail(ex, ApiErrorFromStatus(after.status()));
  if (after->finishing) {
    // Stopped, and its worktree is being finished off the loop: the answer names the final
    // state, the branch and the commits, so it waits (the loop does not) until they are known.
    return StartWait(exchange, {id}, WaitMode::kAll, kCancelFinishWaitMs, /*many=*/false,
                     std::string(TaskStateName(before->task.state)));
  }
  Reply(ex, 200,
        json{{"task", TaskJson(*after, Now(), TaskJsonMode::kFull)},
             {"was", std::string(TaskStateName(before->task.state))}});
}

void RestApi::Impl::CancelAll(HttpExchange& ex) {
  const ApiRequest& req = ex.request();
  if (auto e = CheckBodyType(req)) return Fail(ex, *e);
  Parsed<CancelAllBody> body = ParseCancelAllBody(req.body);
  if (!body.ok()) return Fail(ex, body.error());
  std::vector<TaskView> cancelled;
  if (body->root.empty()) {
    cancelled = deps.manager->CancelAll(body->owner);
  } else {
    // A tree: its active tasks, oldest (the lead) first; a child its parent's cancel already
    // took along is not cancelled twice.
    TaskFilter tree;
    tree.root_session_id = body->root;
    tree.owner = body->owner;
    tree.states = {TaskState::kPending, TaskState::kRunning};
    Result<std::vector<TaskView>> active = deps.manager->List(tree);
    if (!active.ok()) return Fail(ex, ApiErrorFromStatus(active.status()));
    for (const TaskView& v : *active) {
      Result<TaskView> current = deps.manager->Get(v.task.id);
      if (!current.ok() || IsFinal(current->task.state)) continue;
      if (deps.manager->Cancel(v.task.id, "cancelled by caller (tree " + body->root + ")").ok()) {
        cancelled.push_back(*current);
      }
    }
  }
  const int64_t now = Now();
  json out = json::array();
  for (const TaskView& before : cancelled) {
    // CancelAll returns the views from before; show each as it is now (cancelled).
    Result<TaskView> after = deps.manager->Get(before.task.id);
    out.push_back(TaskJson(after.ok() ? *after : before, now, TaskJsonMode::kFull));
  }
  Reply(ex, 200, json{{"cancelled", std::move(out)}});
}

void RestApi::Impl::Wait(const std::shared_ptr<HttpExchange>& ex) {
  const ApiRequest& req = ex->request();
  if (auto e = CheckBodyType(req)) return Fail(*ex, *e);
  Parsed<WaitBody> body = ParseWaitBody(req.body, deps.max_wait_ms);
  if (!body.ok()) return Fail(*ex, body.error());
  std::vector<TaskView> views;
  std::vector<std::string> unknown;
  for (const std::string& id : body->task_ids) {
    Result<TaskView> v = deps.manager->Get(id);
    if (v.ok()) {
      views.push_back(std::move(*v));
    } else if (v.status().code() == StatusCode::kNotFound) {
      if (std::find(unknown.begin(), unknown.end(), id) == unknown.end()) unknown.push_back(id);
    } else {
      return Fail(*ex, ApiErrorFromStatus(v.status()));
    }
  }
  if (!unknown.empty()) {
    ApiError e = ApiError::NotFound(fmt::format("task_ids: no such task{}: {}",
                                                unknown.size() > 1 ? "s" : "", NameList(unknown)));
    e.field = "task_ids";
    e.expected = "ids of existing tasks";
    e.got = NameList(unknown);
    return Fail(*ex, e);
  }
  const size_t settled = std::count_if(views.begin(), views.end(),
                                       [](const TaskView& v) { return Settled(v.task.state); });
  const bool done = body->mode == WaitMode::kAny ? settled > 0 : settled == views.size();
  if (done) {
    const int64_t now = Now();
    json tasks = json::array();
    for (const auto& v : views) tasks.push_back(TaskJson(v, now, TaskJsonMode::kFull));
    return Reply(*ex, 200, json{{"tasks", std::move(tasks)}, {"timed_out", false}});
  }
  StartWait(ex, body->task_ids, body->mode, body->timeout_ms, /*many=*/true);
}

void RestApi::Impl::Session(HttpExchange& ex, const std::string& id) {
  Result<std::optional<SessionRecord>> session = deps.manager->Session(id);
  if (!session.ok()) return Fail(ex, ApiErrorFromStatus(session.status()));
  if (!*session) {
    return Fail(
        ex, ApiError::NotFound(fmt::format("session {} does not exist", QuoteForError(id, 100))));
  }
  TaskFilter filter;
  filter.session_id = id;
  Result<std::vector<TaskView>> tasks = deps.manager->List(filter);
  if (!tasks.ok()) return Fail(ex, ApiErrorFromStatus(tasks.status()));
  Result<std::vector<TodoItem>> todos = deps.manager->Todos(id);
  if (!todos.ok()) return Fail(ex, ApiErrorFromStatus(todos.status()));
  const int64_t now = Now();
  json task_list = json::array();
  for (const auto& v : *tasks) task_list.push_back(TaskJson(v, now, TaskJsonMode::kListing));
  json todo_list = json::array();
  for (const auto& t : *todos) todo_list.push_back(TodoJson(t));
  Reply(ex, 200,
        json{{"session", SessionJson(**session)},
             {"tasks", std::move(task_list)},
             {"todos", std::move(todo_list)}});
}

void RestApi::Impl::Messages(HttpExchange& ex, const std::string& id) {
  Parsed<int64_t> after = ParseMessagesQuery(ex.request().query);
  if (!after.ok()) return Fail(ex, after.error());
  Result<std::optional<SessionRecord>> session = deps.manager->Session(id);
  if (!session.ok()) return Fail(ex, ApiErrorFromStatus(session.status()));
  if (!*session) {
    return Fail(
        ex, ApiError::NotFound(fmt::format("session {} does not exist", QuoteForError(id, 100))));
  }
  Result<std::vector<MessageRecord>> messages = deps.store != nullptr
                                                    ? deps.store->ListMessages(id, after.value())
                                                    : deps.manager->Messages(id);
  if (!messages.ok()) return Fail(ex, ApiErrorFromStatus(messages.status()));
  json out = json::array();
  for (const auto& m : *messages) {
    if (m.seq > after.value()) out.push_back(MessageJson(m));
  }
  Reply(ex, 200, json{{"messages", std::move(out)}});
}

void RestApi::Impl::TaskSpend(HttpExchange& ex, const std::string& id) {
  Result<TaskView> view = deps.manager->Get(id);
  if (!view.ok()) return Fail(ex, ApiErrorFromStatus(view.status()));
  json out = {{"task_id", id}, {"usage", UsageJson(UsageOf(view->task))}};
  // The spend of its tree (the root and all it delegated), and its requests one by one.
  Result<TreeSpendView> tree = deps.manager->TreeSpend(view->task.root_session_id);
  out["tree"] = tree.ok() ? TreeSpendJson(*tree) : json(nullptr);
  Result<std::vector<ModelRequestRecord>> requests = deps.manager->ModelRequests(id);
  if (!requests.ok()) return Fail(ex, ApiErrorFromStatus(requests.status()));
  json list = json::array();
  for (const ModelRequestRecord& r : *requests) {
    json one = UsageJson(r.usage);
    one["model"] = r.model;
    one["at_ms"] = r.created_at_ms;
    list.push_back(std::move(one));
  }
  out["requests"] = std::move(list);
  Reply(ex, 200, out);
}

void RestApi::Impl::Budgets(HttpExchange& ex) {
  Result<SpendOverview> spend = deps.manager->Spend();
  if (!spend.ok()) return Fail(ex, ApiErrorFromStatus(spend.status()));
  Reply(ex, 200, SpendJson(*spend));
}

void RestApi::Impl::Pools(HttpExchange& ex) {
  const int64_t now = Now();
  json pools = json::array();
  json global = {{"limit", deps.manager->scheduler().policy().global_limit()},
                 {"running", deps.manager->scheduler().running()},
                 {"pending", deps.manager->scheduler().waiting()}};
  // The tasks queued on each pool, in queue order (the pending tasks' live queue positions).
  std::map<std::string, std::vector<std::pair<int, std::string>>> queued;
  TaskFilter pending;
  pending.states = {TaskState::kPending};
  if (Result<std::vector<TaskView>> waiting = deps.manager->List(pending); waiting.ok()) {
    for (const TaskView& v : *waiting) {
      if (!v.pool.empty() && v.queue_position > 0) {
        queued[v.pool].emplace_back(v.queue_position, v.task.id);
      }
    }
  }
  for (const PoolSnapshot& p : deps.manager->Pools()) {
    if (p.level == "global") {
      global = {{"limit", p.limit}, {"running", p.in_use}, {"pending", p.queued}};
      continue;
    }
    json pool = PoolJson(p, now);
    std::vector<std::pair<int, std::string>>& in_queue = queued[p.key];
    std::sort(in_queue.begin(), in_queue.end());
    json waiting = json::array();
    for (size_t i = 0; i < in_queue.size() && i < kShownWaiters; ++i) {
      waiting.push_back(in_queue[i].second);
    }
    pool["waiting"] = std::move(waiting);
    pools.push_back(std::move(pool));
  }
  Reply(ex, 200, json{{"pools", std::move(pools)}, {"global", std::move(global)}});
}

void RestApi::Impl::Agents(HttpExchange& ex) {
  json agents = json::array();
  if (deps.agents != nullptr) {
    for (const AgentDefinition& a : deps.agents->List()) agents.push_back(AgentJson(a));
  }
  Reply(ex, 200,
        json{{"agents", std::move(agents)},
             {"default_model", DefaultModelJson(deps.info.default_model)}});
}

void RestApi::Impl::Health(HttpExchange& ex) {
  const int64_t now = Now();
  // "ok" says the daemon answers. Once a database write has failed, "status" and "store" say
  // whether it can also save what it does ("degraded" while it cannot).
  const StoreHealth store = deps.manager->store_health();
  const DaemonInfo& info = deps.info;
  const SlotScheduler& scheduler = deps.manager->scheduler();
  json body = json{
      {"ok", true},
      {"version", info.version},
      {"commit", info.commit},
      {"pid", info.pid},
      {"started_at_ms", info.started_at_ms},
      {"uptime_ms", info.started_at_ms > 0 ? std::max<int64_t>(0, now - info.started_at_ms) : 0},
      {"data_dir", info.data_dir},
      {"socket", info.socket},
      {"tcp_port", info.tcp_port},
      {"dashboard_port", info.dashboard_port ? info.dashboard_port() : 0},
      {"default_model", DefaultModelJson(info.default_model)},
      {"tasks", {{"pending", scheduler.waiting()}, {"running", scheduler.running()}}}};
  if (store.degraded || store.failures > 0) {
    body["status"] = store.degraded ? "degraded" : "ok";
    body["store"] = StoreHealthJson(store);
  }
  Reply(ex, 200, body);
}

void RestApi::Impl::Shutdown(HttpExchange& ex) {
  const ApiRequest& req = ex.request();
  if (auto e = CheckBodyType(req)) return Fail(ex, *e);
  Parsed<bool> body = ParseEmptyBody(req.body);
  if (!body.ok()) return Fail(ex, body.error());
  if (!deps.request_shutdown) return Fail(ex, ApiError::NotFound("shutdown not enabled"));
  if (!shutdown_requested) {
    shutdown_requested = true;
    // From a later loop turn, so that this answer is on its way before the daemon stops.
    shutdown_timer.Start(0, [this] { deps.request_shutdown(); });
  }
  Reply(ex, 202, json{{"stopping", true}});
}

void RestApi::Impl::StartWait(const std::shared_ptr<HttpExchange>& ex, std::vector<std::string> ids,
                              WaitMode mode, int64_t timeout_ms, bool many,
                              std::string cancelled_was) {
  const uint64_t key = next_wait++;
  Result<TaskManager::WatchId> watch = deps.manager->Watch(
      ids, mode, timeout_ms, [this, key](const std::vector<TaskView>& views, bool timed_out) {
        FinishWait(key, views, timed_out);
      });
  if (!watch.ok()) return Fail(*ex, ApiErrorFromStatus(watch.status()));
  PendingWait& wait = pending[key];
  wait.exchange = ex;
  wait.watch = *watch;
  wait.many = many;
  wait.ids = std::move(ids);
  wait.cancelled_was = std::move(cancelled_was);
  ex->OnClose([this, key] { ClientLeft(key); });
  if (ex->closed()) ClientLeft(key);  // gone before it could be told to call back
}

void RestApi::Impl::FinishWait(uint64_t key, const std::vector<TaskView>& views, bool timed_out) {
  auto it = pending.find(key);
  if (it == pending.end()) return;
  PendingWait wait = std::move(it->second);
  pending.erase(it);
  AnswerWait(wait, views, timed_out);
}

void RestApi::Impl::ClientLeft(uint64_t key) {
  auto it = pending.find(key);
  if (it == pending.end()) return;
  deps.manager->CancelWatch(it->second.watch);
  pending.erase(it);
}

void RestApi::Impl::AnswerWait(PendingWait& wait, const std::vector<TaskView>& views,
                               bool timed_out) {
  wait.exchange->OnClose([] {});  // answered: nothing to clean up when it closes
  const int64_t now = Now();
  if (wait.many) {
    json tasks = json::array();
    for (const auto& v : views) tasks.push_back(TaskJson(v, now, TaskJsonMode::kFull));
    return Reply(*wait.exchange, 200, json{{"tasks", std::move(tasks)}, {"timed_out", timed_out}});
  }
  if (views.empty()) {
    return Fail(*wait.exchange, Internal(fmt::format("task {} could not be read",
                                                     wait.ids.empty() ? "" : wait.ids[0])));
  }
  if (!wait.cancelled_was.empty()) {
    return Reply(*wait.exchange, 200,
                 json{{"task", TaskJson(views.front(), now, TaskJsonMode::kFull)},
                      {"was", wait.cancelled_was}});
  }
  Reply(*wait.exchange, 200,
        json{{"task", TaskDetailJson(views.front(), now)}, {"timed_out", timed_out}});
}

json RestApi::Impl::TaskDetailJson(const TaskView& view, int64_t now) {
  json task = TaskJson(view, now, TaskJsonMode::kFull);
  const std::string& session = view.task.session_id;
  Result<std::vector<MessageRecord>> messages =
      session.empty()         ? Result<std::vector<MessageRecord>>(std::vector<MessageRecord>{})
      : deps.store != nullptr ? deps.store->ListMessages(session, 0)
                              : deps.manager->Messages(session);
  // A store that cannot be read now costs the field, not the task.
  task["stop_reason"] = messages.ok() ? LastStopReason(*messages, view.task.id) : json(nullptr);
  return task;
}

std::vector<TaskView> RestApi::Impl::ViewsOf(const std::vector<std::string>& ids) {
  std::vector<TaskView> views;
  for (const auto& id : ids) {
    if (Result<TaskView> v = deps.manager->Get(id); v.ok()) views.push_back(std::move(*v));
  }
  return views;
}

void RestApi::Impl::ShutdownAll() {
  shutting_down = true;
  std::map<uint64_t, PendingWait> waits = std::move(pending);
  pending.clear();
  for (auto& [key, wait] : waits) {
    deps.manager->CancelWatch(wait.watch);
    AnswerWait(wait, ViewsOf(wait.ids), /*timed_out=*/true);
  }
  if (deps.events != nullptr) deps.events->CloseAll();
  for (const auto& [prefix, handler] : deps.mounts) {
    if (handler != nullptr) handler->Shutdown();
  }
}

void RestApi::Impl::Detach() {
  *alive_token = false;
  for (auto& [key, wait] : pending) {
    deps.manager->CancelWatch(wait.watch);
    wait.exchange->OnClose([] {});
  }
  pending.clear();
}

RestApi::RestApi(RestApiDeps deps) : impl_(std::make_unique<Impl>(std::move(deps))) {}

RestApi::~RestApi() { impl_->Detach(); }

void RestApi::Handle(std::shared_ptr<HttpExchange> exchange) { impl_->Handle(exchange); }

void RestApi::Shutdown() { impl_->ShutdownAll(); }

size_t RestApi::BodyLimit(std::string_view path) const {
  const HttpHandler* mounted = impl_->MountFor(path);
  return mounted != nullptr ? mounted->BodyLimit(path) : 0;
}

std::optional<ApiResponse> RestApi::BodyTooLarge(std::string_view path, size_t limit) const {
  const HttpHandler* mounted = impl_->MountFor(path);
  return mounted != nullptr ? mounted->BodyTooLarge(path, limit) : std::nullopt;
}

size_t RestApi::pending_waits() const { return impl_->pending.size(); }

}  // namespace troupe
