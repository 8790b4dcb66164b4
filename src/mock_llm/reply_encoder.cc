#include "mock_llm/reply_encoder.h"

#include <utility>

#include "mock_llm/anthropic_reply_encoder.h"
#include "mock_llm/openai_reply_encoder.h"
#include "mock_llm/openai_responses_reply_encoder.h"

namespace troupe {

const char* WireProtocolName(WireProtocol protocol) {
  switch (protocol) {
    case WireProtocol::kOpenAi:
      return "openai";
    case WireProtocol::kAnthropic:
      return "anthropic";
    case WireProtocol::kOpenAiResponses:
      return "openai-responses";
  }
  return "";
}

std::unique_ptr<ReplyEncoder> MakeReplyEncoder(WireProtocol protocol, ChatResult result,
                                               ReplyOptions options) {
  if (protocol == WireProtocol::kOpenAi) return MakeOpenAiReplyEncoder(std::move(result), options);
  if (protocol == WireProtocol::kOpenAiResponses) {
    return MakeOpenAiResponsesReplyEncoder(std::move(result), options);
  }
  return MakeAnthropicReplyEncoder(std::move(result));
}

std::string ErrorBody(WireProtocol protocol, std::string_view type, std::string_view message) {
  if (protocol != WireProtocol::kAnthropic) return OpenAiErrorBody(type, message);
  return AnthropicErrorBody(type, message);
}

}  // namespace troupe
