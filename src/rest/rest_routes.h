// The REST API's routes: which path is which resource, and the methods each answers. Pure: no
// engine, no exchange — rest_api.cc dispatches on the Route.
#pragma once

#include <string>
#include <vector>

namespace troupe {

enum class Route {
  kNone,
  kTasks,       // /v1/tasks
  kCancelAll,   // /v1/tasks/cancel
  kTask,        // /v1/tasks/{id}
  kTaskCancel,  // /v1/tasks/{id}/cancel
  kTaskSpend,   // /v1/tasks/{id}/spend
  kTaskDiff,    // /v1/tasks/{id}/diff
  kTaskApply,   // /v1/tasks/{id}/apply
  kWait,        // /v1/wait
  kSession,     // /v1/sessions/{id}
  kMessages,    // /v1/sessions/{id}/messages
  kPools,       // /v1/pools
  kBudgets,     // /v1/budgets
  kAgents,      // /v1/agents
  kEvents,      // /v1/events
  kHealth,      // /v1/health
  kShutdown,    // /v1/shutdown
  kMetrics,     // /metrics
};

// The route of `path`, with the {id} segment in `*id` for the routes that have one; kNone for
// an unknown path or one with empty segments (a trailing slash, "//").
Route MatchRoute(const std::string& path, std::string* id);

// The methods a route answers, as the Allow header lists them.
std::vector<std::string> AllowedMethods(Route route);

}  // namespace troupe
