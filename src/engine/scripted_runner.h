// An AgentRunner that plays a script instead of talking to a model: report progress, finish, fail,
// or go silent, each after a delay on the injected clock. Tests script it per task; the engine
// demo and benchmarks use it until the real agent loop is wired in. Tasks whose script ends
// without finishing hang until Finish() or a cancel.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "engine/agent_runner.h"

namespace troupe {

struct ScriptStep {
  enum class Kind { kProgress, kComplete, kFail };
  // Delay after the previous step. kNow runs the step synchronously inside the previous one
  // (for the first step: inside AgentRunner::Start), which exercises the engine's re-entrancy.
  static constexpr int64_t kNow = -1;
  Kind kind = Kind::kComplete;
  int64_t delay_ms = 0;
  ProgressUpdate progress;  // kProgress
  std::string text;         // kComplete: the result; kFail: the error

  static ScriptStep Progress(int64_t delay_ms, ProgressUpdate u) {
    return {Kind::kProgress, delay_ms, std::move(u), {}};
  }
  static ScriptStep Complete(int64_t delay_ms, std::string result) {
    return {Kind::kComplete, delay_ms, {}, std::move(result)};
  }
  static ScriptStep Fail(int64_t delay_ms, std::string error) {
    return {Kind::kFail, delay_ms, {}, std::move(error)};
  }
};

using Script = std::vector<ScriptStep>;

class ScriptedRunner : public AgentRunner {
 public:
  // Picks the script for a run; the default completes at once with "done: <prompt>".
  using ScriptChooser = std::function<Script(const RunRequest&)>;

  explicit ScriptedRunner(Clock* clock, ScriptChooser chooser = nullptr);
  ~ScriptedRunner() override;

  std::unique_ptr<RunHandle> Start(const RunRequest& request, RunCallbacks callbacks) override;
  void set_chooser(ScriptChooser chooser) { chooser_ = std::move(chooser); }

  // Manual control of a run in flight (by task id). False if it is not running here.
  bool Finish(const std::string& task_id, RunOutcome outcome);
  bool Progress(const std::string& task_id, const ProgressUpdate& update);
  // Asks the engine, as a run does before a model request, whether it may send one and with
  // what max_tokens.
  Result<int> AdmitRequest(const std::string& task_id, int64_t estimated_prompt_tokens,
                           int max_output_tokens = 0);

  std::vector<std::string> running() const;  // task ids, sorted
  size_t started() const { return started_; }
  const std::multiset<std::string>& cancelled() const { return cancelled_; }
  // The requests seen, in start order.
  const std::vector<RunRequest>& requests() const { return requests_; }

 private:
  struct Run;
  class Handle;
  void Step(Run* run);
  void End(const std::string& task_id);

  Clock* clock_;
  ScriptChooser chooser_;
  std::map<std::string, std::unique_ptr<Run>> runs_;
  std::multiset<std::string> cancelled_;
  std::vector<RunRequest> requests_;
  size_t started_ = 0;
  bool record_requests_ = true;

 public:
  // Benchmarks turn this off so a long run does not grow memory.
  void set_record_requests(bool on) { record_requests_ = on; }
};

}  // namespace troupe
