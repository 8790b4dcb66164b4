#include "llm/request_text.h"

#include <utility>

#include "llm/anthropic_codec.h"
#include "llm/openai_codec.h"
#include "llm/openai_responses_codec.h"

namespace troupe {
namespace {

using nlohmann::json;

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json JsonString(const std::string& text) { return json(text); }

bool SameTools(const std::vector<ToolSpec>& a, const std::vector<ToolSpec>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].description != b[i].description ||
        a[i].input_schema != b[i].input_schema) {
      return false;
    }
  }
  return true;
}

// Appends the members of the JSON object `object` (its text without the braces), after a comma.
void AppendMembers(const json& object, std::string* body) {
  const std::string text = Dump(object);  // "{...}": objects here always have members
  if (text.size() <= 2) return;
  *body += ',';
  body->append(text, 1, text.size() - 2);
}

// Adds `entry` to `entries` (at most `capacity`), over the oldest when full; returns it.
template <typename Entry>
Entry& Keep(std::vector<Entry>* entries, size_t capacity, size_t* next, Entry entry) {
  if (entries->size() < capacity) return entries->emplace_back(std::move(entry));
  Entry& slot = (*entries)[*next];
  *next = (*next + 1) % capacity;
  slot = std::move(entry);
  return slot;
}

}  // namespace

const std::string& RequestTextCache::Text(const std::string& text, TextEncoder encode) {
  for (const Encoded& e : texts_) {
    if (e.encode == encode && e.text == text) {
      ++hits_;
      return e.encoded;
    }
  }
  ++misses_;
  return Keep(&texts_, kEntries, &next_text_, Encoded{encode, text, Dump(encode(text))}).encoded;
}

const std::string& RequestTextCache::ToolArray(const std::vector<ToolSpec>& tools,
                                               ToolEncoder encode, ToolEncoder encode_last) {
  for (const Tools& t : tools_) {
    if (t.encode == encode && t.encode_last == encode_last && SameTools(t.tools, tools)) {
      ++hits_;
      return t.encoded;
    }
  }
  ++misses_;
  json array = json::array();
  for (const ToolSpec& tool : tools) array.push_back(encode(tool));
  if (encode_last != nullptr && !tools.empty()) array.back() = encode_last(tools.back());
  return Keep(&tools_, kEntries, &next_tools_, Tools{encode, encode_last, tools, Dump(array)})
      .encoded;
}

std::string EncodeOpenAiRequestText(const ChatRequest& request, bool max_completion_tokens,
                                    RequestTextCache* cache) {
  RequestTextCache scratch;
  if (cache == nullptr) cache = &scratch;
  std::string body = "{\"messages\":[";
  const std::string messages = Dump(EncodeOpenAiMessages(request));  // "[...]"
  if (!request.system.empty()) {
    body += cache->Text(request.system, EncodeOpenAiSystemMessage);
    if (messages.size() > 2) body += ',';
  }
  body.append(messages, 1, std::string::npos);  // the messages and the closing ']'
  if (!request.tools.empty()) {
    body += ",\"tools\":";
    body += cache->ToolArray(request.tools, EncodeOpenAiTool);
  }
  json options = EncodeOpenAiOptions(request);
  if (max_completion_tokens && options.contains("max_tokens")) {
    options["max_completion_tokens"] = options["max_tokens"];
    options.erase("max_tokens");
  }
  AppendMembers(options, &body);
  body += '}';
  return body;
}

std::string EncodeOpenAiResponsesRequestText(const ChatRequest& request, RequestTextCache* cache) {
  RequestTextCache scratch;
  if (cache == nullptr) cache = &scratch;
  std::string body = "{";
  if (!request.system.empty()) {
    body += "\"instructions\":";
    body += cache->Text(request.system, JsonString);
    body += ',';
  }
  body += "\"input\":";
  body += Dump(EncodeOpenAiResponsesInput(request));
  if (!request.tools.empty()) {
    body += ",\"tools\":";
    body += cache->ToolArray(request.tools, EncodeOpenAiResponsesTool);
  }
  AppendMembers(EncodeOpenAiResponsesOptions(request), &body);
  body += '}';
  return body;
}

std::string EncodeAnthropicRequestText(const ChatRequest& request, RequestTextCache* cache) {
  RequestTextCache scratch;
  if (cache == nullptr) cache = &scratch;
  const bool cached = request.caching.enabled;
  std::string body = "{";
  if (!request.system.empty()) {
    body += "\"system\":";
    body += cache->Text(request.system, cached ? EncodeAnthropicCachedSystem : JsonString);
    body += ',';
  }
  body += "\"messages\":";
  body += Dump(EncodeAnthropicMessages(request));
  if (!request.tools.empty()) {
    body += ",\"tools\":";
    body += cache->ToolArray(request.tools, EncodeAnthropicTool,
                             cached ? EncodeAnthropicCachedTool : nullptr);
  }
  AppendMembers(EncodeAnthropicOptions(request), &body);
  body += '}';
  return body;
}

}  // namespace troupe
