#include "llm/anthropic_replay.h"

#include <algorithm>
#include <utility>

namespace troupe::anthropic_replay {

using json = nlohmann::json;

void Keep(ChatMessage* m, json block, int tool_calls_before) {
  if (m->provider_replay.is_null()) m->provider_replay = json::object();
  m->provider_replay[kReplayKey].push_back(
      {{"block", std::move(block)}, {"tool_calls_before", tool_calls_before}});
}

void KeepThinking(ChatMessage* m, const std::string& thinking, const std::string& signature,
                  int tool_calls_before) {
  Keep(m, {{"type", "thinking"}, {"thinking", thinking}, {"signature", signature}},
       tool_calls_before);
}

void KeepRedactedThinking(ChatMessage* m, const std::string& data, int tool_calls_before) {
  Keep(m, {{"type", "redacted_thinking"}, {"data", data}}, tool_calls_before);
}

std::vector<std::vector<json>> Groups(const ChatMessage& m, int calls) {
  if (!m.provider_replay.is_object()) return {};
  auto it = m.provider_replay.find(kReplayKey);
  if (it == m.provider_replay.end()) return {};
  std::vector<std::vector<json>> groups(size_t(calls) + 1);
  if (!it->is_array()) return groups;
  for (const json& entry : *it) {
    if (!entry.is_object()) continue;
    auto block = entry.find("block");
    auto before = entry.find("tool_calls_before");
    if (block == entry.end() || !block->is_object() || before == entry.end() ||
        !before->is_number_integer()) {
      continue;
    }
    auto type = block->find("type");
    if (type == block->end() || (*type != "thinking" && *type != "redacted_thinking")) continue;
    groups[size_t(std::clamp(before->get<int>(), 0, calls))].push_back(*block);
  }
  return groups;
}

}  // namespace troupe::anthropic_replay
