#include "daemon/daemon_lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "core/testing/test_dir.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DaemonLockTest : public ::testing::Test {
 protected:
  std::string LockPath() const { return dir_.File("troupe.lock"); }
  testing::TestDir dir_;
};

TEST_F(DaemonLockTest, NoFileMeansNoDaemon) {
  auto running = ReadRunningDaemon(LockPath());
  ASSERT_TRUE(running.ok()) << running.status().ToString();
  EXPECT_FALSE(running->has_value());
}

TEST_F(DaemonLockTest, AFileNobodyHoldsMeansNoDaemon) {
  {
    auto lock = DaemonLock::Acquire(LockPath());
    ASSERT_TRUE(lock.ok()) << lock.status().ToString();
    DaemonAddress a;
    a.pid = 4242;
    a.socket = "/run/x.sock";
    ASSERT_TRUE(lock->Publish(a).ok());
  }
  // The file stays, with the old daemon's address, but nobody holds the lock.
  EXPECT_THAT(testing::ReadFileBytes(LockPath()), HasSubstr("4242"));
  auto running = ReadRunningDaemon(LockPath());
  ASSERT_TRUE(running.ok()) << running.status().ToString();
  EXPECT_FALSE(running->has_value());
  // And it can be taken again.
  EXPECT_TRUE(DaemonLock::Acquire(LockPath()).ok());
}

TEST_F(DaemonLockTest, TheLockFileIsPrivate) {
  auto lock = DaemonLock::Acquire(LockPath());
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  struct stat st {};
  ASSERT_EQ(stat(LockPath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
}

TEST_F(DaemonLockTest, PublishThenReadRunningDaemonRoundTrips) {
  auto lock = DaemonLock::Acquire(LockPath());
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  DaemonAddress a;
  a.pid = getpid();
  a.socket = "/tmp/troupe-test/some dir/troupe.sock";
  a.tcp_port = 7077;
  a.started_at_ms = 1763700000123;
  ASSERT_TRUE(lock->Publish(a).ok());

  auto running = ReadRunningDaemon(LockPath());
  ASSERT_TRUE(running.ok()) << running.status().ToString();
  ASSERT_TRUE(running->has_value());
  EXPECT_EQ((*running)->pid, a.pid);
  EXPECT_EQ((*running)->socket, a.socket);
  EXPECT_EQ((*running)->tcp_port, 7077);
  EXPECT_EQ((*running)->started_at_ms, a.started_at_ms);
}

TEST_F(DaemonLockTest, AShorterPublishReplacesALongerOneWhole) {
  auto lock = DaemonLock::Acquire(LockPath());
  ASSERT_TRUE(lock.ok());
  DaemonAddress a;
  a.pid = 1;
  a.socket = std::string(200, 's');
  a.tcp_port = 65535;
  a.started_at_ms = 1763700000123;
  ASSERT_TRUE(lock->Publish(a).ok());
  DaemonAddress b;
  b.pid = 2;
  b.socket = "/s";
  ASSERT_TRUE(lock->Publish(b).ok());
  auto running = ReadRunningDaemon(LockPath());
  ASSERT_TRUE(running.ok() && running->has_value());
  EXPECT_EQ((*running)->pid, 2);
  EXPECT_EQ((*running)->socket, "/s");
  EXPECT_EQ((*running)->tcp_port, 0);
  EXPECT_EQ((*running)->started_at_ms, 0);
}

TEST_F(DaemonLockTest, ASecondAcquireInTheSameProcessFailsNamingTheHolder) {
  auto first = DaemonLock::Acquire(LockPath());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // Before Publish: the pid is already known.
  auto early = DaemonLock::Acquire(LockPath());
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(early.status().message(), HasSubstr("already running for " + dir_.path().string()));
  EXPECT_THAT(early.status().message(), HasSubstr("pid " + std::to_string(getpid())));

  DaemonAddress a;
  a.pid = getpid();
  a.socket = "/tmp/t.sock";
  a.tcp_port = 7077;
  ASSERT_TRUE(first->Publish(a).ok());
  auto second = DaemonLock::Acquire(LockPath());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(), "troupe is already running for " + dir_.path().string() +
                                           " (pid " + std::to_string(getpid()) +
                                           ", socket /tmp/t.sock, tcp 127.0.0.1:7077)");

  a.tcp_port = 0;
  ASSERT_TRUE(first->Publish(a).ok());
  auto third = DaemonLock::Acquire(LockPath());
  ASSERT_FALSE(third.ok());
  EXPECT_THAT(third.status().message(), Not(HasSubstr("tcp")));
}

// A caller that words "already running" itself gets the holder's address, not a message to cut.
TEST_F(DaemonLockTest, ARefusedAcquireHandsBackTheHolder) {
  auto first = DaemonLock::Acquire(LockPath());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  DaemonAddress a;
  a.pid = getpid();
  a.socket = "/tmp/t.sock";
  ASSERT_TRUE(first->Publish(a).ok());
  DaemonAddress holder;
  auto second = DaemonLock::Acquire(LockPath(), &holder);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(holder.pid, getpid());
  EXPECT_EQ(holder.socket, "/tmp/t.sock");
  EXPECT_EQ(AlreadyRunningText(LockPath(), holder), "already running for " + dir_.path().string() +
                                                        " (pid " + std::to_string(getpid()) +
                                                        ", socket /tmp/t.sock)");
  EXPECT_EQ(second.status().message(), "troupe is " + AlreadyRunningText(LockPath(), holder));
}

TEST_F(DaemonLockTest, AMovedLockStaysHeldUntilItsLastOwnerGoes) {
  auto acquired = DaemonLock::Acquire(LockPath());
  ASSERT_TRUE(acquired.ok());
  {
    DaemonLock moved = std::move(acquired).value();
    EXPECT_FALSE(DaemonLock::Acquire(LockPath()).ok());
    auto running = ReadRunningDaemon(LockPath());
    ASSERT_TRUE(running.ok());
    EXPECT_TRUE(running->has_value());
  }
  EXPECT_TRUE(DaemonLock::Acquire(LockPath()).ok());
}

TEST_F(DaemonLockTest, AnotherProcessHoldingTheLockIsNamedAndItsDeathFreesIt) {
  int ready[2];
  int hold[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(hold), 0);
  const std::string path = LockPath();
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    close(hold[1]);
    auto lock = DaemonLock::Acquire(path);
    if (!lock.ok()) _exit(1);
    DaemonAddress a;
    a.pid = getpid();
    a.socket = "/tmp/child.sock";
    a.started_at_ms = 5;
    if (!lock->Publish(a).ok()) _exit(2);
    char c = 'r';
    if (write(ready[1], &c, 1) != 1) _exit(3);
    // Holds the lock until the parent closes its end of `hold` (or kills us).
    (void)read(hold[0], &c, 1);
    _exit(0);
  }
  close(ready[1]);
  close(hold[0]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);

  auto second = DaemonLock::Acquire(path);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(),
              HasSubstr("(pid " + std::to_string(child) + ", socket /tmp/child.sock)"));
  auto running = ReadRunningDaemon(path);
  ASSERT_TRUE(running.ok());
  ASSERT_TRUE(running->has_value());
  EXPECT_EQ((*running)->pid, child);
  EXPECT_EQ((*running)->started_at_ms, 5);

  // kill -9: the kernel drops the lock with the process.
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(hold[1]);
  running = ReadRunningDaemon(path);
  ASSERT_TRUE(running.ok());
  EXPECT_FALSE(running->has_value());
  EXPECT_TRUE(DaemonLock::Acquire(path).ok());
}

TEST_F(DaemonLockTest, AnUnwritableLockPathIsAnIoError) {
  auto lock = DaemonLock::Acquire(dir_.File("missing/dir/troupe.lock"));
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), StatusCode::kIoError);
  EXPECT_THAT(lock.status().message(), HasSubstr("missing/dir/troupe.lock"));
}

}  // namespace
}  // namespace troupe
