// Opening database files: creation, migrations, refusal of files that are not troupe's, and
// durability across a clean close and a crash.
#include "store/sqlite_schema.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "core/testing/test_dir.h"
#include "store/sqlite_store.h"

namespace troupe {
namespace {

using testing::ReadFileBytes;
using testing::TestDir;
using testing::WriteFileBytes;

// Runs `sql` on `path` with the raw SQLite API, as another program would.
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

int64_t RawQueryInt(const std::string& path, const std::string& sql) {
  Result<SqliteDb> db = SqliteDb::Open(path, SQLITE_OPEN_READONLY);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return -1;
  Result<int64_t> value = db->QueryInt64(sql);
  EXPECT_TRUE(value.ok()) << value.status().ToString();
  return value.ok() ? *value : -1;
}

SessionRecord Session(const std::string& id) {
  SessionRecord s;
  s.id = id;
  s.agent = "explore";
  return s;
}

TaskRecord Task(const std::string& id, const std::string& session_id) {
  TaskRecord t;
  t.id = id;
  t.session_id = session_id;
  t.prompt = "find it";
  return t;
}

TEST(SqliteSchemaTest, FreshDatabaseGetsEveryMigration) {
  TestDir dir;
  const std::string path = dir.File("troupe.db");
  {
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  EXPECT_EQ(SqliteSchemaVersion(), static_cast<int>(SqliteMigrations().size()));
  EXPECT_GE(SqliteSchemaVersion(), 1);
  EXPECT_EQ(RawQueryInt(path, "SELECT max(version) FROM schema_migrations"), SqliteSchemaVersion());
  EXPECT_EQ(RawQueryInt(path, "SELECT count(*) FROM schema_migrations"), SqliteSchemaVersion());
  EXPECT_GT(RawQueryInt(path, "SELECT min(applied_at_ms) FROM schema_migrations"), 0);
  EXPECT_EQ(RawQueryInt(path, "PRAGMA application_id"), kTroupeApplicationId);
  Result<SqliteDb> db = SqliteDb::Open(path, SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*db->QueryText("PRAGMA journal_mode"), "wal");
}

TEST(SqliteSchemaTest, ReopenDoesNotReapplyMigrations) {
  TestDir dir;
  const std::string path = dir.File("troupe.db");
  ASSERT_TRUE(OpenSqliteStore(path).ok());
  ASSERT_TRUE(OpenSqliteStore(path).ok());
  EXPECT_EQ(RawQueryInt(path, "SELECT count(*) FROM schema_migrations"), SqliteSchemaVersion());
}

TEST(SqliteSchemaTest, CreatesMissingParentDirectoriesPrivate) {
  TestDir dir;
  const std::string path = dir.File("a/b/troupe.db");
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (const char* sub : {"a", "a/b"}) {
    struct stat st;
    ASSERT_EQ(::stat(dir.File(sub).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u) << sub;
  }
}

TEST(SqliteSchemaTest, InMemoryStoreWorks) {
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(":memory:");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Begin().ok());
  ASSERT_TRUE((*store)->InsertSession(Session("ses_1")).ok());
  ASSERT_TRUE((*store)->Commit().ok());
  EXPECT_TRUE((*(*store)->GetSession("ses_1")).has_value());
}

TEST(SqliteSchemaTest, RefusesAFileThatIsNotADatabaseWithoutTouchingIt) {
  TestDir dir;
  const std::string path = dir.File("troupe.db");
  std::string garbage(8192, '\0');
  std::mt19937 rng(42);
  for (char& c : garbage) c = static_cast<char>(rng());
  WriteFileBytes(path, garbage);

  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store.status().message(),
            "\"" + path +
                "\" is not a troupe database (file is not a database); move it away or point "
                "troupe at another data directory");
  EXPECT_EQ(ReadFileBytes(path), garbage);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(SqliteSchemaTest, RefusesAShortTextFile) {
  TestDir dir;
  const std::string path = dir.File("troupe.db");
  const std::string text = "hello, I am a text file\n";
  WriteFileBytes(path, text);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("is not a troupe database"), std::string::npos)
      << store.status().ToString();
  EXPECT_EQ(ReadFileBytes(path), text);
}

TEST(SqliteSchemaTest, RefusesAnotherProgramsDatabaseWithoutTouchingIt) {
  TestDir dir;
  const std::string path = dir.File("troupe.db");
  RawExec(path,
          "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); "
          "INSERT INTO photos (name) VALUES ('cat.jpg')");
  const std::string before = ReadFileBytes(path);

  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.status().message(),
            "\"" + path +
                "\" is not a troupe database (it has tables but no schema_migrations table); "
                "move it away or point troupe at another data directory");
  EXPECT_EQ(ReadFileBytes(path), before);
}

TEST(SqliteSchemaTest, RefusesADatabaseWithAForeignApplicationId) {
  TestDir dir;
  const std::string path = dir.File("troupe.db");
  // Even with a schema_migrations table: the application id says it is someone else's.
  RawExec(path,
          "PRAGMA application_id = 1234; "
          "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms "
          "INTEGER NOT NULL)");
  const std::string before = ReadFileBytes(path);

  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("application_id is 0x000004d2"), std::string::npos)
      << store.status().message();
  EXPECT_EQ(ReadFileBytes(path), before);
}

TEST(SqliteSchemaTest, RefusesANewerSchemaWithoutTouchingIt) {
  TestDir dir;
  const std::string path = dir.File("troupe.db");
  {
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
    ASSERT_TRUE(store.ok());
  }
  // Checkpoint the WAL into the main file so the byte comparison covers all the data.
  RawExec(path,
          "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (999, 1); "
          "PRAGMA wal_checkpoint(TRUNCATE)");
  const std::string before = ReadFileBytes(path);

  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  const std::string message = store.status().message();
  EXPECT_NE(message.find("schema version 999"), std::string::npos) << message;
  EXPECT_NE(message.find("version " + std::to_string(SqliteSchemaVersion())), std::string::npos)
      << message;
  EXPECT_NE(message.find("upgrade troupe"), std::string::npos) << message;
  EXPECT_EQ(ReadFileBytes(path), before);
  EXPECT_EQ(RawQueryInt(path, "SELECT max(version) FROM schema_migrations"), 999);
}

TEST(SqliteSchemaTest, AdoptsAnEmptySqliteFile) {
  TestDir dir;
  const std::string path = dir.File("troupe.db");
  WriteFileBytes(path, "");
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
}

// A database written by a troupe at schema version 1 is migrated when opened, keeping its rows:
// tasks gain parent_call_id (version 2), "" for those launched before.
TEST(SqliteSchemaTest, MigratesAVersion1DatabaseKeepingItsTasks) {
  TestDir dir;
  const std::string path = dir.File("troupe.db");
  RawExec(path, "PRAGMA application_id = " + std::to_string(kTroupeApplicationId) + ";" +
                    std::string(SqliteMigrations()[0]) +
                    "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (1, 5);"
                    "INSERT INTO sessions VALUES ('ses_1', 'explore', 'mock/m', '/w', 'ses_0', "
                    "'cli', 'title', 1, 10, 10);"
                    "INSERT INTO tasks VALUES ('bg_1', 'ses_1', 'ses_0', 'cli', 'd', 'find it', "
                    "'explore', 'mock/m', 'completed', 1, 1, 'found', '', '', 10, 10, 11, 12, "
                    "12, 2, 3, 100, 20, 'grep');");
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(RawQueryInt(path, "SELECT max(version) FROM schema_migrations"), SqliteSchemaVersion());
  Result<std::optional<TaskRecord>> task = (*store)->GetTask("bg_1");
  ASSERT_TRUE(task.ok() && task->has_value()) << task.status().ToString();
  EXPECT_EQ((*task)->result, "found");
  EXPECT_EQ((*task)->last_tool, "grep");
  EXPECT_EQ((*task)->parent_session_id, "ses_0");
  EXPECT_EQ((*task)->parent_call_id, "");

  // And the new column is written and read back.
  Store& s = **store;
  TaskRecord t = Task("bg_2", "ses_1");
  t.parent_session_id = "ses_0";
  t.parent_call_id = "4:call_x";
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.InsertTask(t).ok());
  ASSERT_TRUE(s.Commit().ok());
  TaskFilter by_call;
  by_call.parent_session_id = "ses_0";
  by_call.parent_call_id = "4:call_x";
  Result<std::vector<TaskRecord>> found = s.ListTasks(by_call);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].id, "bg_2");
  EXPECT_EQ((*found)[0].parent_call_id, "4:call_x");
}

// Version 3 puts every stored task in its tree (the top-level session above it) and starts its
// spend at zero; the ledger of model requests then sums by task, session, tree and time.
TEST(SqliteSchemaTest, MigratesAVersion2DatabaseIntoTreesWithALedger) {
  TestDir dir;
  const std::string path = dir.File("troupe.db");
  RawExec(path, "PRAGMA application_id = " + std::to_string(kTroupeApplicationId) + ";" +
                    std::string(SqliteMigrations()[0]) + std::string(SqliteMigrations()[1]) +
                    "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (1, 5);"
                    "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (2, 6);"
                    "INSERT INTO sessions VALUES ('ses_a', 'lead', 'mock/m', '/w', '', "
                    "'cli', 'root', 0, 10, 10);"
                    "INSERT INTO sessions VALUES ('ses_b', 'explore', 'mock/m', '/w', 'ses_a', "
                    "'', 'child', 1, 10, 10);"
                    "INSERT INTO sessions VALUES ('ses_c', 'explore', 'mock/m', '/w', 'ses_b', "
                    "'', 'grandchild', 2, 10, 10);"
                    "INSERT INTO tasks VALUES ('bg_1', 'ses_a', '', 'cli', 'd', 'p', "
                    "'lead', 'mock/m', 'completed', 1, 0, 'r', '', '', 10, 10, 11, 12, "
                    "12, 2, 3, 100, 20, 'grep', '');"
                    "INSERT INTO tasks VALUES ('bg_2', 'ses_c', 'ses_b', '', 'd', 'p', "
                    "'explore', 'mock/m', 'completed', 1, 2, 'r', '', '', 10, 10, 11, 12, "
                    "12, 2, 3, 7, 8, 'grep', '');");
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Store& s = **store;
  Result<std::optional<TaskRecord>> grandchild = s.GetTask("bg_2");
  ASSERT_TRUE(grandchild.ok() && grandchild->has_value());
  EXPECT_EQ((*grandchild)->root_session_id, "ses_a");
  EXPECT_EQ((*grandchild)->input_tokens, 7);
  EXPECT_EQ((*grandchild)->requests, 0);
  EXPECT_EQ((*grandchild)->cost_nano_usd, 0);
  TaskFilter tree;
  tree.root_session_id = "ses_a";
  Result<std::vector<TaskRecord>> in_tree = s.ListTasks(tree);
  ASSERT_TRUE(in_tree.ok());
  EXPECT_EQ(in_tree->size(), 2u);

  ModelRequestRecord first;
  first.task_id = "bg_2";
  first.session_id = "ses_c";
  first.root_session_id = "ses_a";
  first.model = "anthropic/claude-sonnet-4-5";
  first.usage = {1, 1000, 200, 100, 300, 50, 12345, 0};
  first.created_at_ms = 1000;
  ModelRequestRecord second = first;
  second.session_id = "ses_b";
  second.usage = {1, 10, 20, 0, 0, 0, 0, 1};  // no price
  second.created_at_ms = 2000;
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.AppendModelRequest(&first).ok());
  ASSERT_TRUE(s.AppendModelRequest(&second).ok());
  ASSERT_TRUE(s.Commit().ok());
  EXPECT_LT(first.id, second.id);

  UsageFilter by_tree;
  by_tree.root_session_id = "ses_a";
  Result<UsageTotals> sum = s.SumUsage(by_tree);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(*sum, (UsageTotals{2, 1010, 220, 100, 300, 50, 12345, 1}));
  EXPECT_FALSE(sum->cost_known());
  UsageFilter by_session;
  by_session.session_id = "ses_c";
  EXPECT_EQ(*s.SumUsage(by_session), first.usage);
  UsageFilter window;
  window.since_ms = 1500;
  window.until_ms = 2500;
  EXPECT_EQ(*s.SumUsage(window), second.usage);
  UsageFilter none;
  none.task_id = "bg_9";
  EXPECT_EQ(*s.SumUsage(none), UsageTotals{});
  Result<std::vector<ModelRequestRecord>> listed = s.ListModelRequests("bg_2");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].usage, first.usage);
  EXPECT_EQ((*listed)[1].usage, second.usage);
  EXPECT_EQ((*listed)[0].model, "anthropic/claude-sonnet-4-5");
}

TEST(SqliteSchemaTest, CommittedDataSurvivesReopen) {
  TestDir dir;
  const std::string path = dir.File("troupe.db");
  {
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
    ASSERT_TRUE(store.ok());
    Store& s = **store;
    ASSERT_TRUE(s.Begin().ok());
    ASSERT_TRUE(s.InsertSession(Session("ses_1")).ok());
    ASSERT_TRUE(s.InsertTask(Task("bg_1", "ses_1")).ok());
    ASSERT_TRUE(s.Commit().ok());
    ASSERT_TRUE(s.Begin().ok());  // left open: must not survive
    ASSERT_TRUE(s.InsertTask(Task("bg_2", "ses_1")).ok());
  }
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*(*store)->GetSession("ses_1")).has_value());
  EXPECT_TRUE((*(*store)->GetTask("bg_1")).has_value());
  EXPECT_FALSE((*(*store)->GetTask("bg_2")).has_value());
}

// A process that commits and dies without closing anything (as with kill -9) loses nothing it
// committed, and a transaction it left open leaves no trace.
TEST(SqliteSchemaTest, CommittedDataSurvivesACrash) {
  for (bool sync_full : {false, true}) {
    TestDir dir;
    const std::string path = dir.File("troupe.db");
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      SqliteStoreOptions options;
      options.sync_full = sync_full;
      Result<std::unique_ptr<Store>> store = OpenSqliteStore(path, options);
      if (!store.ok()) _exit(1);
      Store& s = **store;
      if (!s.Begin().ok() || !s.InsertSession(Session("ses_1")).ok() ||
          !s.InsertTask(Task("bg_1", "ses_1")).ok() || !s.Commit().ok()) {
        _exit(2);
      }
      EventRecord event{0, "task.state", "bg_1", "{}", 1};
      if (!s.Begin().ok() || !s.AppendEvent(&event).ok() || !s.Commit().ok()) _exit(3);
      if (!s.Begin().ok() || !s.InsertTask(Task("bg_2", "ses_1")).ok()) _exit(4);
      _exit(0);  // no destructor, no sqlite3_close, transaction still open
    }
    int wstatus = 0;
    ASSERT_EQ(waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFEXITED(wstatus));
    ASSERT_EQ(WEXITSTATUS(wstatus), 0);

    Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Store& s = **store;
    EXPECT_TRUE((*s.GetTask("bg_1")).has_value());
    EXPECT_FALSE((*s.GetTask("bg_2")).has_value());
    EXPECT_EQ(*s.LastEventId(), 1);
  }
}

TEST(SqliteSchemaTest, EventIdsAreNeverReusedAfterReopen) {
  TestDir dir;
  const std::string path = dir.File("troupe.db");
  int64_t last = 0;
  {
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Begin().ok());
    for (int i = 0; i < 3; ++i) {
      EventRecord event{0, "task.state", "bg_1", "{}", i};
      ASSERT_TRUE((*store)->AppendEvent(&event).ok());
      last = event.id;
    }
    ASSERT_TRUE((*store)->Commit().ok());
  }
  // Even if the newest events are removed (say, by pruning), their ids stay used.
  RawExec(path, "DELETE FROM events WHERE id = " + std::to_string(last));
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Begin().ok());
  EventRecord event{0, "task.state", "bg_1", "{}", 9};
  ASSERT_TRUE((*store)->AppendEvent(&event).ok());
  ASSERT_TRUE((*store)->Commit().ok());
  EXPECT_GT(event.id, last);
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

// Version 4 gives every task an empty worktree ("" = it ran in its workspace); an isolated
// task's worktree is written at launch and rewritten when it ends.
TEST(SqliteSchemaTest, MigratesAVersion3DatabaseGivingTasksNoWorktree) {
  TestDir dir;
  const std::string path = dir.File("troupe.db");
  RawExec(path, "PRAGMA application_id = " + std::to_string(kTroupeApplicationId) + ";" +
                    std::string(SqliteMigrations()[0]) + std::string(SqliteMigrations()[1]) +
                    std::string(SqliteMigrations()[2]) +
                    "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (1, 5);"
                    "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (2, 6);"
                    "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (3, 7);"
                    "INSERT INTO sessions VALUES ('ses_a', 'general', 'mock/m', '/w', '', "
                    "'cli', 'root', 0, 10, 10);"
                    "INSERT INTO tasks (id, session_id, parent_session_id, owner, description, "
                    "prompt, agent, model, state, attempt, depth, result, error, limits_json, "
                    "created_at_ms, queued_at_ms, started_at_ms, finished_at_ms, updated_at_ms, "
                    "turns, tool_calls, input_tokens, output_tokens, last_tool) VALUES ('bg_1', "
                    "'ses_a', '', 'cli', 'd', 'p', 'general', 'mock/m', 'completed', 1, 0, 'r', "
                    "'', '', 10, 10, 11, 12, 12, 2, 3, 100, 20, 'write');");
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Store& s = **store;
  Result<std::optional<TaskRecord>> old = s.GetTask("bg_1");
  ASSERT_TRUE(old.ok() && old->has_value());
  EXPECT_EQ((*old)->worktree_json, "");
  EXPECT_EQ((*old)->last_tool, "write");

  TaskRecord t = Task("bg_2", "ses_a");
  t.worktree_json = R"({"branch":"troupe/bg_2"})";
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.InsertTask(t).ok());
  ASSERT_TRUE(s.Commit().ok());
  t.worktree_json = R"({"branch":"troupe/bg_2","removed":true})";
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.UpdateTask(t).ok());
  ASSERT_TRUE(s.Commit().ok());
  Result<std::optional<TaskRecord>> back = s.GetTask("bg_2");
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->worktree_json, R"({"branch":"troupe/bg_2","removed":true})");
}

}  // namespace
}  // namespace troupe
