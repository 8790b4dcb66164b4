#include "rest/rest_routes.h"

#include <optional>
#include <utility>

namespace troupe {

namespace {

// Splits "/v1/tasks/bg_1" into {"v1", "tasks", "bg_1"}; nullopt for a path with empty segments
// (a trailing slash, "//") or not starting with '/'.
std::optional<std::vector<std::string>> Segments(const std::string& path) {
  if (path.empty() || path[0] != '/') return std::nullopt;
  std::vector<std::string> out;
  size_t start = 1;
  while (true) {
    const size_t slash = path.find('/', start);
    std::string seg = path.substr(start, slash == std::string::npos ? slash : slash - start);
    if (seg.empty()) return std::nullopt;
    out.push_back(std::move(seg));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> AllowedMethods(Route route) {
  switch (route) {
    case Route::kTasks:
      return {"GET", "POST"};
    case Route::kCancelAll:
    case Route::kTaskCancel:
    case Route::kWait:
    case Route::kShutdown:
    case Route::kTaskApply:
      return {"POST"};
    case Route::kNone:
      return {};
    default:
      return {"GET"};
  }
}

Route MatchRoute(const std::string& path, std::string* id) {
  auto segs = Segments(path);
  if (!segs) return Route::kNone;
  const auto& s = *segs;
  if (s.size() == 1 && s[0] == "metrics") return Route::kMetrics;
  if (s.size() < 2 || s[0] != "v1") return Route::kNone;
  if (s.size() == 2) {
    if (s[1] == "tasks") return Route::kTasks;
    if (s[1] == "wait") return Route::kWait;
    if (s[1] == "pools") return Route::kPools;
    if (s[1] == "budgets") return Route::kBudgets;
    if (s[1] == "agents") return Route::kAgents;
    if (s[1] == "events") return Route::kEvents;
    if (s[1] == "health") return Route::kHealth;
    if (s[1] == "shutdown") return Route::kShutdown;
    return Route::kNone;
  }
  if (s[1] == "tasks") {
    if (s.size() == 3) {
      if (s[2] == "cancel") return Route::kCancelAll;
      *id = s[2];
      return Route::kTask;
    }
    if (s.size() == 4 && s[3] == "cancel") {
      *id = s[2];
      return Route::kTaskCancel;
    }
    if (s.size() == 4 && s[3] == "spend") {
      *id = s[2];
      return Route::kTaskSpend;
    }
    if (s.size() == 4 && s[3] == "diff") {
      *id = s[2];
      return Route::kTaskDiff;
    }
    if (s.size() == 4 && s[3] == "apply") {
      *id = s[2];
      return Route::kTaskApply;
    }
  }
  if (s[1] == "sessions") {
    if (s.size() == 3) {
      *id = s[2];
      return Route::kSession;
    }
    if (s.size() == 4 && s[3] == "messages") {
      *id = s[2];
      return Route::kMessages;
    }
  }
  return Route::kNone;
}

}  // namespace troupe
