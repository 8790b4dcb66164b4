#include "dashboard/dashboard_sessions.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/fake_clock.h"
#include "core/testing/test_dir.h"
#include "dashboard/random_secret.h"
#include "store/dashboard_session_store.h"
#include "store/sqlite_store.h"

namespace troupe {
namespace {

using testing::TestDir;

// Refuses writes while `failing`, as a full disk would.
class FailingSessionStore : public DashboardSessionStore {
 public:
  explicit FailingSessionStore(DashboardSessionStore* base) : base_(base) {}
  bool failing = false;
  Status Insert(const DashboardSessionRecord& s) override {
    return failing ? Status::IoError("disk full") : base_->Insert(s);
  }
  Status Touch(const std::string& h, int64_t at) override {
    return failing ? Status::IoError("disk full") : base_->Touch(h, at);
  }
  Status Delete(const std::string& h) override {
    return failing ? Status::IoError("disk full") : base_->Delete(h);
  }
  Result<std::vector<DashboardSessionRecord>> List() override { return base_->List(); }

 private:
  DashboardSessionStore* base_;
};

class DashboardSessionsTest : public ::testing::Test {
 protected:
  // The troupe database (opened and migrated as the daemon does), and the sessions' connection.
  std::unique_ptr<DashboardSessionStore> Open() {
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(dir_.File("troupe.db"));
    EXPECT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store).value();
    Result<std::unique_ptr<DashboardSessionStore>> sessions =
        OpenSqliteDashboardSessionStore(dir_.File("troupe.db"));
    EXPECT_TRUE(sessions.ok()) << sessions.status().message();
    return std::move(sessions).value();
  }
  TestDir dir_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
};

TEST_F(DashboardSessionsTest, ASessionIsCheckedByItsSecretAndStoredOnlyAsAHash) {
  auto store = Open();
  DashboardSessions sessions(store.get(), &clock_, RandomSecret);
  ASSERT_TRUE(sessions.Load().ok());
  Result<std::string> secret = sessions.Create();
  ASSERT_TRUE(secret.ok()) << secret.status().message();
  EXPECT_TRUE(sessions.Check(*secret));
  EXPECT_FALSE(sessions.Check(RandomSecret()));
  EXPECT_FALSE(sessions.Check("short"));

  Result<std::vector<DashboardSessionRecord>> rows = store->List();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].secret_sha256, Sha256Hex(*secret));
  EXPECT_NE((*rows)[0].secret_sha256, *secret);
  EXPECT_EQ((*rows)[0].created_at_ms, clock_.WallMs());
}

TEST_F(DashboardSessionsTest, ASessionSurvivesReopeningTheStore) {
  std::string secret;
  {
    auto store = Open();
    DashboardSessions sessions(store.get(), &clock_, RandomSecret);
    ASSERT_TRUE(sessions.Load().ok());
    secret = sessions.Create().value();
  }
  store_.reset();
  auto store = Open();
  DashboardSessions sessions(store.get(), &clock_, RandomSecret);
  EXPECT_FALSE(sessions.Check(secret));  // not loaded yet
  ASSERT_TRUE(sessions.Load().ok());
  EXPECT_TRUE(sessions.Check(secret));
}

TEST_F(DashboardSessionsTest, DeleteEndsTheSessionForGood) {
  auto store = Open();
  DashboardSessions sessions(store.get(), &clock_, RandomSecret);
  ASSERT_TRUE(sessions.Load().ok());
  std::string secret = sessions.Create().value();
  ASSERT_TRUE(sessions.Delete(secret).ok());
  EXPECT_FALSE(sessions.Check(secret));
  EXPECT_TRUE(sessions.Delete(secret).ok());  // again: nothing to do
  DashboardSessions reloaded(store.get(), &clock_, RandomSecret);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_FALSE(reloaded.Check(secret));
  EXPECT_EQ(store->List()->size(), 0u);
}

TEST_F(DashboardSessionsTest, SessionsExpireThirtyDaysAfterLoginAndAreRemovedAtLoad) {
  auto store = Open();
  DashboardSessions sessions(store.get(), &clock_, RandomSecret);
  ASSERT_TRUE(sessions.Load().ok());
  std::string secret = sessions.Create().value();
  clock_.AdvanceMs(DashboardSessions::kMaxAgeMs - 1);
  EXPECT_TRUE(sessions.Check(secret));
  clock_.AdvanceMs(1);
  DashboardSessions reloaded(store.get(), &clock_, RandomSecret);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_EQ(reloaded.size(), 0u);
  EXPECT_EQ(store->List()->size(), 0u);
  EXPECT_FALSE(sessions.Check(secret));
}

TEST_F(DashboardSessionsTest, LastUseIsWrittenAtMostHourly) {
  auto store = Open();
  DashboardSessions sessions(store.get(), &clock_, RandomSecret);
  ASSERT_TRUE(sessions.Load().ok());
  std::string secret = sessions.Create().value();
  const int64_t created = clock_.WallMs();
  clock_.AdvanceMs(60'000);
  EXPECT_TRUE(sessions.Check(secret));
  EXPECT_EQ((*store->List())[0].last_used_at_ms, created);
  clock_.AdvanceMs(DashboardSessions::kTouchIntervalMs);
  EXPECT_TRUE(sessions.Check(secret));
  EXPECT_EQ((*store->List())[0].last_used_at_ms, clock_.WallMs());
}

TEST_F(DashboardSessionsTest, AStoreThatCannotWriteRefusesALoginButKeepsExistingOnes) {
  auto base = Open();
  FailingSessionStore store(base.get());
  DashboardSessions sessions(&store, &clock_, RandomSecret);
  ASSERT_TRUE(sessions.Load().ok());
  std::string secret = sessions.Create().value();
  store.failing = true;
  Result<std::string> refused = sessions.Create();
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(sessions.size(), 1u);
  clock_.AdvanceMs(DashboardSessions::kTouchIntervalMs);
  EXPECT_TRUE(sessions.Check(secret));  // the failed touch does not log it out
}

}  // namespace
}  // namespace troupe
