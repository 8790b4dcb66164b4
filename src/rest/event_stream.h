// GET /v1/events: engine events as server-sent events (docs/HTTP_API.md "GET /v1/events").
// State changes carry their event-log id; a client that reconnects with Last-Event-ID (or
// ?after=N) gets every stored event after N replayed from the store, then live ones, with no
// gap and no duplicate — the replay reads the log up to the id last published live, and live
// events at or below what was replayed are skipped. Progress events are live only.
//
// Many replays: at most EventStreamOptions::max_concurrent_replays run at once, each a batch per
// loop turn paced by its client; the rest queue, so 100 clients resuming from the start of a long
// log do not stall the loop (health checks, other requests) nor hold 100 replays in memory.
//
// Slow clients: each subscriber's bytes wait in its exchange (HttpExchange::Write); when the
// server's per-stream limit is passed the stream is closed and the subscriber dropped, so one
// stuck client never holds memory or the loop. A keep-alive comment goes out every 15 s.
//
// Threading: loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "engine/event_bus.h"
#include "http/http_exchange.h"
#include "store/store.h"

namespace troupe {

struct EventStreamOptions {
  int64_t keepalive_ms = 15'000;
  int replay_batch = 1'000;  // events read from the store per step of a replay
  // A replay goes at the client's pace: a step waits replay_pause_ms while more than
  // replay_pause_bytes are still queued for the client.
  size_t replay_pause_bytes = 1 << 20;
  int64_t replay_pause_ms = 20;
  // Live events that arrive during a replay wait in memory, at most this many bytes per
  // subscriber; beyond, the client counts as too slow and is dropped (it resumes later).
  size_t max_pending_bytes = 4 << 20;
  // Subscribers replaying at one time; the others wait their turn in arrival order (their live
  // events waiting as above). So many reconnecting clients cost the loop at most this many
  // store reads of replay_batch events per turn, and the memory of this many replays.
  int max_concurrent_replays = 4;
};

class EventStream {
 public:
  // Subscribes to `bus` for its whole life. All pointers must outlive it.
  EventStream(Clock* clock, Store* store, EventBus* bus, EventStreamOptions options = {});
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Serves one GET /v1/events exchange: validates the query (after, task, progress) and
  // Last-Event-ID (400 with the field on a bad value), opens the stream, replays, then follows.
  void Serve(std::shared_ptr<HttpExchange> exchange);
  // Ends every stream (daemon stopping).
  void CloseAll();

  size_t subscribers() const;
  // Subscribers replaying now, and those waiting for their turn to.
  size_t replays_running() const;
  size_t replays_waiting() const;
  // Events written to streams since start, and subscribers dropped for reading too slowly.
  int64_t events_sent() const;
  int64_t slow_disconnects() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The SSE frame for one event: "id: N\nevent: TYPE\ndata: JSON\n\n" (no id line when id = 0).
std::string SseFrame(int64_t id, const std::string& event, const std::string& data);

}  // namespace troupe
