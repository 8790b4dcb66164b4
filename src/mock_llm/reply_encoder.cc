#include "mock_llm/reply_encoder.h"

#include <utility>

#include "mock_llm/anthropic_reply_encoder.h"
#include "mock_llm/openai_reply_encoder.h"

namespace troupe {

const char* WireProtocolName(WireProtocol protocol) {
  return protocol == WireProtocol::kOpenAi ? "openai" : "anthropic";
}

std::unique_ptr<ReplyEncoder> MakeReplyEncoder(WireProtocol protocol, ChatResult result,
                                               ReplyOptions options) {
  if (protocol == WireProtocol::kOpenAi) return MakeOpenAiReplyEncoder(std::move(result), options);
  return MakeAnthropicReplyEncoder(std::move(result));
}

std::string ErrorBody(WireProtocol protocol, std::string_view type, std::string_view message) {
  if (protocol == WireProtocol::kOpenAi) return OpenAiErrorBody(type, message);
  return AnthropicErrorBody(type, message);
}

}  // namespace troupe
