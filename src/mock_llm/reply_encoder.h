// How `troupe mock-llm` writes a reply in one wire protocol: the streamed form as Server-Sent
// Events, the non-streamed form as one JSON body, and the protocol's error body. One encoder per
// request; pure (bytes out, no sockets, no clock), so the player (plan_player.h) decides only when
// to send, and the tests feed the output straight into the client-side decoders
// (llm/openai_codec.h, llm/openai_responses_codec.h, llm/anthropic_codec.h) and get the
// ChatResult back.
//
// Every Stream* method returns zero or more complete SSE events ("event: …\ndata: …\n\n"), ready to
// be written; JSON is compact, with invalid UTF-8 replaced, so that an event never breaks a line.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "llm/chat_types.h"

namespace troupe {

enum class WireProtocol { kOpenAi, kAnthropic, kOpenAiResponses };

// "openai", "anthropic", "openai-responses".
const char* WireProtocolName(WireProtocol protocol);

struct ReplyOptions {
  int64_t created_s = 0;       // OpenAI `created`: Unix seconds
  bool include_usage = false;  // OpenAI stream_options.include_usage
  bool content_parts = false;  // OpenAI: text and reasoning as typed parts (MockPlan)
};

class ReplyEncoder {
 public:
  virtual ~ReplyEncoder() = default;

  // The events a server sends as soon as the response head is out, before the first token.
  virtual std::string StreamStart() = 0;
  // The events carrying one delta of the reply (kUsage deltas give nothing).
  virtual std::string StreamDelta(const StreamDelta& delta) = 0;
  // The events ending a complete reply: finish reason, usage, end marker.
  virtual std::string StreamEnd() = 0;
  // An error event in the protocol's shape; the stream ends after it without StreamEnd.
  virtual std::string StreamError(std::string_view type, std::string_view message) = 0;
  // An event whose data is not valid JSON, of a type the client's decoder does look at.
  virtual std::string StreamMalformed() = 0;

  // The whole reply as one JSON body, for a request that did not ask to stream.
  virtual std::string Response() = 0;
};

// An encoder for `result` (its response_id and model must be set: they go on the wire as is).
std::unique_ptr<ReplyEncoder> MakeReplyEncoder(WireProtocol protocol, ChatResult result,
                                               ReplyOptions options);

// The protocol's error body: OpenAI (both APIs) {"error":{"message","type","param","code"}},
// Anthropic
// {"type":"error","error":{"type","message"}}.
std::string ErrorBody(WireProtocol protocol, std::string_view type, std::string_view message);

}  // namespace troupe
