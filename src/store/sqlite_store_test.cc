// The Store contract, on the SQLite backend over a temporary file.
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <tuple>

#include "core/testing/test_dir.h"

namespace troupe {
namespace {

using testing::TestDir;

// Every field, for comparisons that name the differing one.
auto Fields(const SessionRecord& r) {
  return std::tie(r.id, r.agent, r.model, r.workspace, r.parent_session_id, r.owner, r.title,
                  r.depth, r.created_at_ms, r.updated_at_ms);
}
auto Fields(const MessageRecord& r) {
  return std::tie(r.session_id, r.seq, r.task_id, r.role, r.content, r.created_at_ms);
}
auto Fields(const TodoItem& r) { return std::tie(r.id, r.content, r.status, r.priority); }
auto Fields(const TaskRecord& r) {
  return std::tuple_cat(
      std::tie(r.id, r.session_id, r.parent_session_id, r.owner, r.description, r.prompt, r.agent,
               r.model, r.state, r.attempt, r.depth, r.result, r.error, r.limits_json),
      std::tie(r.created_at_ms, r.queued_at_ms, r.started_at_ms, r.finished_at_ms, r.updated_at_ms,
               r.turns, r.tool_calls, r.input_tokens, r.output_tokens, r.last_tool,
               r.parent_call_id));
}
auto Fields(const AttemptRecord& r) {
  return std::tie(r.task_id, r.attempt, r.started_at_ms, r.ended_at_ms, r.outcome, r.error);
}
auto Fields(const NotificationRecord& r) {
  return std::tie(r.id, r.task_id, r.recipient, r.state, r.summary, r.created_at_ms,
                  r.delivered_at_ms);
}
auto Fields(const EventRecord& r) {
  return std::tie(r.id, r.type, r.task_id, r.payload, r.created_at_ms);
}

TaskFilter Filter(std::vector<TaskState> states, std::string session_id,
                  std::string parent_session_id, std::string owner, int limit) {
  TaskFilter f;
  f.states = std::move(states);
  f.session_id = std::move(session_id);
  f.parent_session_id = std::move(parent_session_id);
  f.owner = std::move(owner);
  f.limit = limit;
  return f;
}

SessionRecord FullSession(const std::string& id) {
  return SessionRecord{id,           "librarian", "openai/gpt-4o", "/home/u/project",
                       "ses_parent", "mcp:abc",   "find the docs", 2,
                       1000,         2000};
}

TaskRecord FullTask(const std::string& id, const std::string& session_id) {
  TaskRecord t;
  t.id = id;
  t.session_id = session_id;
  t.parent_session_id = "ses_parent";
  t.owner = "cli";
  t.description = "look around";
  t.prompt = "Find every use of \"Store\".\nThanks — ünïcödé";
  t.agent = "explore";
  t.model = "anthropic/claude";
  t.state = TaskState::kInterrupted;
  t.attempt = 3;
  t.depth = 1;
  t.result = "found 3";
  t.error = "daemon stopped";
  t.limits_json = R"({"taskTtlMs":1000})";
  t.created_at_ms = 11;
  t.queued_at_ms = 12;
  t.started_at_ms = 13;
  t.finished_at_ms = 14;
  t.updated_at_ms = 15;
  t.turns = 16;
  t.tool_calls = 17;
  t.input_tokens = int64_t{1} << 40;
  t.output_tokens = 19;
  t.last_tool = "grep";
  t.parent_call_id = "3:call_1";
  return t;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("troupe.db");
    Reopen();
  }

  void Reopen() {
    store_.reset();
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  // Inserts a session and its task in one transaction.
  void AddTask(const std::string& task_id, const std::string& session_id,
               TaskState state = TaskState::kPending, const std::string& parent = "",
               const std::string& owner = "cli") {
    ScopedTransaction txn(store_.get());
    ASSERT_TRUE(txn.status().ok());
    if (!(*store_->GetSession(session_id)).has_value()) {
      ASSERT_TRUE(store_->InsertSession(FullSession(session_id)).ok());
    }
    TaskRecord task = FullTask(task_id, session_id);
    task.state = state;
    task.parent_session_id = parent;
    task.owner = owner;
    ASSERT_TRUE(store_->InsertTask(task).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }

  std::vector<std::string> ListedIds(const TaskFilter& filter) {
    Result<std::vector<TaskRecord>> tasks = store_->ListTasks(filter);
    EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
    std::vector<std::string> ids;
    if (tasks.ok()) {
      for (const TaskRecord& t : *tasks) ids.push_back(t.id);
    }
    return ids;
  }

  TestDir dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, SessionRoundTripsEveryField) {
  SessionRecord session = FullSession("ses_1");
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->InsertSession(session).ok());
  EXPECT_EQ(store_->InsertSession(session).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(store_->TouchSession("ses_1", 5000).ok());
  EXPECT_EQ(store_->TouchSession("ses_none", 5000).code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->Commit().ok());
  session.updated_at_ms = 5000;

  Reopen();
  Result<std::optional<SessionRecord>> got = store_->GetSession("ses_1");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(Fields(**got), Fields(session));
  EXPECT_FALSE((*store_->GetSession("ses_none")).has_value());
}

TEST_F(SqliteStoreTest, TaskRoundTripsEveryFieldAndUpdates) {
  AddTask("bg_1", "ses_1", TaskState::kInterrupted, "ses_parent", "cli");
  TaskRecord task = FullTask("bg_1", "ses_1");
  Reopen();
  EXPECT_EQ(Fields(**store_->GetTask("bg_1")), Fields(task));

  task.state = TaskState::kCompleted;
  task.result = "done";
  task.error = "";
  task.turns = 40;
  task.finished_at_ms = 99;
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->UpdateTask(task).ok());
  EXPECT_EQ(store_->UpdateTask(FullTask("bg_none", "ses_1")).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->InsertTask(task).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(store_->Commit().ok());
  Reopen();
  EXPECT_EQ(Fields(**store_->GetTask("bg_1")), Fields(task));
  EXPECT_FALSE((*store_->GetTask("bg_none")).has_value());

  // The identity columns can change too, and their indexes follow.
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->InsertSession(FullSession("ses_2")).ok());
  task.session_id = "ses_2";
  task.parent_session_id = "ses_other";
  task.owner = "mcp:y";
  ASSERT_TRUE(store_->UpdateTask(task).ok());
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(Fields(**store_->GetTask("bg_1")), Fields(task));
  EXPECT_EQ(ListedIds(Filter({}, "ses_2", "ses_other", "mcp:y", 0)),
            std::vector<std::string>{"bg_1"});
  EXPECT_TRUE(ListedIds(Filter({}, "", "", "cli", 0)).empty());
}

TEST_F(SqliteStoreTest, EveryTaskStateRoundTrips) {
  int n = 0;
  for (TaskState state : {TaskState::kPending, TaskState::kRunning, TaskState::kCompleted,
                          TaskState::kError, TaskState::kCancelled, TaskState::kInterrupted}) {
    const std::string id = "bg_" + std::to_string(n++);
    AddTask(id, "ses_1", state);
    EXPECT_EQ((*store_->GetTask(id))->state, state) << TaskStateName(state);
  }
}

TEST_F(SqliteStoreTest, ChildRowsNeedTheirParent) {
  ASSERT_TRUE(store_->Begin().ok());
  Status orphan = store_->InsertTask(FullTask("bg_1", "ses_missing"));
  EXPECT_EQ(orphan.code(), StatusCode::kFailedPrecondition) << orphan.ToString();
  EXPECT_NE(orphan.message().find("ses_missing"), std::string::npos);
  MessageRecord message{"ses_missing", 0, "bg_1", "user", "{}", 1};
  EXPECT_EQ(store_->AppendMessage(&message).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->ReplaceTodos("ses_missing", {{"1", "x", "pending", "high"}}).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->InsertAttempt({"bg_missing", 1, 1, 0, "", ""}).code(),
            StatusCode::kFailedPrecondition);
  // The failed statements left the transaction usable.
  ASSERT_TRUE(store_->InsertSession(FullSession("ses_1")).ok());
  ASSERT_TRUE(store_->InsertTask(FullTask("bg_1", "ses_1")).ok());
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_TRUE((*store_->GetTask("bg_1")).has_value());
}

TEST_F(SqliteStoreTest, RollbackLeavesNothing) {
  ASSERT_TRUE(store_->Begin().ok());
  EXPECT_TRUE(store_->in_transaction());
  ASSERT_TRUE(store_->InsertSession(FullSession("ses_1")).ok());
  ASSERT_TRUE(store_->InsertTask(FullTask("bg_1", "ses_1")).ok());
  EventRecord event{0, "task.state", "bg_1", "{}", 1};
  ASSERT_TRUE(store_->AppendEvent(&event).ok());
  EXPECT_TRUE((*store_->GetTask("bg_1")).has_value());  // visible inside the transaction
  store_->Rollback();
  EXPECT_FALSE(store_->in_transaction());
  store_->Rollback();  // harmless without a transaction
  EXPECT_FALSE((*store_->GetSession("ses_1")).has_value());
  EXPECT_FALSE((*store_->GetTask("bg_1")).has_value());
  EXPECT_EQ(*store_->LastEventId(), 0);
}

TEST_F(SqliteStoreTest, ScopedTransactionRollsBackUnlessCommitted) {
  {
    ScopedTransaction txn(store_.get());
    ASSERT_TRUE(txn.status().ok());
    ASSERT_TRUE(store_->InsertSession(FullSession("ses_1")).ok());
  }
  EXPECT_FALSE(store_->in_transaction());
  EXPECT_FALSE((*store_->GetSession("ses_1")).has_value());
  {
    ScopedTransaction txn(store_.get());
    ASSERT_TRUE(store_->InsertSession(FullSession("ses_2")).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }
  EXPECT_FALSE(store_->in_transaction());
  Reopen();
  EXPECT_TRUE((*store_->GetSession("ses_2")).has_value());
}

TEST_F(SqliteStoreTest, TransactionsDoNotNest) {
  ASSERT_TRUE(store_->Begin().ok());
  EXPECT_EQ(store_->Begin().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->in_transaction());
  ASSERT_TRUE(store_->InsertSession(FullSession("ses_1")).ok());
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_TRUE((*store_->GetSession("ses_1")).has_value());
  EXPECT_EQ(store_->Commit().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, WritesOutsideATransactionFail) {
  AddTask("bg_1", "ses_1");
  MessageRecord message{"ses_1", 0, "bg_1", "user", "{}", 1};
  NotificationRecord notification{0, "bg_1", "ses_p", "completed", "done", 1, 0};
  EventRecord event{0, "task.state", "bg_1", "{}", 1};
  const Status writes[] = {
      store_->InsertSession(FullSession("ses_2")),
      store_->TouchSession("ses_1", 9),
      store_->AppendMessage(&message),
      store_->ReplaceTodos("ses_1", {}),
      store_->InsertTask(FullTask("bg_2", "ses_1")),
      store_->UpdateTask(FullTask("bg_1", "ses_1")),
      store_->InsertAttempt({"bg_1", 1, 1, 0, "", ""}),
      store_->FinishAttempt({"bg_1", 1, 1, 2, "completed", ""}),
      store_->InsertNotification(&notification),
      store_->MarkDelivered(1, 5).status(),
      store_->AppendEvent(&event),
  };
  for (const Status& status : writes) {
    EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
    EXPECT_NE(status.message().find("outside a transaction"), std::string::npos);
  }
  EXPECT_FALSE((*store_->GetSession("ses_2")).has_value());
  EXPECT_EQ(*store_->LastEventId(), 0);
}

TEST_F(SqliteStoreTest, AppendMessageNumbersPerSession) {
  AddTask("bg_1", "ses_a");
  AddTask("bg_2", "ses_b");
  ASSERT_TRUE(store_->Begin().ok());
  std::vector<MessageRecord> appended;
  for (const char* session : {"ses_a", "ses_a", "ses_b", "ses_a"}) {
    MessageRecord message{session, 0, "bg_1", "assistant", R"({"text":"hi"})", 77};
    ASSERT_TRUE(store_->AppendMessage(&message).ok());
    appended.push_back(message);
  }
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(appended[0].seq, 1);
  EXPECT_EQ(appended[1].seq, 2);
  EXPECT_EQ(appended[2].seq, 1);
  EXPECT_EQ(appended[3].seq, 3);

  Reopen();
  std::vector<MessageRecord> listed = *store_->ListMessages("ses_a");
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(Fields(listed[0]), Fields(appended[0]));
  EXPECT_EQ(Fields(listed[1]), Fields(appended[1]));
  EXPECT_EQ(Fields(listed[2]), Fields(appended[3]));
  std::vector<MessageRecord> after = *store_->ListMessages("ses_a", 2);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].seq, 3);
  EXPECT_TRUE((*store_->ListMessages("ses_none")).empty());

  ASSERT_TRUE(store_->Begin().ok());  // numbering continues after reopen
  MessageRecord next{"ses_a", 0, "bg_1", "user", "{}", 78};
  ASSERT_TRUE(store_->AppendMessage(&next).ok());
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(next.seq, 4);
}

TEST_F(SqliteStoreTest, ReplaceTodosKeepsOrderAndReplacesAll) {
  AddTask("bg_1", "ses_1");
  std::vector<TodoItem> first = {{"t1", "read code", "completed", "high"},
                                 {"t2", "write tests", "in_progress", "medium"},
                                 {"t0", "ship", "pending", "low"}};
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->ReplaceTodos("ses_1", first).ok());
  ASSERT_TRUE(store_->Commit().ok());
  Reopen();
  std::vector<TodoItem> got = *store_->GetTodos("ses_1");
  ASSERT_EQ(got.size(), first.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(Fields(got[i]), Fields(first[i]));

  std::vector<TodoItem> second = {{"t9", "only one", "cancelled", "low"}};
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->ReplaceTodos("ses_1", second).ok());
  ASSERT_TRUE(store_->Commit().ok());
  got = *store_->GetTodos("ses_1");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(Fields(got[0]), Fields(second[0]));

  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->ReplaceTodos("ses_1", {}).ok());
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_TRUE((*store_->GetTodos("ses_1")).empty());
}

TEST_F(SqliteStoreTest, AttemptsRoundTripAndFinish) {
  AddTask("bg_1", "ses_1");
  AttemptRecord first{"bg_1", 1, 100, 0, "", ""};
  AttemptRecord second{"bg_1", 2, 300, 0, "", ""};
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->InsertAttempt(second).ok());
  ASSERT_TRUE(store_->InsertAttempt(first).ok());
  EXPECT_EQ(store_->InsertAttempt(first).code(), StatusCode::kAlreadyExists);
  first.ended_at_ms = 200;
  first.outcome = "interrupted";
  first.error = "daemon stopped";
  ASSERT_TRUE(store_->FinishAttempt(first).ok());
  EXPECT_EQ(store_->FinishAttempt({"bg_1", 7, 0, 1, "error", "x"}).code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->Commit().ok());
  Reopen();
  std::vector<AttemptRecord> got = *store_->ListAttempts("bg_1");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(Fields(got[0]), Fields(first));
  EXPECT_EQ(Fields(got[1]), Fields(second));
  EXPECT_TRUE((*store_->ListAttempts("bg_none")).empty());
}

TEST_F(SqliteStoreTest, CountsTasksByStateWithoutReadingThem) {
  using Counts = std::vector<std::pair<TaskState, int64_t>>;
  auto empty = store_->CountTasksByState();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(*empty, Counts{});
  AddTask("bg_01", "ses_a", TaskState::kPending, "", "cli");
  AddTask("bg_02", "ses_a", TaskState::kCompleted, "", "cli");
  AddTask("bg_03", "ses_b", TaskState::kCompleted, "", "cli");
  AddTask("bg_04", "ses_b", TaskState::kError, "", "cli");
  auto counts = store_->CountTasksByState();
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  Counts sorted = *counts;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (Counts{{TaskState::kPending, 1}, {TaskState::kCompleted, 2},
                            {TaskState::kError, 1}}));
}

TEST_F(SqliteStoreTest, ListTasksFiltersAndOrdersById) {
  AddTask("bg_03", "ses_a", TaskState::kRunning, "ses_p", "cli");
  AddTask("bg_01", "ses_a", TaskState::kPending, "ses_p", "mcp:x");
  AddTask("bg_02", "ses_b", TaskState::kCompleted, "", "cli");
  AddTask("bg_05", "ses_b", TaskState::kError, "ses_q", "cli");
  AddTask("bg_04", "ses_c", TaskState::kPending, "ses_p", "cli");

  using Ids = std::vector<std::string>;
  EXPECT_EQ(ListedIds(TaskFilter()), (Ids{"bg_01", "bg_02", "bg_03", "bg_04", "bg_05"}));
  EXPECT_EQ(ListedIds(Filter({TaskState::kPending}, "", "", "", 0)), (Ids{"bg_01", "bg_04"}));
  EXPECT_EQ(ListedIds(Filter({TaskState::kRunning, TaskState::kError}, "", "", "", 0)),
            (Ids{"bg_03", "bg_05"}));
  EXPECT_EQ(ListedIds(Filter({TaskState::kCancelled}, "", "", "", 0)), Ids{});
  EXPECT_EQ(ListedIds(Filter({}, "ses_b", "", "", 0)), (Ids{"bg_02", "bg_05"}));
  EXPECT_EQ(ListedIds(Filter({}, "", "ses_p", "", 0)), (Ids{"bg_01", "bg_03", "bg_04"}));
  EXPECT_EQ(ListedIds(Filter({}, "", "", "mcp:x", 0)), Ids{"bg_01"});
  EXPECT_EQ(ListedIds(Filter({TaskState::kPending, TaskState::kRunning}, "", "ses_p", "cli", 0)),
            (Ids{"bg_03", "bg_04"}));
  // limit: the newest N, still ascending.
  EXPECT_EQ(ListedIds(Filter({}, "", "", "", 2)), (Ids{"bg_04", "bg_05"}));
  EXPECT_EQ(ListedIds(Filter({}, "", "ses_p", "", 2)), (Ids{"bg_03", "bg_04"}));
  EXPECT_EQ(ListedIds(Filter({}, "", "", "", 100)).size(), 5u);
  // before_id: a page of the tasks older than a cursor, with or without the other filters.
  TaskFilter older = Filter({}, "", "", "", 2);
  older.before_id = "bg_04";
  EXPECT_EQ(ListedIds(older), (Ids{"bg_02", "bg_03"}));
  older.before_id = "bg_02";
  EXPECT_EQ(ListedIds(older), Ids{"bg_01"});
  older.before_id = "bg_01";
  EXPECT_EQ(ListedIds(older), Ids{});
  TaskFilter older_of_p = Filter({}, "", "ses_p", "", 0);
  older_of_p.before_id = "bg_04";
  EXPECT_EQ(ListedIds(older_of_p), (Ids{"bg_01", "bg_03"}));
  // Cached statements are reused with other values.
  EXPECT_EQ(ListedIds(Filter({TaskState::kCompleted}, "", "", "", 0)), Ids{"bg_02"});
  EXPECT_EQ(ListedIds(Filter({}, "ses_c", "", "", 0)), Ids{"bg_04"});

  Result<std::vector<TaskRecord>> full = store_->ListTasks(Filter({}, "", "", "mcp:x", 0));
  ASSERT_TRUE(full.ok());
  TaskRecord expected = FullTask("bg_01", "ses_a");
  expected.state = TaskState::kPending;
  expected.parent_session_id = "ses_p";
  expected.owner = "mcp:x";
  EXPECT_EQ(Fields((*full)[0]), Fields(expected));
}

TEST_F(SqliteStoreTest, NotificationsAreDeliveredOnce) {
  AddTask("bg_1", "ses_1");
  NotificationRecord a{0, "bg_1", "ses_p", "completed", "look around: completed", 10, 0};
  NotificationRecord b{0, "bg_2", "ses_p", "error", "other: error", 11, 0};
  NotificationRecord c{0, "bg_1", "cli", "cancelled", "look around: cancelled", 12, 0};
  ASSERT_TRUE(store_->Begin().ok());
  for (NotificationRecord* n : {&a, &b, &c}) ASSERT_TRUE(store_->InsertNotification(n).ok());
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_GT(a.id, 0);
  EXPECT_GT(b.id, a.id);
  EXPECT_GT(c.id, b.id);

  Reopen();
  std::vector<NotificationRecord> pending = *store_->ListUndelivered("ses_p");
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(Fields(pending[0]), Fields(a));
  EXPECT_EQ(Fields(pending[1]), Fields(b));
  std::vector<NotificationRecord> for_task = *store_->ListNotificationsForTask("bg_1");
  ASSERT_EQ(for_task.size(), 2u);
  EXPECT_EQ(Fields(for_task[1]), Fields(c));

  ASSERT_TRUE(store_->Begin().ok());
  Result<bool> first = store_->MarkDelivered(a.id, 500);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(*first);
  Result<bool> again = store_->MarkDelivered(a.id, 600);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(store_->MarkDelivered(12345, 600).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->Commit().ok());

  Reopen();
  pending = *store_->ListUndelivered("ses_p");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].id, b.id);
  for_task = *store_->ListNotificationsForTask("bg_1");
  EXPECT_EQ(for_task[0].delivered_at_ms, 500);  // the first marking wins
  ASSERT_TRUE(store_->Begin().ok());
  EXPECT_FALSE(*store_->MarkDelivered(a.id, 700));
  store_->Rollback();
  EXPECT_TRUE((*store_->ListUndelivered("nobody")).empty());
}

TEST_F(SqliteStoreTest, EventLogAssignsIncreasingIds) {
  EXPECT_EQ(*store_->LastEventId(), 0);
  EXPECT_TRUE((*store_->ListEvents(0)).empty());
  std::vector<EventRecord> appended;
  ASSERT_TRUE(store_->Begin().ok());
  for (int i = 0; i < 5; ++i) {
    EventRecord event{0, i % 2 ? "task.progress" : "task.state", "bg_" + std::to_string(i),
                      R"({"i":)" + std::to_string(i) + "}", 100 + i};
    ASSERT_TRUE(store_->AppendEvent(&event).ok());
    if (!appended.empty()) {
      EXPECT_GT(event.id, appended.back().id);
    }
    appended.push_back(event);
  }
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(*store_->LastEventId(), appended.back().id);

  Reopen();
  std::vector<EventRecord> all = *store_->ListEvents(0);
  ASSERT_EQ(all.size(), 5u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(Fields(all[i]), Fields(appended[i]));
  std::vector<EventRecord> page = *store_->ListEvents(appended[1].id, 2);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, appended[2].id);
  EXPECT_EQ(page[1].id, appended[3].id);
  EXPECT_TRUE((*store_->ListEvents(appended.back().id)).empty());

  // A rolled-back event's id may be handed out again, but ids never go backwards.
  ASSERT_TRUE(store_->Begin().ok());
  EventRecord dropped{0, "task.state", "bg_x", "{}", 1};
  ASSERT_TRUE(store_->AppendEvent(&dropped).ok());
  store_->Rollback();
  ASSERT_TRUE(store_->Begin().ok());
  EventRecord kept{0, "task.state", "bg_y", "{}", 2};
  ASSERT_TRUE(store_->AppendEvent(&kept).ok());
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_GT(kept.id, appended.back().id);
  EXPECT_EQ(*store_->LastEventId(), kept.id);
}

TEST_F(SqliteStoreTest, ATaskLifecycleInThreeTransactions) {
  // The engine's pattern: launch, start, finish — each state change with its outbox and events.
  TaskRecord task = FullTask("bg_1", "ses_1");
  task.state = TaskState::kPending;
  {
    ScopedTransaction txn(store_.get());
    ASSERT_TRUE(store_->InsertSession(FullSession("ses_1")).ok());
    ASSERT_TRUE(store_->InsertTask(task).ok());
    EventRecord event{0, "task.state", task.id, R"({"state":"pending"})", 1};
    ASSERT_TRUE(store_->AppendEvent(&event).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }
  {
    ScopedTransaction txn(store_.get());
    task.state = TaskState::kRunning;
    task.attempt = 1;
    ASSERT_TRUE(store_->UpdateTask(task).ok());
    ASSERT_TRUE(store_->InsertAttempt({task.id, 1, 2, 0, "", ""}).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }
  {
    ScopedTransaction txn(store_.get());
    task.state = TaskState::kCompleted;
    ASSERT_TRUE(store_->UpdateTask(task).ok());
    ASSERT_TRUE(store_->FinishAttempt({task.id, 1, 2, 3, "completed", ""}).ok());
    NotificationRecord n{0, task.id, "ses_parent", "completed", "done", 3, 0};
    ASSERT_TRUE(store_->InsertNotification(&n).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }
  Reopen();
  EXPECT_EQ((*store_->GetTask("bg_1"))->state, TaskState::kCompleted);
  EXPECT_EQ((*store_->ListAttempts("bg_1"))[0].outcome, "completed");
  EXPECT_EQ((*store_->ListUndelivered("ses_parent")).size(), 1u);
}

}  // namespace
}  // namespace troupe
