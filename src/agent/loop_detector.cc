#include "agent/loop_detector.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

namespace troupe {
namespace {

constexpr size_t kMaxShownArguments = 120;

std::string Shown(const ToolCall& call) {
  nlohmann::json args = nlohmann::json::parse(call.arguments_json, nullptr, false);
  std::string text = args.is_discarded() ? call.arguments_json : args.dump();
  if (text.size() > kMaxShownArguments) text = text.substr(0, kMaxShownArguments) + "…";
  return call.name + " " + text;
}

}  // namespace

std::string CanonicalCall(const ToolCall& call) {
  nlohmann::json args = nlohmann::json::parse(call.arguments_json, nullptr, false);
  return call.name + "\n" + (args.is_discarded() ? call.arguments_json : args.dump());
}

LoopDetector::Outcome LoopDetector::OnTurn(const std::vector<CallResult>& turn) {
  if (turn.empty()) return {};
  bool progress = false;
  const Seen* worst = nullptr;
  for (const CallResult& c : turn) {
    // The result's digest keeps the map small; a collision could only hide a change of result.
    const size_t digest = std::hash<std::string>{}(c.result);
    Seen& seen =
        seen_[fmt::format("{}\n{}{:x}", CanonicalCall(c.call), c.is_error ? "E" : "", digest)];
    if (seen.count++ == 0) {
      seen.call = Shown(c.call);
      progress = true;
    }
    if (worst == nullptr || seen.count > worst->count) worst = &seen;
  }
  idle_ = progress ? 0 : idle_ + 1;
  if (progress) warned_idle_ = false;

  const int repeats = thresholds_.repeat_limit;
  if (repeats > 0 && worst->count >= repeats) {
    if (warned_repeat_ && worst->count > repeats) {
      return {Verdict::kLoop,
              fmt::format("loop detected: the same tool call got the same result {} times ({}); "
                          "the task was warned at {} and repeated it again",
                          worst->count, MostRepeated(), repeats)};
    }
    if (!warned_repeat_) {
      warned_repeat_ = true;
      return {Verdict::kWarn,
              fmt::format("You have made the same tool call {} times and got the same result each "
                          "time: {}. Repeating it will not change the result. Use what you "
                          "already have, try a different approach, or give your final answer. If "
                          "you repeat it again, the task ends with an error.",
                          worst->count, worst->call)};
    }
  }
  const int idle = thresholds_.idle_turns;
  if (idle > 0 && idle_ >= idle) {
    if (warned_idle_) {
      return {Verdict::kLoop,
              fmt::format("loop detected: no progress in {} turns in a row (every call repeated "
                          "an earlier one with the same result; most repeated: {}); the task was "
                          "warned at {}",
                          idle_, MostRepeated(), idle)};
    }
    warned_idle_ = true;
    return {Verdict::kWarn,
            fmt::format("Your last {} turns made no progress: every tool call repeated an earlier "
                        "one and got the same result (most repeated: {}). Use what you already "
                        "have, try a different approach, or give your final answer. One more turn "
                        "without progress ends the task with an error.",
                        idle_, MostRepeated())};
  }
  return {};
}

size_t TaskStartIndex(const std::vector<ChatMessage>& history, const std::string& task_prompt) {
  // A wake-up's prompt is itself a "<system-reminder>": the prompt's own text is looked for first.
  auto last_user = [&](auto is_prompt) -> std::optional<size_t> {
    for (size_t i = history.size(); i-- > 0;) {
      if (history[i].role == ChatRole::kUser && is_prompt(history[i].text)) return i + 1;
    }
    return std::nullopt;
  };
  std::optional<size_t> found;
  if (!task_prompt.empty()) {
    found = last_user([&](const std::string& text) { return text == task_prompt; });
  }
  if (!found) {
    found =
        last_user([](const std::string& text) { return !text.starts_with("<system-reminder>"); });
  }
  return found.value_or(0);
}

void LoopDetector::Rebuild(const std::vector<ChatMessage>& history,
                           const std::string& task_prompt) {
  const size_t start = TaskStartIndex(history, task_prompt);
  for (size_t i = start; i < history.size(); ++i) {
    const ChatMessage& m = history[i];
    if (m.role != ChatRole::kAssistant || m.tool_calls.empty()) continue;
    std::vector<CallResult> turn;
    for (const ToolCall& call : m.tool_calls) {
      // Results follow their turn, before the next assistant message.
      for (size_t r = i + 1; r < history.size() && history[r].role != ChatRole::kAssistant; ++r) {
        if (history[r].role == ChatRole::kTool && history[r].tool_call_id == call.id) {
          turn.push_back({call, history[r].text, history[r].is_error});
          break;
        }
      }
    }
    if (turn.size() == m.tool_calls.size()) (void)OnTurn(turn);
  }
}

std::string LoopDetector::MostRepeated() const {
  std::vector<const Seen*> repeated;
  for (const auto& [key, seen] : seen_) {
    if (seen.count > 1) repeated.push_back(&seen);
  }
  std::stable_sort(repeated.begin(), repeated.end(),
                   [](const Seen* a, const Seen* b) { return a->count > b->count; });
  std::string out;
  for (size_t i = 0; i < repeated.size() && i < 3; ++i) {
    out += fmt::format("{}{} ×{}", out.empty() ? "" : ", ", repeated[i]->call, repeated[i]->count);
  }
  return out.empty() ? "none" : out;
}

}  // namespace troupe
