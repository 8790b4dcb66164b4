// How the engine runs a task: it hands the task to an AgentRunner and is told of progress and of
// the outcome. The real runner is the agent loop (agent/); tests use ScriptedRunner.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent_host.h"

namespace troupe {

struct RunRequest {
  std::string task_id;
  std::string session_id;
  std::string agent;
  std::string model;  // as the user gave it (not canonicalised): what the provider is asked for
  // The launch's own fallback models (LaunchRequest::fallback_models); empty = the agent's.
  std::vector<std::string> fallback_models;
  std::string prompt;  // already stored as the session's last user message
  std::string workspace;
  int attempt = 1;  // > 1 when the task resumes after an interruption: continue from the
                    // session's last persisted message instead of starting over
  int depth = 0;
};

// Progress since the previous report; every report also counts as activity for the stale timer.
// The agent loop reports the same value (agent/agent_host.h).
using ProgressUpdate = AgentProgress;

struct RunOutcome {
  bool ok = false;
  std::string result;  // the final answer when ok
  std::string error;   // a human-readable reason when not ok
  // Set when not ok because the model failed in a way another model may not (its provider
  // overloaded, rate-limited or unreachable after its retries): the engine continues the task,
  // in the same session, on this model, waiting for a slot of its pool (DESIGN.md "Fallback
  // models").
  std::string fallback_model;
  static RunOutcome Completed(std::string text) { return {true, std::move(text), {}, {}}; }
  static RunOutcome Failed(std::string why) { return {false, {}, std::move(why), {}}; }
};

// What a run reports to. Both may be called from the loop thread only; calls after the run was
// cancelled, or after finish, are ignored by the engine.
struct RunCallbacks {
  std::function<void(const ProgressUpdate&)> progress;
  std::function<void(RunOutcome)> finish;
  // Asked before each model request with the prompt's estimated size in tokens and the most
  // output tokens it may ask for: an error (a budget's verdict) ends the run with its message
  // instead of sending the request; else the max_tokens the request asks for (never more than
  // asked). Unset = all requests are admitted as they are.
  std::function<Result<int>(int64_t estimated_prompt_tokens, int max_output_tokens)> admit_request;
};

// A run in flight.
class RunHandle {
 public:
  virtual ~RunHandle() = default;
  // Stops the run before returning: aborts its provider request, kills its tool processes. After
  // it returns the run calls no callback. Destroying a handle does not cancel the run.
  virtual void Cancel() = 0;
};

class AgentRunner {
 public:
  virtual ~AgentRunner() = default;
  // Starts running `request`. May call callbacks.finish before returning (an instant runner).
  virtual std::unique_ptr<RunHandle> Start(const RunRequest& request, RunCallbacks callbacks) = 0;
};

}  // namespace troupe
