// What the scripted mock model does for one request, independent of any wire format: the reply
// as a sequence of deltas with its pacing, or a fault. The mock model (llm/mock_model.h) makes a
// plan from a request; the in-process mock provider (llm/mock_provider.h) and the `troupe
// mock-llm` HTTP server (mock_llm/) both play it, so the same prompt behaves the same in-process
// and over either wire protocol.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/http_message.h"
#include "llm/chat_types.h"

namespace troupe {

struct MockPlan {
  // Answer with this HTTP error instead of a reply (after `head_delay_ms`).
  struct HttpError {
    int status = 500;
    std::vector<HttpHeader> headers;  // e.g. retry-after, x-should-retry
    std::string type;                 // "rate_limit_error", "overloaded_error", "server_error"
    std::string message;
  };

  // What goes wrong after `fault_after_deltas` deltas of a streamed reply were sent.
  enum class StreamFault {
    kNone,
    kDrop,            // the connection is closed (reset) without ending the stream
    kMalformedChunk,  // a data event that is not valid JSON, then the stream goes on
    kErrorEvent,      // an error event (`error_message`), then the stream ends
    kStall,           // nothing is sent for `stall_ms`, then the stream goes on
    kTruncate,        // the stream ends cleanly, without the protocol's end events
  };

  std::optional<HttpError> http_error;
  int64_t head_delay_ms = 0;         // before the response head ("accepts and never answers":
                                     // a very large value)
  int64_t first_token_delay_ms = 0;  // after the head, before the first delta
  double tokens_per_second = 0;      // pacing of the deltas; 0 = all at once
  std::vector<StreamDelta> deltas;   // the reply, one delta per token; kUsage never appears
  ChatResult result;                 // the same reply assembled: the non-streamed answer, and
                                     // the finish reason and usage of the streamed one

  StreamFault fault = StreamFault::kNone;
  size_t fault_after_deltas = 0;
  int64_t stall_ms = 0;       // kStall
  std::string error_message;  // kErrorEvent

  std::string marker;  // the request's `id=` directive, for the request log ("" = none)
  // Wire shape: on OpenAI Chat Completions, send text and reasoning as lists of typed content
  // parts (Mistral's reasoning models) rather than strings. Other wires have one shape.
  bool content_parts = false;
};

}  // namespace troupe
