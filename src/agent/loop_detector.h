// Loop detection that does not cancel real work (DESIGN.md "Loops"). A task loops when it keeps
// asking for what it already has:
//  - a repeat: the same tool call (name + canonical arguments: JSON re-serialised with sorted
//    keys, so spacing and key order do not matter) got the same result (same text, same error
//    flag) `repeat_limit` times in the run — anywhere in the run, not only in a row, so that A, B,
//    A, B… is caught too;
//  - no progress: `idle_turns` turns in a row made no progress. A turn makes progress when at
//    least one of its calls is new — a call not made before, or one whose result changed (a file
//    re-read after an edit, a test re-run after a fix). A burst of different searches is all new
//    calls, so it never trips either rule however long it is.
// The first time a rule trips the loop is warned (the agent loop tells the model, naming the
// calls); if that rule trips again afterwards (the same call repeated once more, or one more turn
// without progress) the verdict is a loop and the task ends in error naming the calls and how
// often each repeated. A threshold of 0 turns its rule off.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "llm/chat_types.h"

namespace troupe {

struct LoopThresholds {
  int repeat_limit = 6;  // same call, same result, this many times: warn; once more: loop
  int idle_turns = 10;   // this many turns in a row without progress: warn; once more: loop
};

// A tool call's identity: its name and its arguments in canonical JSON (the raw text when they
// are not JSON).
std::string CanonicalCall(const ToolCall& call);

// Where the messages of the task whose prompt is `task_prompt` begin in its session's
// `history` (the index after its prompt): the last user message whose text is `task_prompt`,
// else (no such message, or "") the last user message that is not a "<system-reminder>", else 0.
// A session holds many tasks (a continuation, a wake-up); a task's counts start there.
size_t TaskStartIndex(const std::vector<ChatMessage>& history, const std::string& task_prompt);

class LoopDetector {
 public:
  enum class Verdict { kOk, kWarn, kLoop };
  struct Outcome {
    Verdict verdict = Verdict::kOk;
    std::string message;  // for kWarn (to the model) and kLoop (the task's error)
  };
  struct CallResult {
    ToolCall call;
    std::string result;
    bool is_error = false;
  };

  explicit LoopDetector(LoopThresholds thresholds) : thresholds_(thresholds) {}

  // One turn's calls with their results, in order.
  Outcome OnTurn(const std::vector<CallResult>& turn);

  // Counts again what a run of the task already did, from its session's messages, so that a
  // task resumed after a restart or continued on a fallback model keeps its counts (and its
  // warnings). The task starts at its prompt (TaskStartIndex). Each assistant turn after it
  // whose calls all have their results is one turn, in order; a turn still waiting for results
  // is left for the run to count.
  void Rebuild(const std::vector<ChatMessage>& history, const std::string& task_prompt = "");

 private:
  struct Seen {
    std::string call;  // "name {args}", for messages
    int count = 0;
  };
  // The most repeated calls, "grep {"pattern":"x"} ×7, read {...} ×6", at most three.
  std::string MostRepeated() const;

  LoopThresholds thresholds_;
  std::map<std::string, Seen> seen_;  // key: canonical call + result digest
  int idle_ = 0;
  bool warned_repeat_ = false;
  bool warned_idle_ = false;
};

}  // namespace troupe
