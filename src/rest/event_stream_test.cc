#include "rest/event_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "engine/engine_test_fixture.h"
#include "http/testing/fake_exchange.h"

namespace troupe {
namespace {

using ::testing::ElementsAre;
using testing::FakeExchange;
using ::testing::HasSubstr;

struct Frame {
  int64_t id = 0;
  std::string event;
  nlohmann::json data;
};

struct StreamText {
  std::vector<Frame> frames;
  std::vector<std::string> comments;
};

// Splits a stream into its events and comment lines, checking the framing as a client would.
StreamText ParseStream(const std::string& text) {
  StreamText out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find("\n\n", start);
    EXPECT_NE(end, std::string::npos)
        << "unterminated block at " << start << ": " << text.substr(start);
    if (end == std::string::npos) break;
    std::string block = text.substr(start, end - start);
    start = end + 2;
    Frame f;
    std::string data;
    bool is_event = false;
    size_t pos = 0;
    while (pos <= block.size()) {
      size_t nl = block.find('\n', pos);
      std::string line = block.substr(pos, nl == std::string::npos ? nl : nl - pos);
      if (!line.empty() && line[0] == ':') {
        out.comments.push_back(line);
      } else if (line.rfind("id: ", 0) == 0) {
        f.id = std::stoll(line.substr(4));
        is_event = true;
      } else if (line.rfind("event: ", 0) == 0) {
        f.event = line.substr(7);
        is_event = true;
      } else if (line.rfind("data: ", 0) == 0) {
        if (!data.empty()) data += '\n';
        data += line.substr(6);
        is_event = true;
      } else {
        ADD_FAILURE() << "unexpected line: " << line;
      }
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    if (is_event) {
      f.data = nlohmann::json::parse(data, nullptr, false);
      EXPECT_FALSE(f.data.is_discarded()) << data;
      out.frames.push_back(std::move(f));
    }
  }
  return out;
}

std::vector<int64_t> IdsOf(const std::vector<Frame>& frames) {
  std::vector<int64_t> ids;
  for (const Frame& f : frames) {
    if (f.event == "task.state") ids.push_back(f.id);
  }
  return ids;
}

class EventStreamTest : public EngineTest {
 protected:
  void SetUp() override { Build(); }

  void MakeStream(EventStreamOptions options = {}) {
    stream_ = std::make_unique<EventStream>(&clock_, store_.get(), &manager_->events(), options);
  }

  std::shared_ptr<FakeExchange> Open(const std::string& target,
                                     const std::string& last_event_id = "") {
    auto ex = FakeExchange::Make("GET", target);
    if (!last_event_id.empty()) ex->mutable_request().headers["last-event-id"] = last_event_id;
    stream_->Serve(ex);
    return ex;
  }

  std::vector<int64_t> StoredIds(int64_t after = 0) {
    auto events = store_->ListEvents(after);
    EXPECT_TRUE(events.ok());
    std::vector<int64_t> ids;
    for (const EventRecord& e : *events) ids.push_back(e.id);
    return ids;
  }

  std::vector<int64_t> StoredIdsOfTask(const std::string& task_id) {
    auto events = store_->ListEvents(0);
    EXPECT_TRUE(events.ok());
    std::vector<int64_t> ids;
    for (const EventRecord& e : *events) {
      if (e.task_id == task_id) ids.push_back(e.id);
    }
    return ids;
  }

  std::unique_ptr<EventStream> stream_;
};

TEST(SseFrameTest, IdEventAndOneDataLinePerLine) {
  EXPECT_EQ(SseFrame(42, "task.state", "{\"a\":1}"),
            "id: 42\nevent: task.state\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(SseFrame(0, "task.progress", "{}"), "event: task.progress\ndata: {}\n\n");
  EXPECT_EQ(SseFrame(7, "x", "a\nb\r\nc"), "id: 7\nevent: x\ndata: a\ndata: b\ndata: c\n\n");
  // A line break in the event name cannot end the field.
  EXPECT_EQ(SseFrame(1, "a\nb", "{}"), "id: 1\nevent: a b\ndata: {}\n\n");
}

TEST_F(EventStreamTest, LiveEventsArriveAsFramesWithTheirLogIdsInOrder) {
  MakeStream();
  auto ex = Open("/v1/events");
  ASSERT_TRUE(ex->streaming());
  EXPECT_THAT(ex->stream_headers(),
              ElementsAre(std::pair<std::string, std::string>{"Content-Type", "text/event-stream"},
                          std::pair<std::string, std::string>{"Cache-Control", "no-cache"},
                          std::pair<std::string, std::string>{"X-Accel-Buffering", "no"}));
  EXPECT_EQ(ex->streamed(), ": connected\n\n");
  EXPECT_EQ(stream_->subscribers(), 1u);

  const std::string a = LaunchOk(Req("first"));
  const std::string b = LaunchOk(Req("second"));
  StreamText p = ParseStream(ex->streamed());
  EXPECT_THAT(p.comments, ElementsAre(": connected"));
  ASSERT_EQ(p.frames.size(), 6u);  // launch, running, completed for each
  EXPECT_EQ(IdsOf(p.frames), StoredIds());
  auto stored = store_->ListEvents(0);
  ASSERT_TRUE(stored.ok());
  for (size_t i = 0; i < p.frames.size(); ++i) {
    const Frame& f = p.frames[i];
    EXPECT_EQ(f.event, "task.state");
    EXPECT_EQ(f.data["id"], f.id);
    EXPECT_EQ(f.data["at_ms"], (*stored)[i].created_at_ms);
    EXPECT_EQ(f.data["task_id"], (*stored)[i].task_id);
  }
  EXPECT_EQ(p.frames[0].data["task_id"], a);
  EXPECT_EQ(p.frames[0].data["state"], "pending");
  EXPECT_EQ(p.frames[0].data["from"], "pending");
  EXPECT_EQ(p.frames[1].data["state"], "running");
  EXPECT_EQ(p.frames[2].data["state"], "completed");
  EXPECT_EQ(p.frames[2].data["from"], "running");
  EXPECT_EQ(p.frames[2].data["agent"], "explore");
  EXPECT_EQ(p.frames[2].data["model"], "mock/m");
  EXPECT_EQ(p.frames[2].data["attempt"], 1);
  EXPECT_EQ(p.frames[3].data["task_id"], b);
  // The id leads the data, as documented.
  EXPECT_THAT(ex->streamed(),
              HasSubstr("data: {\"id\":" + std::to_string(p.frames[0].id) + ",\"task_id\":"));
  EXPECT_EQ(stream_->events_sent(), 6);
}

TEST_F(EventStreamTest, ReconnectWithLastEventIdGetsExactlyTheMissedEventsThenLiveOnes) {
  MakeStream();
  auto first = Open("/v1/events");
  LaunchOk(Req("one"));
  std::vector<int64_t> seen = IdsOf(ParseStream(first->streamed()).frames);
  ASSERT_EQ(seen.size(), 3u);
  first->Disconnect();
  EXPECT_EQ(stream_->subscribers(), 0u);

  LaunchOk(Req("two"));  // missed while away
  LaunchOk(Req("three"));

  auto second = Open("/v1/events", std::to_string(seen.back()));
  std::vector<int64_t> replayed = IdsOf(ParseStream(second->streamed()).frames);
  EXPECT_EQ(replayed, StoredIds(seen.back()));
  EXPECT_EQ(replayed.size(), 6u);

  LaunchOk(Req("four"));  // live after the replay
  std::vector<int64_t> got = seen;
  for (int64_t id : IdsOf(ParseStream(second->streamed()).frames)) got.push_back(id);
  EXPECT_EQ(got, StoredIds());  // every id once, in order: no gap, no duplicate
  EXPECT_EQ(got.size(), 12u);
}

TEST_F(EventStreamTest, AfterQueryResumesAndLastEventIdWinsOverIt) {
  LaunchOk(Req("one"));
  LaunchOk(Req("two"));
  MakeStream();
  auto all = Open("/v1/events?after=0");
  EXPECT_EQ(IdsOf(ParseStream(all->streamed()).frames), StoredIds());
  EXPECT_EQ(IdsOf(ParseStream(all->streamed()).frames).size(), 6u);

  auto tail = Open("/v1/events?after=4");
  EXPECT_EQ(IdsOf(ParseStream(tail->streamed()).frames), StoredIds(4));

  // An EventSource reconnecting keeps its URL and adds Last-Event-ID: the header counts.
  auto reconnect = Open("/v1/events?after=0", "5");
  EXPECT_EQ(IdsOf(ParseStream(reconnect->streamed()).frames), StoredIds(5));

  // Replayed frames carry the same data as live ones.
  auto stored = store_->ListEvents(0);
  ASSERT_TRUE(stored.ok());
  const Frame f = ParseStream(all->streamed()).frames[2];
  EXPECT_EQ(f.data["id"], f.id);
  EXPECT_EQ(f.data["state"], "completed");
  EXPECT_EQ(f.data["at_ms"], (*stored)[2].created_at_ms);
}

TEST_F(EventStreamTest, WithoutResumePointTheStreamIsLiveOnly) {
  LaunchOk(Req("before"));
  MakeStream();
  auto ex = Open("/v1/events");
  EXPECT_TRUE(ParseStream(ex->streamed()).frames.empty());
  LaunchOk(Req("after"));
  EXPECT_EQ(IdsOf(ParseStream(ex->streamed()).frames), StoredIds(3));
}

TEST_F(EventStreamTest, LargeReplayIsSpreadOverLoopTurnsWithoutGapOrDuplicate) {
  for (int i = 0; i < 20; ++i) LaunchOk(Req("old " + std::to_string(i)));
  ASSERT_EQ(StoredIds().size(), 60u);
  EventStreamOptions options;
  options.replay_batch = 7;
  MakeStream(options);

  auto ex = Open("/v1/events?after=0");
  // One step now; the rest on later loop turns.
  EXPECT_EQ(IdsOf(ParseStream(ex->streamed()).frames).size(), 7u);
  // Events published mid-replay wait for it.
  LaunchOk(Req("during replay"));
  EXPECT_EQ(IdsOf(ParseStream(ex->streamed()).frames).size(), 7u);

  // A launch on every other loop turn while the replay steps run in between.
  std::vector<size_t> seen_at_launch;
  int launches = 0;
  std::function<void()> launcher = [&] {
    seen_at_launch.push_back(IdsOf(ParseStream(ex->streamed()).frames).size());
    LaunchOk(Req("interleaved " + std::to_string(launches)));
    if (++launches < 5) clock_.StartTimer(0, launcher);
  };
  clock_.StartTimer(0, launcher);
  clock_.RunDue();

  ASSERT_EQ(seen_at_launch.size(), 5u);
  // The replay advanced between launches (it did not run all at once, nor stall).
  for (size_t i = 1; i < seen_at_launch.size(); ++i) {
    EXPECT_GT(seen_at_launch[i], seen_at_launch[i - 1]);
  }
  EXPECT_LT(seen_at_launch.back(), 63u);
  std::vector<int64_t> ids = IdsOf(ParseStream(ex->streamed()).frames);
  EXPECT_EQ(ids, StoredIds());
  EXPECT_EQ(ids.size(), 60u + 3u + 15u);

  LaunchOk(Req("live"));
  EXPECT_EQ(IdsOf(ParseStream(ex->streamed()).frames), StoredIds());
}

// Many clients resuming from the start of the log: only max_concurrent_replays read it at a
// time, the others wait their turn, a client leaving frees its place, and every one still gets
// the whole log, then live events, without gap or duplicate.
TEST_F(EventStreamTest, ManyReplaysRunAFewAtATime) {
  for (int i = 0; i < 10; ++i) LaunchOk(Req("old " + std::to_string(i)));
  const size_t stored = StoredIds().size();
  EventStreamOptions options;
  options.replay_batch = 4;
  options.max_concurrent_replays = 2;
  MakeStream(options);
  std::vector<std::shared_ptr<FakeExchange>> clients;
  for (int i = 0; i < 6; ++i) clients.push_back(Open("/v1/events?after=0"));
  EXPECT_EQ(stream_->replays_running(), 2u);
  EXPECT_EQ(stream_->replays_waiting(), 4u);
  // The first step of the first two only; the others have read nothing of the log yet.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(IdsOf(ParseStream(clients[i]->streamed()).frames).size(), i < 2 ? 4u : 0u) << i;
  }
  clients[3]->Disconnect();  // waiting: leaves the queue
  EXPECT_EQ(stream_->replays_waiting(), 3u);

  // A check on every loop turn, between the replay steps: never more than two running, and at
  // most two batches sent since the last turn.
  auto sent = [&] {
    size_t n = 0;
    for (auto& c : clients) n += IdsOf(ParseStream(c->streamed()).frames).size();
    return n;
  };
  size_t last = sent();
  int turns = 0;
  std::function<void()> check = [&] {
    EXPECT_LE(stream_->replays_running(), 2u);
    const size_t now = sent();
    EXPECT_LE(now - last, 2u * 4u);
    last = now;
    if (++turns < 200 && stream_->replays_running() > 0) clock_.StartTimer(0, check);
  };
  clock_.StartTimer(0, check);
  clock_.RunDue();
  EXPECT_GT(turns, 5);
  EXPECT_EQ(stream_->replays_running(), 0u);
  EXPECT_EQ(stream_->replays_waiting(), 0u);
  LaunchOk(Req("live"));
  for (int i = 0; i < 6; ++i) {
    if (i == 3) continue;
    std::vector<int64_t> ids = IdsOf(ParseStream(clients[i]->streamed()).frames);
    EXPECT_EQ(ids, StoredIds()) << i;
    EXPECT_GT(ids.size(), stored) << i;
  }
}

TEST_F(EventStreamTest, DisconnectDuringAReplayStopsIt) {
  for (int i = 0; i < 10; ++i) LaunchOk(Req("old " + std::to_string(i)));
  EventStreamOptions options;
  options.replay_batch = 5;
  MakeStream(options);
  auto ex = Open("/v1/events?after=0");
  LaunchOk(Req("buffered"));
  ex->Disconnect();
  EXPECT_EQ(stream_->subscribers(), 0u);
  const size_t before = ex->streamed().size();
  clock_.AdvanceMs(100);
  EXPECT_EQ(ex->streamed().size(), before);
  EXPECT_EQ(clock_.pending_timers(), 0u);
}

TEST_F(EventStreamTest, FilterByTask) {
  // "hang" runs until the test finishes it.
  runner_.set_chooser([](const RunRequest& r) {
    return r.prompt == "hang" ? Script{} : Script{ScriptStep::Complete(ScriptStep::kNow, "ok")};
  });
  const std::string a = LaunchOk(Req("a"));
  const std::string b = LaunchOk(Req("hang"));
  MakeStream();
  auto only_b = Open("/v1/events?after=0&task=" + b);
  auto a_and_c = Open("/v1/events?task=" + a + ",bg_nonexistent");
  EXPECT_EQ(IdsOf(ParseStream(only_b->streamed()).frames), StoredIdsOfTask(b));
  EXPECT_EQ(StoredIdsOfTask(b).size(), 2u);

  // Later events of b come live; the other stream sees nothing of b, nor of a new task.
  ProgressUpdate u;
  u.turns = 1;
  ASSERT_TRUE(runner_.Progress(b, u));
  LaunchOk(Req("c"));
  ASSERT_TRUE(runner_.Finish(b, RunOutcome::Completed("done")));
  EXPECT_EQ(IdsOf(ParseStream(only_b->streamed()).frames), StoredIdsOfTask(b));
  std::vector<Frame> frames = ParseStream(only_b->streamed()).frames;
  ASSERT_EQ(frames.size(), 4u);  // pending, running, progress, completed
  for (const Frame& f : frames) EXPECT_EQ(f.data["task_id"], b);
  EXPECT_EQ(frames[2].event, "task.progress");
  EXPECT_TRUE(ParseStream(a_and_c->streamed()).frames.empty());
}

Script Working2(int64_t every_ms) {
  Script s;
  for (int i = 0; i < 2; ++i) {
    ProgressUpdate u;
    u.turns = 1;
    u.tool_calls = 2;
    u.input_tokens = 100;
    u.output_tokens = 10;
    u.tool = i == 0 ? "grep" : "read";
    u.note = "step " + std::to_string(i);
    s.push_back(ScriptStep::Progress(every_ms, u));
  }
  s.push_back(ScriptStep::Complete(every_ms, "ok"));
  return s;
}

TEST_F(EventStreamTest, ProgressIsLiveWithoutIdAndCanBeTurnedOff) {
  runner_.set_chooser([](const RunRequest&) { return Working2(100); });
  MakeStream();
  auto with = Open("/v1/events?progress=1");
  auto without = Open("/v1/events?progress=0");
  const std::string id = LaunchOk(Req("work"));
  clock_.AdvanceMs(1000);
  ASSERT_EQ(StateOf(id), TaskState::kCompleted);

  std::vector<Frame> frames = ParseStream(with->streamed()).frames;
  std::vector<std::string> kinds;
  for (const Frame& f : frames) kinds.push_back(f.event);
  EXPECT_THAT(kinds, ElementsAre("task.state", "task.state", "task.progress", "task.progress",
                                 "task.state"));
  const Frame& p1 = frames[2];
  const Frame& p2 = frames[3];
  EXPECT_EQ(p1.id, 0);  // no id line: progress is not resumable
  EXPECT_THAT(with->streamed(), HasSubstr("\n\nevent: task.progress\ndata: {\"task_id\":"));
  EXPECT_EQ(p1.data["task_id"], id);
  EXPECT_EQ(p1.data["turns"], 1);
  EXPECT_EQ(p1.data["tool_calls"], 2);
  EXPECT_EQ(p1.data["input_tokens"], 100);
  EXPECT_EQ(p1.data["output_tokens"], 10);
  EXPECT_EQ(p1.data["tool"], "grep");
  EXPECT_EQ(p1.data["note"], "step 0");
  EXPECT_EQ(p1.data["at_ms"], clock_.WallMs() - 1000 + 100);
  // Totals so far, not the report's deltas.
  EXPECT_EQ(p2.data["turns"], 2);
  EXPECT_EQ(p2.data["input_tokens"], 200);
  EXPECT_EQ(p2.data["tool"], "read");

  std::vector<Frame> quiet = ParseStream(without->streamed()).frames;
  ASSERT_EQ(quiet.size(), 3u);
  for (const Frame& f : quiet) EXPECT_EQ(f.event, "task.state");
  EXPECT_EQ(stream_->events_sent(), 5 + 3);

  // Progress is not replayed.
  auto replay = Open("/v1/events?after=0");
  EXPECT_EQ(ParseStream(replay->streamed()).frames.size(), 3u);
}

TEST_F(EventStreamTest, BadQueriesAndHeadersAreRefusedWithTheField) {
  MakeStream();
  struct Case {
    std::string target;
    std::string last_event_id;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{{"/v1/events", "abc", "Last-Event-ID"},
                                         {"/v1/events", "-1", "Last-Event-ID"},
                                         {"/v1/events", "99999999999999999999", "Last-Event-ID"},
                                         {"/v1/events?after=-3", "", "after"},
                                         {"/v1/events?after=", "", "after"},
                                         {"/v1/events?after=1.5", "", "after"},
                                         {"/v1/events?progress=yes", "", "progress"},
                                         {"/v1/events?task=,", "", "task"},
                                         {"/v1/events?since=3", "", "since"}}) {
    SCOPED_TRACE(c.target + " / " + c.last_event_id);
    auto ex = Open(c.target, c.last_event_id);
    EXPECT_FALSE(ex->streaming());
    EXPECT_EQ(ex->status(), 400);
    EXPECT_EQ(ex->json()["error"]["code"], "invalid_argument");
    EXPECT_EQ(ex->json()["error"]["field"], c.field);
  }
  EXPECT_EQ(stream_->subscribers(), 0u);
  // "Last-Event-ID: abc" quotes what was sent.
  auto ex = Open("/v1/events", "abc");
  EXPECT_EQ(ex->json()["error"]["got"], "\"abc\"");
  EXPECT_THAT(ex->json()["error"]["message"].get<std::string>(), HasSubstr("Last-Event-ID"));
}

TEST_F(EventStreamTest, SlowClientIsDroppedAndCountedOthersKeepReceiving) {
  MakeStream();
  auto slow = Open("/v1/events");
  auto fine = Open("/v1/events");
  slow->StopReading(700);  // a couple of frames fit, then the stream overflows
  for (int i = 0; i < 5; ++i) LaunchOk(Req("task " + std::to_string(i)));
  EXPECT_TRUE(slow->closed());
  EXPECT_FALSE(fine->closed());
  EXPECT_EQ(stream_->slow_disconnects(), 1);
  EXPECT_EQ(stream_->subscribers(), 1u);
  EXPECT_EQ(IdsOf(ParseStream(fine->streamed()).frames), StoredIds());

  // The slow client comes back with the last id it got and loses nothing.
  std::vector<int64_t> had = IdsOf(ParseStream(slow->streamed()).frames);
  ASSERT_FALSE(had.empty());
  ASSERT_LT(had.size(), 15u);
  auto back = Open("/v1/events", std::to_string(had.back()));
  for (int64_t id : IdsOf(ParseStream(back->streamed()).frames)) had.push_back(id);
  EXPECT_EQ(had, StoredIds());
  EXPECT_EQ(stream_->slow_disconnects(), 1);
}

TEST_F(EventStreamTest, ReplayWaitsForAClientThatDoesNotReadAndDropsItWhenLiveEventsPileUp) {
  for (int i = 0; i < 10; ++i) LaunchOk(Req("old " + std::to_string(i)));
  EventStreamOptions options;
  options.replay_batch = 2;
  options.replay_pause_bytes = 500;
  options.max_pending_bytes = 2000;
  MakeStream(options);
  auto ex = Open("/v1/events?after=0");
  ex->StopReading(1 << 20);  // nothing drains from here on
  clock_.AdvanceMs(1000);
  const size_t frames = ParseStream(ex->streamed()).frames.size();
  EXPECT_GE(frames, 2u);
  EXPECT_LE(frames, 6u);  // paused once more than 500 bytes waited
  EXPECT_EQ(stream_->subscribers(), 1u);
  for (int i = 0; i < 10 && !ex->closed(); ++i) LaunchOk(Req("new " + std::to_string(i)));
  EXPECT_TRUE(ex->closed());
  EXPECT_EQ(stream_->slow_disconnects(), 1);
  EXPECT_EQ(stream_->subscribers(), 0u);
}

TEST_F(EventStreamTest, KeepAliveCommentAfterEachInterval) {
  EventStreamOptions options;
  options.keepalive_ms = 15'000;
  MakeStream(options);
  auto ex = Open("/v1/events");
  clock_.AdvanceMs(14'999);
  EXPECT_THAT(ParseStream(ex->streamed()).comments, ElementsAre(": connected"));
  clock_.AdvanceMs(1);
  EXPECT_THAT(ParseStream(ex->streamed()).comments, ElementsAre(": connected", ": keep-alive"));
  EXPECT_THAT(ex->streamed(), HasSubstr(": keep-alive\n\n"));
  clock_.AdvanceMs(15'000);
  EXPECT_EQ(ParseStream(ex->streamed()).comments.size(), 3u);
  EXPECT_EQ(stream_->events_sent(), 0);
  ex->Disconnect();
  EXPECT_EQ(clock_.pending_timers(), 0u);
}

TEST_F(EventStreamTest, ResumePointBeyondTheLogFollowsNewEvents) {
  LaunchOk(Req("one"));
  MakeStream();
  auto ex = Open("/v1/events", "1000");  // e.g. from before the data directory was reset
  EXPECT_TRUE(ParseStream(ex->streamed()).frames.empty());
  LaunchOk(Req("two"));
  EXPECT_EQ(IdsOf(ParseStream(ex->streamed()).frames), StoredIds(3));
}

TEST_F(EventStreamTest, CloseAllEndsEveryStream) {
  MakeStream();
  auto a = Open("/v1/events");
  auto b = Open("/v1/events?after=0");
  stream_->CloseAll();
  EXPECT_TRUE(a->closed());
  EXPECT_TRUE(b->closed());
  EXPECT_EQ(stream_->subscribers(), 0u);
  EXPECT_EQ(clock_.pending_timers(), 0u);
  LaunchOk(Req("after close"));
  EXPECT_TRUE(ParseStream(a->streamed()).frames.empty());
  // New streams are still served.
  auto c = Open("/v1/events?after=0");
  EXPECT_EQ(IdsOf(ParseStream(c->streamed()).frames), StoredIds());
}

TEST_F(EventStreamTest, DestructionWithLiveStreamsClosesThemAndUnsubscribes) {
  for (int i = 0; i < 10; ++i) LaunchOk(Req("old " + std::to_string(i)));
  const size_t bus_before = manager_->events().subscribers();
  EventStreamOptions options;
  options.replay_batch = 3;
  MakeStream(options);
  EXPECT_EQ(manager_->events().subscribers(), bus_before + 1);
  auto live = Open("/v1/events");
  auto replaying = Open("/v1/events?after=0");  // a replay step is pending
  stream_.reset();
  EXPECT_EQ(manager_->events().subscribers(), bus_before);
  EXPECT_TRUE(live->closed());
  EXPECT_TRUE(replaying->closed());
  EXPECT_EQ(clock_.pending_timers(), 0u);
  LaunchOk(Req("after"));
  clock_.AdvanceMs(60'000);
  live->Disconnect();
}

}  // namespace
}  // namespace troupe
