#include "rest/event_stream.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/text_trim.h"
#include "http/api_error.h"
#include "rest/request_parsing.h"

namespace troupe {
namespace {

using ordered_json = nlohmann::ordered_json;

constexpr std::string_view kConnected = ": connected\n\n";
constexpr std::string_view kKeepAlive = ": keep-alive\n\n";

std::string Dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A non-negative decimal integer that fits in int64 (digits only: no sign, no spaces inside).
std::optional<int64_t> ParseEventId(std::string_view s) {
  if (s.empty()) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The data of a stored state event: its payload with the log id first and the time last, the
// usual fields in the order docs/HTTP_API.md shows (the stored text has its keys sorted).
std::string StateData(int64_t id, const std::string& payload, int64_t at_ms) {
  static constexpr std::string_view kLeading[] = {
      "task_id", "session_id", "state", "from", "agent", "model", "description", "attempt"};
  ordered_json j = ordered_json::object();
  j["id"] = id;
  ordered_json stored = ordered_json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (stored.is_object()) {
    for (std::string_view key : kLeading) {
      auto it = stored.find(key);
      if (it != stored.end()) j[std::string(key)] = *it;
    }
    for (auto& [key, value] : stored.items()) {
      if (key != "id" && key != "at_ms" && !j.contains(key)) j[key] = std::move(value);
    }
  }
  j["at_ms"] = at_ms;
  return Dump(j);
}

std::string ProgressData(const TaskRecord& task, const ProgressUpdate& u, int64_t at_ms) {
  // The counters are the task's totals after this report (the engine adds each report's deltas
  // to the task before publishing), so a client that joins or reconnects mid-run, or misses a
  // progress event, still shows the right numbers; tool and note are this report's.
  ordered_json j = ordered_json::object();
  j["task_id"] = task.id;
  j["turns"] = task.turns;
  j["tool_calls"] = task.tool_calls;
  j["input_tokens"] = task.input_tokens;
  j["output_tokens"] = task.output_tokens;
  j["tool"] = u.tool;
  j["note"] = u.note;
  j["at_ms"] = at_ms;
  return Dump(j);
}

}  // namespace

std::string SseFrame(int64_t id, const std::string& event, const std::string& data) {
  std::string out;
  out.reserve(data.size() + event.size() + 40);
  if (id != 0) {
    out += "id: ";
    out += std::to_string(id);
    out += '\n';
  }
  if (!event.empty()) {
    out += "event: ";
    for (char c : event) out += (c == '\n' || c == '\r') ? ' ' : c;
    out += '\n';
  }
  // One data line per line of `data` (a line break inside would otherwise end the field).
  size_t start = 0;
  while (true) {
    size_t nl = data.find_first_of("\r\n", start);
    out += "data: ";
    out.append(data, start, nl == std::string::npos ? std::string::npos : nl - start);
    out += '\n';
    if (nl == std::string::npos) break;
    start = nl + ((data[nl] == '\r' && nl + 1 < data.size() && data[nl + 1] == '\n') ? 2 : 1);
    if (start >= data.size()) break;
  }
  out += '\n';
  return out;
}

struct EventStream::Impl {
  struct Buffered {
    int64_t id = 0;  // 0 for progress (and for a state change the store failed to log)
    std::string frame;
  };

  struct Subscriber {
    explicit Subscriber(Clock* clock) : keepalive(clock), replay_step(clock) {}
    uint64_t id = 0;
    std::shared_ptr<HttpExchange> exchange;
    std::unordered_set<std::string> tasks;  // empty = every task
    bool progress = true;
    // Highest event-log id this client has (sent, or its resume point): live events at or below
    // it are not sent again.
    int64_t last_id = 0;
    // Replay state: the log is read from last_id up to replay_until (the last id in the log,
    // hence the last one published, when the stream opened); live events meanwhile wait in
    // `pending` and follow the replay.
    bool replaying = false;
    int64_t replay_until = 0;
    std::vector<Buffered> pending;
    size_t pending_bytes = 0;
    Timer keepalive;
    Timer replay_step;
  };

  Impl(Clock* c, Store* s, EventBus* b, EventStreamOptions o)
      : clock(c), store(s), bus(b), options(o) {
    if (options.replay_batch < 1) options.replay_batch = 1;
    if (options.max_concurrent_replays < 1) options.max_concurrent_replays = 1;
    bus_subscription = bus->Subscribe([this](const EngineEvent& e) { OnEvent(e); });
  }

  ~Impl() {
    bus->Unsubscribe(bus_subscription);
    CloseAll();
  }

  bool Wants(const Subscriber& s, const std::string& task_id, bool is_progress) const {
    if (is_progress && !s.progress) return false;
    return s.tasks.empty() || s.tasks.count(task_id) > 0;
  }

  // Writes to the subscriber's stream. False when the subscriber is gone (dropped here or from
  // inside the write); `s` must not be used then.
  bool Send(Subscriber* s, std::string bytes) {
    const uint64_t sid = s->id;
    std::shared_ptr<HttpExchange> exchange = s->exchange;  // the write may drop `s`
    const bool was_open = !exchange->closed();
    if (exchange->Write(std::move(bytes))) return true;
    // An open stream refuses bytes only when its client let too much pile up.
    if (was_open) ++slow_disconnects;
    Drop(sid, /*from_close=*/false);
    return false;
  }

  // Sends one event unless the client already has it. False when the subscriber is gone.
  bool Deliver(Subscriber* s, int64_t id, std::string frame) {
    if (id > 0) {
      if (id <= s->last_id) return true;
      s->last_id = id;
    }
    if (!Send(s, std::move(frame))) return false;
    ++events_sent;
    return true;
  }

  void OnEvent(const EngineEvent& e) {
    if (subscribers.empty() || e.task == nullptr) return;
    const bool is_progress = e.kind == EngineEvent::Kind::kProgress;
    if (is_progress && e.progress == nullptr) return;
    std::string frame;  // built once, for the first subscriber that wants it
    // Walk by id: a write may drop subscribers (this one or, via callbacks, others).
    for (auto it = subscribers.begin(); it != subscribers.end();) {
      const uint64_t sid = it->first;
      Subscriber* s = it->second.get();
      if (Wants(*s, e.task->id, is_progress)) {
        if (frame.empty()) {
          frame = is_progress ? SseFrame(0, "task.progress",
                                         ProgressData(*e.task, *e.progress, clock->WallMs()))
                              : SseFrame(e.id, "task.state",
                                         StateData(e.id, e.payload, e.task->updated_at_ms));
        }
        const int64_t id = is_progress ? 0 : e.id;
        if (s->replaying) {
          s->pending_bytes += frame.size();
          s->pending.push_back({id, frame});
          if (s->pending_bytes > options.max_pending_bytes) {
            // The replay is waiting for this client to read; it is too slow to keep up.
            ++slow_disconnects;
            Drop(sid, /*from_close=*/false);
          }
        } else {
          Deliver(s, id, frame);
        }
      }
      it = subscribers.upper_bound(sid);
    }
  }

  // One step of a replay: up to replay_batch events from the log, then either another step on
  // a later loop turn or, once the log is read up to replay_until, the live events that waited.
  void ReplayStep(uint64_t sid) {
    auto found = subscribers.find(sid);
    if (found == subscribers.end()) return;
    Subscriber* s = found->second.get();
    if (s->exchange->buffered() > options.replay_pause_bytes) {
      // Let the client read what it has before adding more.
      s->replay_step.Start(options.replay_pause_ms, [this, sid] { ReplayStep(sid); });
      return;
    }
    auto batch = store->ListEvents(s->last_id, options.replay_batch);
    if (!batch.ok()) {
      // The client reconnects with the last id it got and the replay goes on from there.
      Send(s, ": replay failed: " + batch.status().message() + "\n\n");
      Drop(sid, /*from_close=*/false);
      return;
    }
    bool done = batch->size() < static_cast<size_t>(options.replay_batch);
    for (const EventRecord& r : *batch) {
      if (r.id > s->replay_until) {  // published after the stream opened: waits in `pending`
        done = true;
        break;
      }
      if (!Wants(*s, r.task_id, /*is_progress=*/false)) {
        s->last_id = std::max(s->last_id, r.id);
        continue;
      }
      if (!Deliver(s, r.id, SseFrame(r.id, r.type, StateData(r.id, r.payload, r.created_at_ms)))) {
        return;
      }
    }
    if (s->last_id >= s->replay_until) done = true;
    if (!done) {
      s->replay_step.Start(0, [this, sid] { ReplayStep(sid); });
      return;
    }
    s->replaying = false;
    ReplayOver(sid);
    std::vector<Buffered> pending = std::move(s->pending);
    s->pending.clear();
    s->pending_bytes = 0;
    for (Buffered& b : pending) {
      if (!Deliver(s, b.id, std::move(b.frame))) return;
    }
  }

  // Replays `sid` now if a slot is free, else when one is.
  void StartReplay(uint64_t sid) {
    if (replays_running.size() < static_cast<size_t>(options.max_concurrent_replays)) {
      replays_running.insert(sid);
      ReplayStep(sid);
    } else {
      replays_waiting.push_back(sid);
    }
  }

  // `sid` replays no more (done, or gone): its slot goes to the next waiting, on a later turn.
  void ReplayOver(uint64_t sid) {
    if (replays_running.erase(sid) == 0) {
      replays_waiting.erase(std::remove(replays_waiting.begin(), replays_waiting.end(), sid),
                            replays_waiting.end());
      return;
    }
    while (!replays_waiting.empty() &&
           replays_running.size() < static_cast<size_t>(options.max_concurrent_replays)) {
      const uint64_t next = replays_waiting.front();
      replays_waiting.pop_front();
      auto found = subscribers.find(next);
      if (found == subscribers.end()) continue;
      replays_running.insert(next);
      found->second->replay_step.Start(0, [this, next] { ReplayStep(next); });
    }
  }

  void KeepAlive(uint64_t sid) {
    auto found = subscribers.find(sid);
    if (found == subscribers.end()) return;
    Subscriber* s = found->second.get();
    if (!Send(s, std::string(kKeepAlive))) return;
    s->keepalive.Start(options.keepalive_ms, [this, sid] { KeepAlive(sid); });
  }

  // Forgets a subscriber and ends its stream. `from_close`: called by the exchange's OnClose,
  // whose callback must not be replaced while it runs.
  void Drop(uint64_t sid, bool from_close) {
    auto found = subscribers.find(sid);
    if (found == subscribers.end()) return;
    std::unique_ptr<Subscriber> s = std::move(found->second);
    subscribers.erase(found);
    std::shared_ptr<HttpExchange> exchange = s->exchange;
    s.reset();  // cancels its timers
    ReplayOver(sid);
    if (!from_close) {
      exchange->OnClose([] {});
      if (!exchange->closed()) exchange->Close();
    }
  }

  void CloseAll() {
    std::map<uint64_t, std::unique_ptr<Subscriber>> all;
    all.swap(subscribers);
    replays_running.clear();
    replays_waiting.clear();
    for (auto& [sid, s] : all) {
      std::shared_ptr<HttpExchange> exchange = s->exchange;
      s.reset();
      exchange->OnClose([] {});
      if (!exchange->closed()) exchange->Close();
    }
  }

  void Serve(std::shared_ptr<HttpExchange> exchange) {
    const ApiRequest& request = exchange->request();
    if (auto bad = CheckQueryNames(request.query, {"after", "task", "progress"})) {
      exchange->Respond(ApiErrorResponse(*bad));
      return;
    }
    // Where to resume: Last-Event-ID (what an EventSource sends when it reconnects) wins over
    // ?after= (what the client asked for when it first connected).
    std::optional<int64_t> after;
    if (auto h = request.headers.find("last-event-id"); h != request.headers.end()) {
      std::string_view value = TrimBlanks(h->second);
      if (!value.empty()) {
        after = ParseEventId(value);
        if (!after) {
          exchange->Respond(ApiErrorResponse(ApiError::BadField(
              "Last-Event-ID", "a non-negative integer event id", QuoteForError(h->second))));
          return;
        }
      }
    }
    if (auto q = request.query.find("after"); q != request.query.end()) {
      std::optional<int64_t> parsed = ParseEventId(q->second);
      if (!parsed) {
        exchange->Respond(ApiErrorResponse(ApiError::BadField(
            "after", "a non-negative integer event id", QuoteForError(q->second))));
        return;
      }
      if (!after) after = parsed;
    }
    std::unordered_set<std::string> tasks;
    if (auto q = request.query.find("task"); q != request.query.end()) {
      std::string_view rest = q->second;
      while (true) {
        size_t comma = rest.find(',');
        std::string_view one = TrimBlanks(rest.substr(0, comma));
        if (!one.empty()) tasks.emplace(one);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      if (tasks.empty()) {
        exchange->Respond(ApiErrorResponse(ApiError::BadField(
            "task", "a comma-separated list of task ids", QuoteForError(q->second))));
        return;
      }
    }
    bool progress = true;
    if (auto q = request.query.find("progress"); q != request.query.end()) {
      if (q->second == "0" || q->second == "false") {
        progress = false;
      } else if (q->second != "1" && q->second != "true") {
        exchange->Respond(
            ApiErrorResponse(ApiError::BadField("progress", "0 or 1", QuoteForError(q->second))));
        return;
      }
    }
    int64_t last_in_log = 0;
    if (after) {
      auto last = store->LastEventId();
      if (!last.ok()) {
        exchange->Respond(ApiErrorResponse(
            ApiErrorFromStatus(last.status().WithContext("the event log could not be read"))));
        return;
      }
      last_in_log = *last;
    }

    if (!exchange->OpenStream({{"Content-Type", "text/event-stream"},
                               {"Cache-Control", "no-cache"},
                               {"X-Accel-Buffering", "no"}})) {
      return;
    }
    const uint64_t sid = next_subscriber++;
    auto owned = std::make_unique<Subscriber>(clock);
    Subscriber* s = owned.get();
    s->id = sid;
    s->exchange = exchange;
    s->tasks = std::move(tasks);
    s->progress = progress;
    if (after) {
      // An id beyond the log (another data directory, a reset log) resumes from the log's end,
      // so that new events, whose ids are lower than the client's, are not taken as seen.
      s->last_id = std::min(*after, last_in_log);
      s->replay_until = last_in_log;
      s->replaying = s->last_id < last_in_log;
    }
    // Registered before anything is read from the log: from here on live events reach it (and
    // wait while it replays), so nothing published during the replay is missed.
    subscribers.emplace(sid, std::move(owned));
    std::weak_ptr<int> alive = alive_token;
    exchange->OnClose([this, alive, sid] {
      if (alive.lock()) Drop(sid, /*from_close=*/true);
    });
    if (!Send(s, std::string(kConnected))) return;
    s->keepalive.Start(options.keepalive_ms, [this, sid] { KeepAlive(sid); });
    if (s->replaying) StartReplay(sid);
  }

  Clock* clock;
  Store* store;
  EventBus* bus;
  EventStreamOptions options;
  EventBus::SubscriptionId bus_subscription = 0;
  std::map<uint64_t, std::unique_ptr<Subscriber>> subscribers;
  std::set<uint64_t> replays_running;
  std::deque<uint64_t> replays_waiting;
  uint64_t next_subscriber = 1;
  int64_t events_sent = 0;
  int64_t slow_disconnects = 0;
  // Callbacks held by exchanges (which may outlive us) check it before touching the stream.
  std::shared_ptr<int> alive_token = std::make_shared<int>(0);
};

EventStream::EventStream(Clock* clock, Store* store, EventBus* bus, EventStreamOptions options)
    : impl_(std::make_unique<Impl>(clock, store, bus, options)) {}

EventStream::~EventStream() = default;

void EventStream::Serve(std::shared_ptr<HttpExchange> exchange) {
  impl_->Serve(std::move(exchange));
}

void EventStream::CloseAll() { impl_->CloseAll(); }

size_t EventStream::subscribers() const { return impl_->subscribers.size(); }
size_t EventStream::replays_running() const { return impl_->replays_running.size(); }
size_t EventStream::replays_waiting() const { return impl_->replays_waiting.size(); }
int64_t EventStream::events_sent() const { return impl_->events_sent; }
int64_t EventStream::slow_disconnects() const { return impl_->slow_disconnects; }

}  // namespace troupe
