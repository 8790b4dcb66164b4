// troupe's provider-neutral view of a chat with a model: what the agent loop sends (ChatRequest)
// and what comes back (ChatResult, assembled from StreamDeltas when streaming). Each wire codec
// (openai_codec.h, anthropic_codec.h) translates between these and its provider's JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace troupe {

struct ToolCall {
  std::string id;  // provider-assigned ("call_…", "toolu_…")
  std::string name;
  std::string arguments_json;  // the arguments as JSON text, exactly as the model produced it
  // Provider data attached to this call that must go back with it, unchanged, on later turns
  // (Gemini's `extra_content.google.thought_signature`). Null when there is none.
  nlohmann::json provider_extra = nullptr;
};

enum class ChatRole { kUser, kAssistant, kTool };

// Why the model stopped. kLength: the output limit cut the reply (text or a tool call's input);
// kRefusal: the provider refused and said why (ChatMessage::refusal).
enum class FinishReason { kStop, kToolCalls, kLength, kContentFilter, kRefusal, kOther };

struct ChatMessage {
  ChatRole role = ChatRole::kUser;
  std::string text;                 // user text, assistant text, or tool result content
  std::string reasoning;            // assistant thinking/reasoning text, when the provider sends it
  std::string reasoning_signature;  // Anthropic thinking-block signature, echoed back verbatim
  std::vector<ToolCall> tool_calls;  // assistant: calls requested in this turn
  std::string tool_call_id;          // tool: the call this result answers
  std::string tool_name;             // tool: the tool's name
  bool is_error = false;             // tool: the result is an error message
  // Assistant: what the provider requires back verbatim on later turns and troupe does not
  // interpret, keyed by wire ("anthropic": the ordered thinking / redacted_thinking blocks with
  // their signatures; "openai": DeepSeek's reasoning_content, OpenRouter's reasoning_details;
  // "openai-responses": reasoning items with encrypted_content). A codec reads only its own key
  // and ignores the others, so a conversation can change provider. Null when there is none.
  nlohmann::json provider_replay;
  std::string stop_reason;  // assistant: the provider's stop reason, as it said it
  std::string refusal;      // assistant: the provider's refusal text, when it refused
};

inline ChatMessage UserMessage(std::string text) {
  ChatMessage m;
  m.role = ChatRole::kUser;
  m.text = std::move(text);
  return m;
}

inline ChatMessage ToolResultMessage(std::string call_id, std::string tool, std::string content,
                                     bool is_error = false) {
  ChatMessage m;
  m.role = ChatRole::kTool;
  m.tool_call_id = std::move(call_id);
  m.tool_name = std::move(tool);
  m.text = std::move(content);
  m.is_error = is_error;
  return m;
}

struct ToolSpec {
  std::string name;
  std::string description;
  nlohmann::json input_schema = nlohmann::json::object();  // JSON Schema of the arguments
};

// Reasoning ("thinking") asked of the model. Empty = the model's own default.
struct ReasoningSettings {
  std::string effort;                // "minimal", "low", "medium", "high" (OpenAI reasoning_effort)
  std::optional<int> budget_tokens;  // Anthropic extended thinking budget; set = thinking on
  bool operator==(const ReasoningSettings&) const = default;
};

// Prompt caching. Anthropic: cache_control breakpoints on the system prompt, the tool list and
// the latest messages; OpenAI: a stable prefix and `prompt_cache_key`. Off unless asked: the
// agent loop asks for it by default (AgentLimits::prompt_caching).
struct CachingSettings {
  bool enabled = false;
  std::string key;  // OpenAI prompt_cache_key (stable for a task's session); "" = none
  bool operator==(const CachingSettings&) const = default;
};

struct ChatRequest {
  std::string model;   // the provider's model id (without the "provider/" prefix)
  std::string system;  // system prompt ("" = none)
  std::vector<ChatMessage> messages;
  std::vector<ToolSpec> tools;
  std::string tool_choice = "auto";  // "auto", "none", "required", or a tool name
  std::optional<double> temperature;
  int max_tokens = 8192;
  ReasoningSettings reasoning;
  CachingSettings caching;
  bool stream = true;
};

struct Usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t reasoning_tokens = 0;  // of output_tokens, those spent reasoning (when reported)
};

// Every token of the prompt, however the provider billed it: codecs keep input_tokens for the
// tokens neither read from nor written to a cache.
inline int64_t UsageInputTotal(const Usage& u) {
  return u.input_tokens + u.cache_read_tokens + u.cache_write_tokens;
}

struct ChatResult {
  ChatMessage message;  // role kAssistant
  FinishReason finish = FinishReason::kOther;
  std::string raw_finish_reason;  // as the provider said it
  Usage usage;
  std::string response_id;
  std::string model;  // as the provider reported it
};

// One increment of a streamed reply, for progress views and stale detection.
struct StreamDelta {
  enum class Kind { kText, kReasoning, kToolCallStart, kToolCallArguments, kUsage };
  Kind kind = Kind::kText;
  std::string text;  // kText, kReasoning, kToolCallArguments: the new fragment
  int index = 0;     // tool calls: position among this turn's calls
  std::string id;    // kToolCallStart
  std::string name;  // kToolCallStart
  Usage usage;       // kUsage: totals so far
};

}  // namespace troupe
