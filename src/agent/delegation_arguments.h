// What the model's arguments to delegate_task and background_wait say, checked: each error
// names the tool and the argument, and what was given (agent/tool_args.h). The service
// (agent/delegation_service.h) decides what to do with them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/delegation_service.h"
#include "agent/tool_args.h"
#include "core/status.h"

namespace troupe {

// background_wait's arguments, checked.
struct WaitArguments {
  std::vector<std::string> task_ids;  // without duplicates; empty = the caller's active tasks
  bool any = false;                   // mode "any" (default "all")
  int64_t timeout_ms = 0;
  bool timeout_given = false;
};

// delegate_task's arguments. `available_agents` ("a, b, c") is named when `agent` is missing.
Result<DelegateArguments> ParseDelegateArguments(const ToolArgs& args,
                                                 std::string_view available_agents);

// background_wait's arguments; timeout_ms defaults to and is bounded by `limits`.
Result<WaitArguments> ParseWaitArguments(const ToolArgs& args, const DelegationLimits& limits);

}  // namespace troupe
