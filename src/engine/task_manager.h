// The task manager owns every task's lifecycle (DESIGN.md "Task states"):
//
//   pending --slot--> running --runner finishes--> completed | error
//      |                 |--task TTL / stale / runner error--> error
//      |--cancel--> cancelled   |--cancel--> cancelled
//      |--pending TTL--> error  |--shutdown or crash--> interrupted --resume--> pending
//
// Every transition is written to the store (with its outbox row when final and its event-log
// row) before it is published on the EventBus and watchers are told. Writes are group-committed:
// each entry point (a public call, a runner callback, a timer) opens a batch; all transitions
// that happen inside it — a completion, the hand-off of its slot, the next task starting — share
// one SQLite transaction, committed when the outermost entry point returns, and only then
// announced, in commit order.
//
// Threading: everything runs on the loop thread that drives `clock`; no method is thread-safe.
// Re-entrancy: runner callbacks, timers and watchers may call back into the manager.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/tool.h"
#include "agent/worktrees.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/status.h"
#include "engine/agent_runner.h"
#include "engine/budget.h"
#include "engine/event_bus.h"
#include "engine/price_table.h"
#include "engine/slot_scheduler.h"
#include "store/store.h"

namespace troupe {

struct LaunchRequest {
  std::string description;
  std::string prompt;
  std::string agent;
  std::string model;  // "provider/model"; empty = the session's, else config default
  // Models the task continues on, in order, when `model` fails in a way another model may not
  // (DESIGN.md "Fallback models"); they replace its agent's fallback_models. Empty = the agent's.
  std::vector<std::string> fallback_models;
  std::string session_id;         // continue this session; empty = start a new one
  std::string parent_session_id;  // the native session delegating this task, if any
  std::string parent_call_id;     // the parent's tool call that delegates it (TaskRecord)
  std::string owner;              // who launched it from outside ("cli", "mcp:<id>", ...)
  std::string workspace;
  // Per-task overrides (e.g. from the agent's definition); unset = the config's.
  std::optional<int64_t> task_ttl_ms;
  std::optional<int64_t> pending_ttl_ms;
  std::optional<int64_t> stale_timeout_ms;
  // Budgets asked for at launch (docs/CONFIG.md "Budgets"). A task's own limits can only lower
  // the config's, its agent's and, for a delegated task, its parent's; the tree limits apply to a
  // top-level launch (a new tree) and can only lower the config's.
  std::optional<int64_t> max_tokens;
  std::optional<double> max_cost_usd;
  std::optional<double> tree_max_cost_usd;
  std::optional<int> tree_max_tasks;
  // Isolation (docs/DESIGN.md "Worktrees"): "worktree" runs a new session in a fresh git
  // worktree of the workspace's repository, on branch troupe/<task id>, from `base` ("" = HEAD);
  // "none" or "" runs it in the workspace. A continuation runs where its session ran.
  std::string isolation;
  std::string base;
};

// A tree's spend (a top-level session and every task delegated under it) and its limits.
struct TreeSpendView {
  std::string root_session_id;
  UsageTotals usage;  // of all its tasks
  int tasks = 0;      // every task of the tree, continuations of the root included
  int delegated = 0;  // tasks launched under the root (what tree_max_tasks caps)
  int running = 0;
  TreeBudget budget;
  std::string verdict;  // why it was stopped; "" while within its budget
  // Its pending tasks, each with why it waits: held by budgets.tree_max_running, or queued for a
  // slot of its pool. In launch order.
  struct Waiting {
    std::string task_id;
    std::string agent;
    std::string model;
    bool held = false;  // by the tree's tree_max_running (else by its pool)
    std::string reason;
  };
  std::vector<Waiting> waiting;
};

// What the whole engine spent today and may spend.
struct SpendOverview {
  std::string day;  // "YYYY-MM-DD", UTC
  UsageTotals today;
  BudgetConfig budgets;
  std::string daily_verdict;                // "" while below the daily budget
  std::vector<TreeSpendView> active_trees;  // trees with a pending or running task
};

// A task as callers see it: the stored record plus what only the live engine knows.
struct TaskView {
  TaskRecord task;
  std::string pool;                   // pool key it waits or runs in ("" when not active)
  int queue_position = 0;             // 1-based while pending and queued
  std::string waiting_reason;         // why it is pending
  int64_t last_activity_wall_ms = 0;  // last progress (running only)
  // Running, but its model is done: its worktree is being finished (committed, summarised,
  // removed) off the loop, and then it reaches its final state (docs/DESIGN.md "Worktrees").
  bool finishing = false;
};

// The line that announces a finished task in its completion notice (the outbox row), e.g.
// "bg_… (explore: Map the code) completed after 3.2s", with ": <error>" when it has one.
std::string TaskCompletionSummary(const TaskRecord& task);

enum class WaitMode { kAny, kAll };

// Whether the engine can write to its store (docs/DESIGN.md "When the store fails"). Degraded
// from the moment a batch could not be committed and its immediate retry failed too, until a
// retry succeeds; meanwhile the engine holds the unsaved writes in memory.
struct StoreHealth {
  bool degraded = false;
  int64_t since_wall_ms = 0;  // when it became degraded (0 when not)
  Status last_error;          // the store's latest write error (kept after it heals)
  int64_t last_error_wall_ms = 0;
  int64_t failures = 0;       // store writes and commits that failed, since start
  size_t unsaved_writes = 0;  // writes held in memory, waiting for the store
};

struct TaskManagerOptions {
  BackgroundTaskConfig limits;
  std::map<std::string, std::string> model_aliases;
  std::string default_model = "mock/scripted";
  std::string default_workspace = ".";
  // Asked at launch whether a task's model (canonical "provider/model") can run at all — e.g.
  // that its provider exists and has its API key — so that a launch that cannot work is refused
  // with the reason instead of failing later. Unset = every well-formed name is accepted.
  std::function<Status(const std::string& model)> check_model;
  // Called first by Launch with the caller's request, for what the engine does not know about:
  // refusing an unknown agent, filling in the agent's model and timeouts when the caller gave
  // none. Unset = the request is taken as it is.
  std::function<Status(LaunchRequest* request)> prepare_launch;
  // When a delegated task ends and its parent session is idle (its last task completed), wake
  // the parent with a continuation carrying the notifications — once all its children are done,
  // or at once when one failed (DESIGN.md "Notifications"). Meant for the real agent runner.
  bool wake_idle_parents = false;
  // Called when the store starts failing (degraded, with the error) and when it works again —
  // once per change, not per failed write: the daemon logs it.
  std::function<void(const StoreHealth& health)> store_health_changed;
  // While degraded, unsaved writes are retried after this delay, doubled after each failure up
  // to the maximum.
  int64_t store_retry_initial_ms = 1000;
  int64_t store_retry_max_ms = 30'000;
  // Spend (engine/task_spend.cc): what requests cost, and the limits of docs/CONFIG.md
  // "Budgets".
  PriceTable prices;
  BudgetConfig budgets;
  // Makes, finishes and applies the git worktrees of isolated tasks (engine/task_isolation.cc);
  // null = a launch asking for isolation is refused.
  Worktrees* worktrees = nullptr;
  // Where that git work runs when asked for through LaunchAsync, WorktreeDiffAsync and
  // ApplyWorktreeAsync: off the loop, its result posted back. Null = on the loop thread, inline.
  BlockingExecutor* blocking = nullptr;
};

class TaskManager {
 public:
  using WatchId = uint64_t;
  using WatchCallback = std::function<void(const std::vector<TaskView>& tasks, bool timed_out)>;

  // All pointers must outlive the manager.
  TaskManager(Clock* clock, Store* store, AgentRunner* runner, IdGenerator* ids,
              TaskManagerOptions options);
  ~TaskManager();
  TaskManager(const TaskManager&) = delete;
  TaskManager& operator=(const TaskManager&) = delete;

  // Recovers what the store holds: tasks that were running when the process died become
  // interrupted; interrupted tasks are re-queued when limits.resume_interrupted; pending ones
  // are queued again in launch order. Call once, before anything else.
  Status Recover();

  // Starts a task (a new session, or a continuation when request.session_id is set). Returns
  // its view after queueing: pending with its position, or already running.
  Result<TaskView> Launch(const LaunchRequest& request);
  // Launch whose answer may come later, so that a new session in a git worktree does not hold the
  // loop while git makes it (docs/DESIGN.md "Worktrees"): the worktree is made on
  // options.blocking, and only then is the task stored and queued — a task exists only once its
  // worktree does. `done` is called exactly once: before this returns when no worktree has to be
  // made, else from a later loop turn, with the view or the error (git's message; Cancelled when
  // the launch was cancelled meanwhile — its parent's tree cancelled, CancelAll of its owner, a
  // shutdown, CancelLaunch — and then what was made is removed, branch included). Not called
  // after the manager is destroyed. Returns the id reserved for a launch that needed a worktree,
  // for CancelLaunch ("" when none was needed; CancelLaunch after `done` does nothing).
  using LaunchDone = std::function<void(Result<TaskView>)>;
  std::string LaunchAsync(const LaunchRequest& request, LaunchDone done);
  // Cancels the launch LaunchAsync is preparing under `launch_id` (its caller gave up, e.g. the
  // delegate_task tool call was cancelled): it answers Cancelled once git is done, and what git
  // made is removed. Nothing when that launch has answered already.
  void CancelLaunch(const std::string& launch_id, const std::string& why);
  // Launches whose worktree is being made now (LaunchAsync), not yet tasks.
  size_t preparing_launches() const { return preparing_.size(); }
  // Launch, then calls `done` once the task is final or `timeout_ms` passed (0 = no timeout).
  Result<TaskView> LaunchAndWait(const LaunchRequest& request, int64_t timeout_ms,
                                 WatchCallback done);
  // A follow-up prompt on an existing session (at any later time, also after a restart).
  Result<TaskView> Continue(const std::string& session_id, const std::string& prompt,
                            const std::string& description = "", const std::string& owner = "");
  // Re-queues an interrupted task.
  Result<TaskView> Resume(const std::string& task_id);

  // Cancels a pending or running task and, recursively, the active tasks its session delegated.
  // A final task is returned unchanged (cancel is idempotent).
  Result<TaskView> Cancel(const std::string& task_id, const std::string& reason = "");
  // Cancels every active task (of `owner` when non-empty). Returns those cancelled.
  std::vector<TaskView> CancelAll(const std::string& owner = "");
  // Cancels, recursively, every active task delegated by session `parent_session_id`.
  std::vector<TaskView> CancelChildren(const std::string& parent_session_id);

  Result<TaskView> Get(const std::string& task_id);
  Result<std::vector<TaskView>> List(const TaskFilter& filter);

  // Calls `callback` once: when any (kAny) or all (kAll) of `task_ids` are final or interrupted,
  // or after `timeout_ms` (0 = never) with timed_out = true. Always called from a later loop turn,
  // never from inside Watch. Unknown ids are an error.
  Result<WatchId> Watch(const std::vector<std::string>& task_ids, WaitMode mode, int64_t timeout_ms,
                        WatchCallback callback);
  void CancelWatch(WatchId id);

  // Undelivered outbox rows for `recipient`, marked delivered in the same call (each is handed
  // out once).
  Result<std::vector<NotificationRecord>> ClaimNotifications(const std::string& recipient);

  // A session's messages and todo list, for the agent loop (engine/session_data.cc). Writes join
  // the current batch, or commit on their own.
  Status AppendMessage(MessageRecord* message);
  Result<std::vector<MessageRecord>> Messages(const std::string& session_id);
  Status ReplaceTodos(const std::string& session_id, const std::vector<TodoItem>& items);
  Result<std::vector<TodoItem>> Todos(const std::string& session_id);
  Result<std::optional<SessionRecord>> Session(const std::string& session_id);

  // The spend and limits of the tree whose top-level session is `root_session_id`.
  Result<TreeSpendView> TreeSpend(const std::string& root_session_id);
  // Today's spend and the budgets, with every tree that has active tasks.
  Result<SpendOverview> Spend();
  // The model requests of a task, oldest first, each with its usage and cost.
  Result<std::vector<ModelRequestRecord>> ModelRequests(const std::string& task_id);
  const PriceTable& prices() const { return options_.prices; }

  // Isolated tasks (engine/task_isolation.cc). The change a task made on its worktree branch
  // (NotFound when it ran without a worktree).
  Result<std::string> WorktreeDiff(const std::string& task_id);
  // Merges a final task's branch into the workspace it was launched on, or reports the files in
  // conflict and changes nothing (Worktrees::Apply).
  Result<ApplyReport> ApplyWorktree(const std::string& task_id);
  // The same two, with git run on options.blocking; `done` is called once, from a later loop turn
  // unless there is no executor or the task has no branch.
  void WorktreeDiffAsync(const std::string& task_id, std::function<void(Result<std::string>)> done);
  void ApplyWorktreeAsync(const std::string& task_id,
                          std::function<void(Result<ApplyReport>)> done);
  // Removes the worktrees no pending, running or interrupted task owns (after Recover: left by a
  // crash, or by a task whose end could not remove its worktree). Returns their paths.
  Result<std::vector<std::string>> RemoveOrphanedWorktrees();

  // A provider said "slow down": its pools start nothing new for `delay_ms`.
  void ReportRateLimit(const std::string& provider, int64_t delay_ms);

  // Graceful stop: no new starts; running tasks are cancelled and marked interrupted (so they
  // resume on the next start); pending ones stay pending in the store.
  void Shutdown();

  // Groups every operation made while it lives into one store transaction, committed (and then
  // announced) when the outermost Batch or engine call closes. For callers that do several
  // things at once: the agent loop running parallel delegate_task calls, an API request that
  // launches or cancels many tasks. Nesting is allowed; launches inside still return their ids
  // at once, and those become durable when the batch closes.
  class Batch {
   public:
    explicit Batch(TaskManager* manager);
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    ~Batch();

   private:
    TaskManager* manager_;
  };

  EventBus& events() { return events_; }
  std::vector<PoolSnapshot> Pools() const { return scheduler_.Snapshot(); }
  const SlotScheduler& scheduler() const { return scheduler_; }
  size_t active_tasks() const { return active_.size(); }
  // Store writes that failed; the engine kept going in memory (see docs/DESIGN.md).
  int64_t store_failures() const { return store_failures_; }
  // How many task trees the engine holds in memory (those with active tasks, and any whose spend
  // was just read); for tests and the debug log.
  size_t cached_trees() const { return trees_.size(); }
  StoreHealth store_health() const;
  // Writes the unsaved writes now, if any (the retry timer does this by itself). Returns the
  // store's error when it still fails.
  Status RetryUnsavedWrites();

 private:
  struct Active;
  struct Watcher;
  struct Announcement;
  struct Tree;
  struct Preparing;
  // What LaunchAsync brings to the launch (engine/task_isolation.cc): the id its worktree was
  // made for and the worktree; or, out, that a worktree must be made first.
  struct Placement {
    std::string task_id;                   // in: the id reserved for it ("" = a new one)
    std::optional<TaskWorktree> worktree;  // in: made already
    bool wanted = false;                   // out: the launch needs a worktree made first
    std::string workspace;                 // out: where, from
    std::string base;
  };
  using BatchScope = Batch;
  // One store write, on copies of its records, so that it can be done again.
  using StoreWrite = std::function<Status(Store*)>;
  struct JournalEntry {
    StoreWrite write;
    std::shared_ptr<const TaskRecord> task;  // the task it saves, if it is InsertTask/UpdateTask
    std::shared_ptr<const MessageRecord> message;  // the message it appends, if AppendMessage
    bool done = false;                             // done in the batch's transaction
  };

  // Does `write` in the batch's transaction (opened on first use) and keeps it in the batch's
  // journal. While older writes wait for the store, or after the batch failed, it is only kept.
  // Returns OK only when the write was done; a caller that then refuses its operation drops
  // what it wrote with DropWritesSince (engine/store_writes.cc).
  Status Write(StoreWrite write, std::shared_ptr<const TaskRecord> task = nullptr,
               std::shared_ptr<const MessageRecord> message = nullptr);
  size_t WriteMark() const { return journal_.size(); }
  void DropWritesSince(size_t mark);
  // The error that refuses a write while the store fails.
  Status StoreUnavailable() const;
  void StoreFailed(const Status& error);
  void ScheduleRetry();
  // Commits (or, after a failed write, rolls back) the batch's transaction if one is open; the
  // writes of a lost batch join the unsaved ones, retried at once and then on a timer.
  void CommitBatch();
  // Called when the outermost BatchScope closes: commits, then publishes what was announced.
  void CloseBatch();
  // Queues an event for publication after the commit (or publishes at once when nothing is
  // pending). `ends` also tells the task's watchers.
  void Announce(const EngineEvent& event, const TaskRecord& task, const ProgressUpdate* progress,
                bool ends);

  Result<TaskView> Enqueue(std::unique_ptr<Active> active);
  void StartPendingTimer(Active* a);
  // budgets.tree_max_running (engine/tree_running_cap.cc): asks the scheduler for a slot for `a`
  // when its tree has room, else holds it in the tree's queue; AdmitHeld hands room that came
  // free to held tasks, in order.
  void Admit(Active* a);
  void AdmitHeld(const std::string& root_session_id);
  // Tasks of the tree that take room: asked for or holding a slot, and not waiting on children
  // of their own.
  int TreeWorking(const std::string& root_session_id, const Active* except) const;
  void DescribeHeld(const Active& a, TaskView* view) const;
  // The run failed on its model in a way another may not: ends the attempt, moves the task back
  // to pending on `outcome.fallback_model` and queues it in that model's pool; the next attempt
  // continues the session (engine/model_fallback.cc).
  void FallBack(Active* a, const RunOutcome& outcome);
  void OnGrant(Ticket ticket);
  void StartRun(Active* a);
  // The agent's run of `a` (running, its workspace ready) is started on the runner.
  void RunAgent(Active* a);
  void OnProgress(const std::string& task_id, int attempt, const ProgressUpdate& update);
  void OnFinish(const std::string& task_id, int attempt, RunOutcome outcome);
  void OnStaleCheck(const std::string& task_id);
  // Moves `a` to `to`, persists and announces it; for final/interrupted states it also releases
  // the slot and forgets `a` (which is destroyed before this returns).
  void Transition(Active* a, TaskState to, const std::string& error, const std::string& result);
  // Moves a task held only in the store (not active) to `to`, persists and announces it.
  Status Restate(TaskRecord* task, TaskState to, const std::string& error);
  Status Persist(const TaskRecord& task, TaskState from, EngineEvent* event, bool attempt_started,
                 bool attempt_ended);
  void NotifyWatchers(const std::string& task_id);
  void FireWatch(WatchId id, bool timed_out);
  // Removes a watcher's entries from watchers_by_task_.
  void UnindexWatch(WatchId id, const Watcher& w);
  // The task as last written: memory's record while its write waits for the store, else the
  // store's.
  Result<std::optional<TaskRecord>> StoredTask(const std::string& task_id);
  TaskView ViewOf(const Active& a) const;
  TaskView ViewOfFinished(TaskRecord record) const;
  std::vector<TaskView> CancelChildrenInternal(const std::string& parent_session_id,
                                               const std::string& reason);
  // Spend (engine/task_spend.cc). Checks a launch against the daily budget and its tree's
  // limits, sets the task's tree and writes its budgets into its limits; the launch is refused
  // with the verdict.
  Status PlanSpend(const LaunchRequest& request, const SessionRecord& session,
                   const std::optional<SessionRecord>& parent, TaskRecord* task);
  // Counts a launch that was stored in its tree.
  void CountLaunch(const TaskRecord& task);
  // Charges one progress report's model request to its task, tree and day, persists it, and ends
  // the task (and cancels its tree) when that passes a budget. Returns true if `a` ended.
  bool ChargeRequest(Active* a, const ProgressUpdate& u);
  // Asked before each model request of a run that may write up to `max_output_tokens`: the
  // verdict that refuses it, or the max_tokens it may ask for (lowered to fit the task's budget;
  // engine/budget.h NextRequestAllowance).
  Result<int> AdmitRequest(const std::string& task_id, int attempt, int64_t estimated_prompt_tokens,
                           int max_output_tokens);
  Tree& TreeOf(const std::string& root_session_id);
  // A task of the tree left the engine: the tree is forgotten once none of its tasks is active
  // (TreeOf reads it again from the store when it is next needed), so the cache holds the trees
  // at work, not every tree there ever was.
  void TreeTaskEnded(const std::string& root_session_id);
  TreeSpendView ViewOfTree(const std::string& root_session_id, Tree& tree) const;
  int64_t SpentTodayNano();
  std::string RootSessionOf(const SessionRecord& session);
  // Cancels every active task of the tree but `except_task_id`, with `reason`.
  void CancelTree(const std::string& root_session_id, const std::string& reason,
                  const std::string& except_task_id);
  // Isolation (engine/task_isolation.cc): a new session's fresh worktree or the session's
  // previous one, into the task's record and `a->workspace`; then, when a run starts, the
  // worktree made present again; and at a final state, what it left on its branch.
  Status PlaceInWorktree(const LaunchRequest& request, bool new_session, Active* a,
                         Placement* placement);
  Result<TaskView> LaunchPlaced(const LaunchRequest& request, Placement* placement);
  void OnWorktreeMade(const LaunchRequest& request, const std::string& task_id,
                      Result<TaskWorktree> made);
  // Removes a worktree nobody will own (a launch that did not happen), branch included, off the
  // loop when there is an executor.
  void DiscardWorktree(const TaskWorktree& worktree);
  // Marks launches being prepared as cancelled when `matches` says so.
  void CancelPreparing(const std::function<bool(const Preparing&)>& matches);
  // Runs `work` on options.blocking (or inline), then `done` on the loop unless the manager is
  // gone by then.
  void RunBlocking(const std::string& owner, std::function<void()> work,
                   std::function<void()> done);
  // RunBlocking for git work that writes to the repository at `repo` (a worktree's set-up or
  // removal, an apply): one at a time per repository, in the order asked. git's own locks would
  // fail a second writer, and set-ups run side by side on a small machine only all finish later.
  void RunGitWrite(const std::string& repo, const std::string& owner, std::function<void()> work,
                   std::function<void()> done);
  void StartNextGitWrite(const std::string& repo);
  Status ReopenWorktree(Active* a);
  // When the worktree of `a` (running, about to start its run) is gone and there is an
  // executor: adds it again there, then starts the run (RunAgent). False when ReopenWorktree must
  // run inline (no git needed, or no executor).
  bool ReopenWorktreeLater(Active* a);
  void OnWorktreeReopened(const std::string& task_id, int attempt, const Status& status,
                          const TaskWorktree& worktree);
  // Finishes the worktree of `task` (which reached a final state) inline — unless `run_git` is
  // false: it was finished off the loop already — and adds its summary to a completed result.
  void FinishWorktree(TaskRecord* task, bool run_git = true);
  // When the running task `a` has a worktree to finish and there is an executor: releases its
  // slot, stores what its final state will be, and finishes the worktree there; the task then
  // moves `to` its final state (Transition). False when it must be finished inline instead.
  bool FinishWorktreeLater(Active* a, TaskState to, const std::string& error,
                           const std::string& result);
  void OnWorktreeFinished(const std::string& task_id, TaskState to, TaskWorktree finished);
  // See TaskManagerOptions::wake_idle_parents (engine/parent_wakeup.cc).
  void MaybeWakeParent(const std::string& parent_session_id, TaskState child_state);

  Clock* clock_;
  Store* store_;
  AgentRunner* runner_;
  IdGenerator* ids_;
  TaskManagerOptions options_;
  EventBus events_;
  SlotScheduler scheduler_;
  Ticket next_ticket_ = 1;
  std::unordered_map<std::string, std::unique_ptr<Active>> active_;  // task id -> live task
  std::unordered_map<Ticket, Active*> by_ticket_;
  std::unordered_map<std::string, std::string> busy_sessions_;  // session -> task id
  std::map<WatchId, std::unique_ptr<Watcher>> watchers_;
  std::unordered_multimap<std::string, WatchId> watchers_by_task_;
  WatchId next_watch_ = 1;
  int64_t store_failures_ = 0;
  bool shutting_down_ = false;
  // Group commit (see the header comment).
  int batch_depth_ = 0;
  bool batch_open_ = false;
  bool batch_failed_ = false;
  bool flushing_ = false;
  std::deque<Announcement> announcements_;
  // When the store fails (engine/store_writes.cc).
  std::vector<JournalEntry> journal_;  // this batch's writes
  std::vector<JournalEntry> unsaved_;  // writes of lost batches, in order
  // The latest record of each task written by `unsaved_`: what reads answer while it waits.
  std::unordered_map<std::string, TaskRecord> unsaved_tasks_;
  StoreHealth health_;
  // Spend: trees read from the store on first use, kept current while they have active tasks;
  // today's spend.
  std::unordered_map<std::string, std::unique_ptr<Tree>> trees_;
  int64_t day_start_ms_ = -1;
  int64_t day_spent_nano_usd_ = 0;
  int64_t retry_delay_ms_ = 0;
  Timer retry_timer_;
  // Isolation: launches waiting for their worktree (task id -> what they were asked); cleared
  // by the destructor, so results that come back after it find nothing.
  std::unordered_map<std::string, std::unique_ptr<Preparing>> preparing_;
  // RunGitWrite's queues, by repository: present while one runs; what waits behind it.
  std::unordered_map<std::string, std::deque<std::function<void()>>> git_writes_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace troupe
