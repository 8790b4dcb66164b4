#include "cli/daemon_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "cli/exit_codes.h"
#include "cli/testing/fake_daemon.h"
#include "core/testing/scoped_env.h"
#include "core/testing/test_dir.h"
#include "daemon/daemon_lock.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using testing::FakeDaemon;
using testing::FakeRequest;
using testing::FakeResponse;
using ::testing::HasSubstr;

FakeResponse Health() {
  return FakeResponse::Json(200, {{"ok", true}, {"version", "0.1.0"}, {"pid", 1}});
}

class DaemonClientTest : public ::testing::Test {
 protected:
  DaemonClientTest() : socket_(dir_.File("d.sock")) {}

  ClientOptions Options() const {
    ClientOptions options;
    options.data_dir = dir_.File("data");
    options.socket = socket_;
    options.autostart = false;
    return options;
  }

  // Starts the fake with `handler`; /v1/health answers OK unless the handler handles it.
  void StartFake(std::function<FakeResponse(const FakeRequest&)> handler) {
    fake_ = FakeDaemon::Start(socket_, [handler](const FakeRequest& r) {
      if (r.target == "/v1/health") return Health();
      return handler(r);
    });
    ASSERT_NE(fake_, nullptr);
  }

  std::unique_ptr<DaemonClient> Connect() {
    Result<std::unique_ptr<DaemonClient>> client = DaemonClient::Connect(Options());
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  testing::TestDir dir_;
  std::string socket_;
  std::unique_ptr<FakeDaemon> fake_;
};

TEST_F(DaemonClientTest, JsonRoundTripOverTheSocket) {
  StartFake([](const FakeRequest& r) {
    if (r.method == "POST" && r.target == "/v1/tasks") {
      json body = r.Json();
      return FakeResponse::Json(201, {{"task", {{"id", "bg_1"}, {"prompt", body["prompt"]}}}});
    }
    return FakeResponse::Json(200, {{"tasks", json::array()}});
  });
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->socket(), socket_);

  Result<json> created = client->Post("/v1/tasks", {{"prompt", "héllo \"x\""}, {"owner", "cli"}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["task"]["id"], "bg_1");
  EXPECT_EQ((*created)["task"]["prompt"], "héllo \"x\"");
  Result<json> listed = client->Get("/v1/tasks?status=active");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, json({{"tasks", json::array()}}));

  const std::vector<FakeRequest> requests = fake_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, "/v1/health");
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[1].Header("content-type"), "application/json");
  EXPECT_EQ(requests[1].Header("authorization"), "");  // no token over the socket
  EXPECT_EQ(requests[1].Json(), json({{"prompt", "héllo \"x\""}, {"owner", "cli"}}));
  EXPECT_EQ(requests[2].method, "GET");
  EXPECT_EQ(requests[2].target, "/v1/tasks?status=active");
}

TEST_F(DaemonClientTest, ApiErrorBecomesItsMessageAndCode) {
  StartFake([](const FakeRequest& r) {
    if (r.target == "/v1/tasks/bg_nope")
      return FakeResponse::Error(404, "not_found", "no task bg_nope");
    if (r.target == "/v1/tasks") {
      return FakeResponse::Error(400, "invalid_argument",
                                 "prompt: expected a non-empty string, got number", "prompt");
    }
    if (r.target == "/v1/busy") return FakeResponse::Error(409, "conflict", "session is busy");
    if (r.target == "/v1/stopping") {
      return FakeResponse::Error(503, "unavailable", "the daemon is shutting down");
    }
    FakeResponse plain;
    plain.status = 500;
    plain.content_type = "text/plain";
    plain.body = "boom\nmore";
    return plain;
  });
  auto client = Connect();
  ASSERT_NE(client, nullptr);

  Result<json> missing = client->Get("/v1/tasks/bg_nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status(), Status::NotFound("no task bg_nope"));
  EXPECT_EQ(client->last_error().http_status, 404);
  EXPECT_EQ(client->last_error().code, "not_found");
  EXPECT_EQ(ExitCodeForStatus(missing.status()), kExitError);

  Result<json> bad = client->Post("/v1/tasks", {{"prompt", 1}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "prompt: expected a non-empty string, got number");
  EXPECT_EQ(client->last_error().field, "prompt");

  EXPECT_EQ(client->Get("/v1/busy").status().code(), StatusCode::kFailedPrecondition);

  Result<json> stopping = client->Get("/v1/stopping");
  EXPECT_EQ(stopping.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(ExitCodeForStatus(stopping.status()), kExitUnreachable);

  Result<json> plain = client->Get("/v1/other");
  EXPECT_EQ(plain.status().code(), StatusCode::kInternal);
  EXPECT_THAT(plain.status().message(), HasSubstr("HTTP 500: boom"));
  EXPECT_EQ(client->last_error().code, "");

  // A successful request clears the error.
  fake_->SetHandler([](const FakeRequest&) { return FakeResponse::Json(200, {{"ok", true}}); });
  ASSERT_TRUE(client->Get("/v1/health").ok());
  EXPECT_EQ(client->last_error().http_status, 0);
}

TEST_F(DaemonClientTest, UnreachableWithoutAutostartSaysWhereAndWhatToDo) {
  Result<std::unique_ptr<DaemonClient>> client = DaemonClient::Connect(Options());
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(ExitCodeForStatus(client.status()), kExitUnreachable);
  EXPECT_EQ(client.status().message(),
            "cannot reach the troupe daemon at " + socket_ +
                ": no socket there (hint: is `troupe serve` running? see " +
                dir_.File("data/troupe.log") + ")");

  // A socket file nobody listens on (a daemon that was killed): refused.
  auto stale = FakeDaemon::Start(socket_, nullptr);
  ASSERT_NE(stale, nullptr);
  std::filesystem::rename(socket_, socket_ + ".kept");  // the fake removes its socket when done
  stale.reset();
  std::filesystem::rename(socket_ + ".kept", socket_);
  client = DaemonClient::Connect(Options());
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr(": connection refused (hint: "));
}

TEST_F(DaemonClientTest, UsesTheSocketTheRunningDaemonsLockFileNames) {
  // A daemon started with another --socket: its lock file says where it listens.
  std::filesystem::create_directories(dir_.File("data"));
  Result<DaemonLock> lock = DaemonLock::Acquire(dir_.File("data/troupe.lock"));
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  const std::string elsewhere = dir_.File("elsewhere.sock");
  DaemonAddress address;
  address.pid = ::getpid();
  address.socket = elsewhere;
  ASSERT_TRUE(lock->Publish(address).ok());
  auto fake = FakeDaemon::Start(elsewhere, [](const FakeRequest&) { return Health(); });
  ASSERT_NE(fake, nullptr);

  ClientOptions options = Options();
  options.socket = "";
  testing::ScopedEnv no_socket_env("TROUPE_SOCKET", nullptr);
  Result<std::unique_ptr<DaemonClient>> client = DaemonClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ((*client)->socket(), elsewhere);

  // An explicit --socket wins.
  options.socket = socket_;
  client = DaemonClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr(socket_));
}

// The /tmp fallback squatted: a socket there that is not this user's gets no request, and the
// error names the path and its owner.
TEST_F(DaemonClientTest, NeverSendsToASocketOfAnotherUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give a socket away";
  StartFake([](const FakeRequest&) { return FakeResponse::Json(200, {{"id", "bg_fake"}}); });
  ASSERT_EQ(chown(socket_.c_str(), 65534, 65534), 0);
  Result<std::unique_ptr<DaemonClient>> client = DaemonClient::Connect(Options());
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr(socket_));
  EXPECT_THAT(client.status().message(), HasSubstr("belongs to another user (uid 65534)"));
  EXPECT_TRUE(fake_->requests().empty());
}

// A socket directory that is a symbolic link could be re-pointed between the check and the
// connect: refused, even when it leads to a directory of ours.
TEST_F(DaemonClientTest, NeverSendsThroughASymlinkedSocketDirectory) {
  std::filesystem::create_directories(dir_.File("real"));
  ASSERT_EQ(chmod(dir_.File("real").c_str(), 0700), 0);
  ASSERT_EQ(symlink(dir_.File("real").c_str(), dir_.File("link").c_str()), 0);
  auto fake = FakeDaemon::Start(dir_.File("real/d.sock"), [](const FakeRequest&) { return Health(); });
  ASSERT_NE(fake, nullptr);
  ClientOptions options = Options();
  options.socket = dir_.File("link/d.sock");
  Result<std::unique_ptr<DaemonClient>> client = DaemonClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr("is a symbolic link"));
  EXPECT_TRUE(fake->requests().empty());
}

TEST_F(DaemonClientTest, TcpSendsTheBearerTokenFromTheDataDir) {
  fake_ = FakeDaemon::Start("", [](const FakeRequest& r) {
    if (r.Header("authorization") != "Bearer s3cret") {
      return FakeResponse::Error(401, "unauthorized", "missing or wrong bearer token");
    }
    return Health();
  });
  ASSERT_NE(fake_, nullptr);
  ClientOptions options = Options();
  options.socket = "";
  options.url = "http://127.0.0.1:" + std::to_string(fake_->port());
  dir_.Write("data/token", "s3cret\n");
  auto client = DaemonClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ((*client)->socket(), "");

  options.token = "wrong";
  client = DaemonClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().message(), "missing or wrong bearer token");

  options.token = "";
  std::filesystem::remove(dir_.File("data/token"));
  client = DaemonClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr("(hint: pass --token or set TROUPE_TOKEN)"));
}

TEST_F(DaemonClientTest, EventsParseAcrossReads) {
  StartFake([](const FakeRequest&) {
    return FakeResponse::Stream(
        {
            {0, "id: 1\nevent: task.state\nda"},
            {30, "ta: {\"task_id\":\"bg_1\",\"state\":\"running\"}\n"},
            {30, "\n: keep-alive\n\n"},
            {0, "event: task.progress\r\ndata: {\"tool\":\"grep\"}\r\n\r\n"},
            {30, "id: 2\nevent: task.state\ndata: {\"state\":\"completed\"}\n\n"},
        },
        /*hold_open=*/true);
  });
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  std::vector<SseEvent> events;
  int opened = 0;
  EventsOptions options;
  options.on_open = [&] { ++opened; };
  Status s = client->Events(
      "/v1/events?after=0",
      [&](const SseEvent& e) {
        events.push_back(e);
        return events.size() < 3;
      },
      options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(opened, 1);
  EXPECT_THAT(events, ElementsAre(SseEvent{"task.state",
                                           "{\"task_id\":\"bg_1\",\"state\":\"running\"}", "1"},
                                  SseEvent{"task.progress", "{\"tool\":\"grep\"}", "1"},
                                  SseEvent{"task.state", "{\"state\":\"completed\"}", "2"}));
  const auto streams = fake_->RequestsTo("/v1/events");
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].Header("accept"), "text/event-stream");
  EXPECT_EQ(streams[0].Header("last-event-id"), "");
}

TEST_F(DaemonClientTest, ReconnectsWithLastEventIdAfterADrop) {
  std::atomic<int> connections{0};
  StartFake([&](const FakeRequest&) {
    if (connections++ == 0) {
      // Two events, then half of a third, then the connection drops.
      return FakeResponse::Stream({{0, "id: 1\nevent: task.state\ndata: {\"n\":1}\n\n"},
                                   {0, "id: 2\nevent: task.state\ndata: {\"n\":2}\n\n"},
                                   {0, "id: 3\nevent: task.state\ndata: {\"n\""}});
    }
    return FakeResponse::Stream({{0, "id: 3\nevent: task.state\ndata: {\"n\":3}\n\n"}},
                                /*hold_open=*/true);
  });
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  std::vector<std::string> ids;
  int opened = 0;
  EventsOptions options;
  options.retry_delay_ms = 10;
  options.on_open = [&] { ++opened; };
  Status s = client->Events(
      "/v1/events?task=bg_1&after=0",
      [&](const SseEvent& e) {
        ids.push_back(e.id);
        return e.id != "3";
      },
      options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_THAT(ids, ElementsAre("1", "2", "3"));  // the cut event is not delivered twice
  EXPECT_EQ(opened, 2);
  const auto streams = fake_->RequestsTo("/v1/events");
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[0].target, "/v1/events?task=bg_1&after=0");
  EXPECT_EQ(streams[1].Header("last-event-id"), "2");
  EXPECT_EQ(streams[1].target, "/v1/events?task=bg_1&after=2");
}

TEST_F(DaemonClientTest, GivesUpAfterBoundedRetries) {
  StartFake([](const FakeRequest&) { return FakeResponse::Stream({}); });  // opens, ends at once
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  EventsOptions options;
  options.max_retries = 3;
  options.retry_delay_ms = 1;
  Status s = client->Events(
      "/v1/events", [](const SseEvent&) { return true; }, options);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("lost the event stream of the troupe daemon at " + socket_ +
                                     ": the daemon ended the stream (hint: "));
  EXPECT_EQ(fake_->RequestsTo("/v1/events").size(), 4u);  // the first try and 3 retries
}

TEST_F(DaemonClientTest, RefusedStreamIsReturnedAtOnce) {
  StartFake([](const FakeRequest&) {
    return FakeResponse::Error(400, "invalid_argument",
                               "after: expected an integer >= 0, got \"x\"", "after");
  });
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  Status s = client->Events("/v1/events?after=x", [](const SseEvent&) { return true; });
  EXPECT_EQ(s, Status::InvalidArgument("after: expected an integer >= 0, got \"x\""));
  EXPECT_EQ(fake_->RequestsTo("/v1/events").size(), 1u);
}

TEST_F(DaemonClientTest, EventsTimeoutAndTick) {
  StartFake([](const FakeRequest&) { return FakeResponse::Stream({}, /*hold_open=*/true); });
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  EventsOptions options;
  options.timeout_ms = 150;
  const auto start = std::chrono::steady_clock::now();
  Status s = client->Events(
      "/v1/events", [](const SseEvent&) { return true; }, options);
  // The stream is held open and says nothing: only the timeout can have ended it.
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(140));

  int ticks = 0;
  options.timeout_ms = 0;
  options.on_tick = [&] { return ++ticks < 3; };
  s = client->Events(
      "/v1/events", [](const SseEvent&) { return true; }, options);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(ticks, 3);
}

TEST_F(DaemonClientTest, GetInsideAnEventCallback) {
  StartFake([](const FakeRequest& r) {
    if (r.target.rfind("/v1/events", 0) == 0) {
      return FakeResponse::Stream({{0, "id: 1\nevent: task.state\ndata: {}\n\n"}}, true);
    }
    return FakeResponse::Json(200, {{"task", {{"id", "bg_1"}}}});
  });
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  std::string id;
  Status s = client->Events("/v1/events", [&](const SseEvent&) {
    Result<json> task = client->Get("/v1/tasks/bg_1");
    id = task.ok() ? (*task)["task"]["id"].get<std::string>() : task.status().ToString();
    return false;
  });
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(id, "bg_1");
}

// A stand-in for the troupe binary: records its arguments, then behaves as `script` says.
std::string FakeTroupe(const testing::TestDir& dir, const std::string& script) {
  const std::string path =
      dir.Write("fake-troupe", "#!/bin/sh\necho \"$@\" > " + dir.File("args.txt") + "\n" + script);
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST_F(DaemonClientTest, AutostartRunsServeDetachAndWaitsForHealth) {
  // The fake binary exits at once; the "daemon" (this test's fake) starts listening only once
  // the binary has run, as a real daemon that detaches first would: the client has to wait.
  ClientOptions options = Options();
  options.autostart = true;
  options.troupe_binary = FakeTroupe(dir_, "exit 0\n");
  options.serve_args = {"--log-level", "debug"};
  std::thread later([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!std::filesystem::exists(dir_.File("args.txt")) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    StartFake([](const FakeRequest&) { return FakeResponse::Json(200, json::object()); });
  });
  Result<std::unique_ptr<DaemonClient>> client = DaemonClient::Connect(options);
  later.join();
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_TRUE((*client)->started_daemon());
  EXPECT_EQ(testing::ReadFileBytes(dir_.File("args.txt")), "serve --detach --data-dir " +
                                                               dir_.File("data") + " --socket " +
                                                               socket_ + " --log-level debug\n");
}

TEST_F(DaemonClientTest, AutostartFailureShowsWhatServeSaid) {
  ClientOptions options = Options();
  options.autostart = true;
  options.troupe_binary = FakeTroupe(dir_, "echo 'troupe serve: not built yet' >&2\nexit 1\n");
  Result<std::unique_ptr<DaemonClient>> client = DaemonClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(client.status().message(), HasSubstr("could not start the troupe daemon"));
  EXPECT_THAT(client.status().message(), HasSubstr(": troupe serve: not built yet (hint: see " +
                                                   dir_.File("data/troupe.log") + ")"));
}

TEST_F(DaemonClientTest, AutostartTimesOut) {
  ClientOptions options = Options();
  options.autostart = true;
  options.start_timeout_ms = 300;
  options.troupe_binary = FakeTroupe(dir_, "exit 0\n");
  Result<std::unique_ptr<DaemonClient>> client = DaemonClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(),
              HasSubstr("started the troupe daemon but it did not answer at " + socket_));
}

TEST_F(DaemonClientTest, NeverTalksToASocketInADirectoryOthersCanWriteTo) {
  std::filesystem::create_directories(dir_.File("shared"));
  ASSERT_EQ(::chmod(dir_.File("shared").c_str(), 01777), 0);
  ClientOptions options = Options();
  options.socket = dir_.File("shared/troupe.sock");
  options.autostart = true;
  options.troupe_binary = FakeTroupe(dir_, "exit 0\n");
  Result<std::unique_ptr<DaemonClient>> client = DaemonClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(client.status().message(),
              HasSubstr("will not talk to a troupe daemon at " + options.socket));
  EXPECT_THAT(client.status().message(), HasSubstr("writable by other users"));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("args.txt")));  // nothing started
}

// Autostart when another daemon holds the data directory: the started `serve` exits 3, and the
// client follows the lock file — or says at once why that daemon can never answer it.
class AutostartFindsTheDirTakenTest : public DaemonClientTest {
 protected:
  // A "daemon" holding the lock of the data dir and saying it listens on `socket`.
  void HoldLock(const std::string& socket) {
    std::filesystem::create_directories(dir_.File("data"));
    Result<DaemonLock> lock = DaemonLock::Acquire(dir_.File("data/troupe.lock"));
    ASSERT_TRUE(lock.ok()) << lock.status().ToString();
    lock_.emplace(std::move(lock).value());
    if (socket.empty()) return;  // starting up: the lock names no socket yet
    DaemonAddress address;
    address.pid = 4242;
    address.socket = socket;
    ASSERT_TRUE(lock_->Publish(address).ok());
  }

  Result<std::unique_ptr<DaemonClient>> ConnectStartingOne(const std::string& socket) {
    ClientOptions options = Options();
    options.socket = socket;
    options.autostart = true;
    options.start_timeout_ms = 5'000;
    options.troupe_binary = FakeTroupe(dir_, "exit 3\n");
    return DaemonClient::Connect(options);
  }

  std::optional<DaemonLock> lock_;
};

TEST_F(AutostartFindsTheDirTakenTest, ASocketRemovedUnderTheDaemonIsReportedAtOnce) {
  // The lock names a socket that is gone (its runtime directory was cleared at logout); the
  // client comes without a socket of its own, so it reads the lock and follows it.
  HoldLock(dir_.File("run/troupe/troupe.sock"));
  testing::ScopedEnv no_env_socket("TROUPE_SOCKET", nullptr);
  Result<std::unique_ptr<DaemonClient>> client = ConnectStartingOne("");
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(client.status().message(),
              HasSubstr("(pid 4242) holds its lock but its socket " +
                        dir_.File("run/troupe/troupe.sock") + " is gone"));
  EXPECT_THAT(client.status().message(), HasSubstr("kill 4242"));
}

TEST_F(AutostartFindsTheDirTakenTest, ADaemonOnAnotherSocketThanTheOneNamedIsReportedAtOnce) {
  const std::string elsewhere = dir_.File("elsewhere.sock");
  auto fake = FakeDaemon::Start(elsewhere, [](const FakeRequest&) { return Health(); });
  ASSERT_NE(fake, nullptr);
  HoldLock(elsewhere);
  Result<std::unique_ptr<DaemonClient>> client = ConnectStartingOne(socket_);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(),
              HasSubstr("(pid 4242) listens on " + elsewhere + ", not on " + socket_));
}

TEST_F(AutostartFindsTheDirTakenTest, WithoutASocketOfItsOwnItFollowsTheLockOnceItSaysWhere) {
  // The holder is still starting (its lock names no socket yet) when the started `serve` exits
  // 3; it publishes its socket a little later.
  HoldLock("");
  testing::ScopedEnv no_env_socket("TROUPE_SOCKET", nullptr);
  const std::string elsewhere = dir_.File("elsewhere.sock");
  std::unique_ptr<FakeDaemon> fake;
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    fake = FakeDaemon::Start(elsewhere, [](const FakeRequest&) { return Health(); });
    DaemonAddress address;
    address.pid = 4242;
    address.socket = elsewhere;
    EXPECT_TRUE(lock_->Publish(address).ok());
  });
  Result<std::unique_ptr<DaemonClient>> client = ConnectStartingOne("");
  later.join();
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ((*client)->socket(), elsewhere);
}

// The client and the daemon it starts agree on the socket in every environment a user's machine
// has. The stand-in `troupe` records its arguments; this test then does what `troupe serve`
// does with them — resolve its paths from those arguments and the (same) environment, and
// listen there — and the client must find it.
class AutostartAgreementTest : public ::testing::Test {
 protected:
  enum class Runtime { kExists, kMissing, kUnset };

  // A user's environment: HOME (with a space in it), XDG_RUNTIME_DIR as `runtime` says, nothing
  // of troupe's set.
  AutostartAgreementTest()
      : home_(dir_.File("my home")),
        runtime_dir_(dir_.File("run/user/1000")),
        home_env_("HOME", home_.c_str()),
        data_home_env_("XDG_DATA_HOME", nullptr),
        data_env_("TROUPE_DATA_DIR", nullptr),
        socket_env_("TROUPE_SOCKET", nullptr) {
    std::filesystem::create_directories(home_);
  }

  void SetRuntime(Runtime runtime) {
    runtime_env_.reset();
    runtime_env_.emplace("XDG_RUNTIME_DIR",
                         runtime == Runtime::kUnset ? nullptr : runtime_dir_.c_str());
    if (runtime == Runtime::kExists) {
      std::filesystem::create_directories(runtime_dir_);
      ASSERT_EQ(::chmod(runtime_dir_.c_str(), 0700), 0);
    } else {
      std::filesystem::remove_all(runtime_dir_);
    }
  }

  // Autostarts with `data_dir` ("" = the default) and serves where the arguments say; the
  // socket the stand-in daemon listened on.
  std::string ExpectAutostartMeetsTheDaemon(const std::string& data_dir, const std::string& what) {
    SCOPED_TRACE(what);
    std::filesystem::remove(dir_.File("argv.txt"));
    const std::string binary =
        dir_.Write("fake-troupe", "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + dir_.File("argv.tmp") +
                                      "' && mv '" + dir_.File("argv.tmp") + "' '" +
                                      dir_.File("argv.txt") + "'\n");
    ::chmod(binary.c_str(), 0755);
    ClientOptions options;
    options.data_dir = data_dir;
    options.start_timeout_ms = 5'000;
    options.troupe_binary = binary;

    std::unique_ptr<FakeDaemon> daemon;
    std::string listened;
    std::thread serve([&] {
      std::vector<std::string> argv;
      for (int i = 0; i < 250 && argv.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::istringstream in(testing::ReadFileBytes(dir_.File("argv.txt")));
        for (std::string line; std::getline(in, line);) argv.push_back(line);
      }
      std::string serve_data_dir, serve_socket;
      for (size_t i = 0; i + 1 < argv.size(); ++i) {
        if (argv[i] == "--data-dir") serve_data_dir = argv[i + 1];
        if (argv[i] == "--socket") serve_socket = argv[i + 1];
      }
      Result<DaemonPaths> paths =
          ResolveDaemonPaths(serve_data_dir, serve_socket, ProcessPathsEnv());
      if (!paths.ok() || !PrepareDaemonDirs(*paths).ok()) return;
      listened = paths->socket;
      daemon = FakeDaemon::Start(paths->socket, [](const FakeRequest&) { return Health(); });
    });
    Result<std::unique_ptr<DaemonClient>> client = DaemonClient::Connect(options);
    serve.join();
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    if (client.ok()) {
      EXPECT_TRUE((*client)->started_daemon());
      EXPECT_EQ((*client)->socket(), listened);
    }
    return listened;
  }

  testing::TestDir dir_;
  std::string home_;
  std::string runtime_dir_;
  testing::ScopedEnv home_env_;
  testing::ScopedEnv data_home_env_;
  testing::ScopedEnv data_env_;
  testing::ScopedEnv socket_env_;
  std::optional<testing::ScopedEnv> runtime_env_;
};

TEST_F(AutostartAgreementTest, TheDefaultDataDirWithARuntimeDir) {
  SetRuntime(Runtime::kExists);
  EXPECT_EQ(ExpectAutostartMeetsTheDaemon("", "no --data-dir"),
            runtime_dir_ + "/troupe/troupe.sock");
}

TEST_F(AutostartAgreementTest, TheDefaultDataDirNamedExplicitly) {
  SetRuntime(Runtime::kExists);
  ExpectAutostartMeetsTheDaemon(home_ + "/.local/share/troupe", "--data-dir <default>");
}

TEST_F(AutostartAgreementTest, ARuntimeDirThatDoesNotExist) {
  SetRuntime(Runtime::kMissing);
  EXPECT_EQ(ExpectAutostartMeetsTheDaemon("", "no --data-dir"),
            home_ + "/.local/state/troupe/troupe.sock");
  EXPECT_FALSE(std::filesystem::exists(runtime_dir_));  // not made up by troupe
}

TEST_F(AutostartAgreementTest, NoRuntimeDir) {
  SetRuntime(Runtime::kUnset);
  ExpectAutostartMeetsTheDaemon("", "no --data-dir");
  ExpectAutostartMeetsTheDaemon(dir_.File("other data"), "another data dir");
}

TEST(WithQueryTest, EncodesValues) {
  EXPECT_EQ(WithQuery("/v1/tasks", "status", "pending,running"),
            "/v1/tasks?status=pending,running");
  EXPECT_EQ(WithQuery("/v1/tasks?a=1", "parent", "ses 1&x"), "/v1/tasks?a=1&parent=ses%201%26x");
}

TEST(ClientOptionsFromEnvTest, ReadsTheVariables) {
  testing::ScopedEnv url("TROUPE_URL", "http://127.0.0.1:7077");
  testing::ScopedEnv token("TROUPE_TOKEN", "t");
  {
    testing::ScopedEnv off("TROUPE_NO_AUTOSTART", "1");
    ClientOptions o = ClientOptionsFromEnv();
    EXPECT_EQ(o.url, "http://127.0.0.1:7077");
    EXPECT_EQ(o.token, "t");
    EXPECT_FALSE(o.autostart);
  }
  testing::ScopedEnv on("TROUPE_NO_AUTOSTART", nullptr);
  EXPECT_TRUE(ClientOptionsFromEnv().autostart);
}

}  // namespace
}  // namespace troupe
