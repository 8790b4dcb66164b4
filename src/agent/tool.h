// What an agent can do besides talking: a Tool has a JSON Schema the model sees and runs with
// arguments the model wrote. Arguments are untrusted: a tool validates them and answers a bad
// call with a tool error the model can read ("grep: `pattern` is required"), never a crash.
//
// Tools that block (file search, large reads, child processes) do their work on the
// ToolContext's executor and report back on the loop; cheap ones may answer from the loop, but
// never from inside Start (the result always arrives from a later loop turn).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/host_pattern.h"
#include "core/status.h"
#include "llm/chat_types.h"
#include "store/records.h"

namespace troupe {

struct ToolResult {
  std::string content;  // what the model reads; already cut to the tool's output limit, with a
                        // marker saying what was left out
  bool is_error = false;

  static ToolResult Ok(std::string text) { return {std::move(text), false}; }
  static ToolResult Error(std::string text) { return {std::move(text), true}; }
};

// Who blocking work is for and how it spends its time, so that an executor can share its threads
// fairly: one task's slow commands must not hold up another task's file reads.
struct BlockingWork {
  std::string owner;  // the task the work is for; "" = nobody in particular
  // Spends its time waiting (on a child process, the network), possibly for minutes, rather
  // than using the CPU or the disk.
  bool waits = false;
  // Set from the loop when the result is no longer wanted (the call was cancelled); work that has
  // not started by then is skipped. May be null.
  std::shared_ptr<std::atomic<bool>> abandoned;
};

// Runs blocking work off the loop and brings its result back. Implemented over thread pools in
// production (agent/tool_executor.h); tests may run work inline on the loop.
class BlockingExecutor {
 public:
  virtual ~BlockingExecutor() = default;
  // Runs `work` on a worker thread, then `done` with its result on the loop thread. `work` must
  // not touch loop-owned state.
  virtual void Run(std::function<ToolResult()> work, std::function<void(ToolResult)> done) = 0;
  // Run, for `what`: an executor that shares threads between owners uses it to take turns and
  // to keep waiting work apart from quick work. The default ignores it.
  virtual void RunFor(const BlockingWork& what, std::function<ToolResult()> work,
                      std::function<void(ToolResult)> done) {
    (void)what;
    Run(std::move(work), std::move(done));
  }
};

// A session's todo list, as the todo tools see it (the engine implements it over the store).
class TodoList {
 public:
  virtual ~TodoList() = default;
  virtual Result<std::vector<TodoItem>> Get() = 0;
  virtual Status Replace(const std::vector<TodoItem>& items) = 0;
};

// Where and for whom a tool runs.
struct ToolContext {
  std::string workspace_root;  // absolute and canonical; file tools never leave it
  std::string session_id;
  std::string task_id;
  Clock* clock = nullptr;
  BlockingExecutor* executor = nullptr;
  TodoList* todos = nullptr;  // null when the session has none
  // This call within its session, the same when a resumed run replays it after a crash:
  // "<index of the assistant message in the session>:<call id>"; "" when the model gave the
  // call no id. Tools with effects outside the session (delegate_task) use it to act once.
  std::string call_key;
  // Whether the agent's tool processes may use the network; nullopt = the sandbox's default.
  std::optional<NetworkAccess> network;
  // The agents delegate_task may start for this agent (AllowedDelegates in agent_catalog.h);
  // nullopt = any (callers that are not agents).
  std::optional<std::vector<std::string>> delegates_to;
};

// A tool call in flight. Cancel stops it before returning: a child process and its whole
// process group are killed, and `done` is not called afterwards. Destroying it cancels it.
class ToolRun {
 public:
  virtual ~ToolRun() = default;
  virtual void Cancel() = 0;
};

class Tool {
 public:
  virtual ~Tool() = default;
  // Name, description written for models, JSON Schema of the arguments.
  virtual const ToolSpec& spec() const = 0;
  // The spec as the agent running in `context` sees it: tools whose offer depends on the caller
  // override it (delegate_task lists only the agents the caller may start). Defaults to spec().
  virtual ToolSpec SpecFor(const ToolContext& context) const {
    (void)context;
    return spec();
  }
  // Starts the call. `arguments` is what the model wrote, parsed (it may be anything: null, a
  // string, an object with wrong types). `done` runs once, on the loop, from a later turn.
  virtual std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments,
                                         const ToolContext& context,
                                         std::function<void(ToolResult)> done) = 0;

  // Roughly the tokens spec() takes in a request (its text / 4), for fitting the context
  // window. Computed once: a tool's spec does not change. Loop thread only.
  int64_t SpecTokens() const {
    if (spec_tokens_ < 0) {
      const ToolSpec& s = spec();
      const size_t bytes = s.name.size() + s.description.size() + s.input_schema.dump().size();
      spec_tokens_ = static_cast<int64_t>(bytes / 4);
    }
    return spec_tokens_;
  }

 private:
  mutable int64_t spec_tokens_ = -1;
};

}  // namespace troupe
