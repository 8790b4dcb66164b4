#include "mock_llm/prompt_cache.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace troupe {
namespace {

using json = nlohmann::json;

constexpr int64_t kMinCachedTokens = 1024;
constexpr int64_t kOpenAiCacheStep = 128;
constexpr size_t kAnthropicLookback = 20;  // a breakpoint and the 19 blocks before it

// One block boundary: the hash of everything up to it and its size in tokens.
struct Boundary {
  uint64_t hash = 0;
  int64_t tokens = 0;
  bool breakpoint = false;  // Anthropic: the block before it carries cache_control
};

// The request's blocks, as boundaries after each of them (see the header).
class Blocks {
 public:
  void Add(const json& block) {
    json plain = block;
    bool breakpoint = false;
    if (plain.is_object() && plain.contains("cache_control")) {
      breakpoint = plain["cache_control"].is_object();
      plain.erase("cache_control");
    }
    const std::string text = plain.dump(-1, ' ', false, json::error_handler_t::replace);
    for (unsigned char c : text) hash_ = (hash_ ^ c) * 1099511628211ULL;
    hash_ = (hash_ ^ 0x1e) * 1099511628211ULL;  // a separator: ["ab"] is not ["a","b"]
    chars_ += int64_t(text.size());
    boundaries_.push_back({hash_, chars_ / 4, breakpoint});
  }
  // Each element of `array` (when it is one) as a block.
  void AddEach(const json* array) {
    if (array == nullptr || !array->is_array()) return;
    for (const json& block : *array) Add(block);
  }
  // An Anthropic message: its role with its first content block, then each further block. A
  // string content is the one text block it stands for.
  void AddMessage(const json& message) {
    if (!message.is_object() || !message.contains("content")) {
      Add(message);
      return;
    }
    json normal = message;
    if (normal["content"].is_string()) {
      normal["content"] = json::array({{{"type", "text"}, {"text", normal["content"]}}});
    }
    const json* content = &normal["content"];
    if (!content->is_array() || content->empty()) {
      Add(normal);
      return;
    }
    json head = normal;
    head["content"] = json::array({(*content)[0]});
    if ((*content)[0].is_object() && (*content)[0].contains("cache_control")) {
      head["cache_control"] = (*content)[0]["cache_control"];
      head["content"][0].erase("cache_control");
    }
    Add(head);
    for (size_t i = 1; i < content->size(); ++i) Add((*content)[i]);
  }
  const std::vector<Boundary>& boundaries() const { return boundaries_; }

 private:
  uint64_t hash_ = 14695981039346656037ULL;
  int64_t chars_ = 0;
  std::vector<Boundary> boundaries_;
};

const json* Member(const json& body, const char* key) {
  auto it = body.find(key);
  return it == body.end() ? nullptr : &*it;
}

std::string StringMember(const json& body, const char* key) {
  const json* value = Member(body, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

}  // namespace

void PromptCache::Apply(WireProtocol protocol, const json& body, Usage* usage) {
  if (!body.is_object()) return;
  if (usage->cache_read_tokens != 0 || usage->cache_write_tokens != 0) return;
  const std::string model = StringMember(body, "model");
  Blocks blocks;
  blocks.AddEach(Member(body, "tools"));
  if (protocol == WireProtocol::kAnthropic) {
    const json* system = Member(body, "system");
    if (system != nullptr && system->is_array()) {
      blocks.AddEach(system);
    } else if (system != nullptr && system->is_string()) {
      blocks.Add(*system);
    }
    const json* messages = Member(body, "messages");
    if (messages != nullptr && messages->is_array()) {
      for (const json& m : *messages) blocks.AddMessage(m);
    }
  } else if (protocol == WireProtocol::kOpenAiResponses) {
    if (const json* instructions = Member(body, "instructions")) blocks.Add(*instructions);
    const json* input = Member(body, "input");
    if (input != nullptr && input->is_array()) {
      blocks.AddEach(input);
    } else if (input != nullptr) {
      blocks.Add(*input);
    }
  } else {
    blocks.AddEach(Member(body, "messages"));
  }
  const std::vector<Boundary>& all = blocks.boundaries();
  const int64_t total = usage->input_tokens;

  if (protocol != WireProtocol::kAnthropic) {
    const std::string key = StringMember(body, "prompt_cache_key");
    if (key.empty()) return;
    const std::string scope = "openai\n" + model + "\n" + key;
    int64_t read = 0;
    if (auto it = seen_.find(scope); it != seen_.end()) {
      for (const Boundary& b : all) {
        if (it->second.contains(b.hash)) read = std::max(read, b.tokens);
      }
    }
    for (const Boundary& b : all) Remember(scope, b.hash);
    read = std::min(read, total);
    read = read < kMinCachedTokens
               ? 0
               : kMinCachedTokens + (read - kMinCachedTokens) / kOpenAiCacheStep * kOpenAiCacheStep;
    usage->input_tokens = total - read;
    usage->cache_read_tokens = read;
    usage->cache_write_tokens = 0;
    return;
  }

  const std::string scope = "anthropic\n" + model;
  int64_t read = 0;
  int64_t last_breakpoint = -1;
  const std::set<uint64_t>* written = nullptr;
  if (auto it = seen_.find(scope); it != seen_.end()) written = &it->second;
  for (size_t i = 0; i < all.size(); ++i) {
    if (!all[i].breakpoint) continue;
    last_breakpoint = all[i].tokens;
    for (size_t back = 0; written != nullptr && back < kAnthropicLookback && back <= i; ++back) {
      if (written->contains(all[i - back].hash)) {
        read = std::max(read, all[i - back].tokens);
        break;
      }
    }
  }
  if (last_breakpoint < 0) return;  // caching not asked for
  for (const Boundary& b : all) {
    if (b.breakpoint && b.tokens >= kMinCachedTokens) Remember(scope, b.hash);
  }
  read = std::min(read, total);
  int64_t write =
      last_breakpoint >= kMinCachedTokens ? std::max<int64_t>(0, last_breakpoint - read) : 0;
  write = std::min(write, total - read);
  usage->input_tokens = total - read - write;
  usage->cache_read_tokens = read;
  usage->cache_write_tokens = write;
}

void PromptCache::Remember(const std::string& scope, uint64_t prefix) {
  if (prefixes_ >= max_prefixes_) {
    seen_.clear();
    prefixes_ = 0;
  }
  if (seen_[scope].insert(prefix).second) ++prefixes_;
}

}  // namespace troupe
