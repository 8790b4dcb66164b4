// Request bodies and query strings of the HTTP API (docs/HTTP_API.md) turned into typed requests,
// or into the precise ApiError that says what was wrong: which field, what was expected, what
// was sent (its JSON type, or a short quote of a string — never the whole input). Pure functions
// of the text they are given, except that a launch's `workspace` is checked on the filesystem.
//
// Rules shared by every body: an empty body where one is required is 400 invalid_json "request
// body is empty; expected a JSON object"; text that is not JSON is 400 invalid_json with the
// parser's byte position; a body that is not an object, and unknown fields, are 400
// invalid_argument. An optional field sent as null counts as not sent.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/task_manager.h"
#include "http/api_error.h"
#include "store/records.h"

namespace troupe {

// A value or the ApiError explaining its absence.
template <typename T>
class Parsed {
 public:
  Parsed(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Parsed(ApiError error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  bool ok() const { return value_.has_value(); }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  const ApiError& error() const { return error_; }

 private:
  std::optional<T> value_;
  ApiError error_;
};

// The longest wait_ms / timeout_ms accepted by default (one hour).
inline constexpr int64_t kDefaultMaxWaitMs = 3'600'000;
// GET /v1/tasks?limit= accepts 1 to this.
inline constexpr int kMaxListLimit = 100'000;
// How much of a bad string value an error quotes.
inline constexpr size_t kQuoteBytes = 40;

// `s` as a JSON string literal, cut to `max_bytes` at a UTF-8 boundary with "…" when longer:
// "\"abc\"". For the `got` of errors.
std::string QuoteForError(std::string_view s, size_t max_bytes = kQuoteBytes);
// The first line of `prompt` that is not blank and not a `#mock` directive line (else its first
// line), without a trailing CR, at most 60 characters (code points): a longer line keeps 57 and
// gets "...".
std::string DefaultDescription(std::string_view prompt);

// 415 unsupported_media_type unless `content_type` is empty or application/json (parameters
// such as charset allowed, any case).
std::optional<ApiError> CheckJsonContentType(std::string_view content_type);

// The body as a JSON object. Empty text: an empty object when !required, else the invalid_json
// error above.
Parsed<nlohmann::json> ParseJsonObject(std::string_view body, bool required);

// Bounds of a launch's budgets.
inline constexpr int64_t kMaxLaunchTokens = 1'000'000'000'000;
inline constexpr double kMaxLaunchUsd = 1e9;
inline constexpr int64_t kMaxLaunchTreeTasks = 1'000'000;

// POST /v1/tasks.
struct LaunchBody {
  LaunchRequest request;
  std::optional<int64_t> wait_ms;  // set: answer when the task is final or this much time passed
};
struct LaunchDefaults {
  std::string agent = "general";  // for a new session; a continuation keeps its session's
  std::string owner = "api";
  int64_t max_wait_ms = kDefaultMaxWaitMs;
};
Parsed<LaunchBody> ParseLaunchBody(std::string_view body, const LaunchDefaults& defaults = {});

// POST /v1/wait.
struct WaitBody {
  std::vector<std::string> task_ids;
  WaitMode mode = WaitMode::kAll;
  int64_t timeout_ms = 0;  // 0 = no limit
};
Parsed<WaitBody> ParseWaitBody(std::string_view body, int64_t max_wait_ms = kDefaultMaxWaitMs);

// POST /v1/tasks/{id}/cancel (the body is optional).
struct CancelBody {
  std::string reason;
};
Parsed<CancelBody> ParseCancelBody(std::string_view body);

// POST /v1/tasks/cancel.
struct CancelAllBody {
  std::string owner;  // "" = every owner
  std::string root;   // "" = every tree; else the tree of this root session
};
Parsed<CancelAllBody> ParseCancelAllBody(std::string_view body);

// A body that must be empty or an object without fields (POST /v1/shutdown).
Parsed<bool> ParseEmptyBody(std::string_view body);

using QueryMap = std::map<std::string, std::string>;

// GET /v1/tasks: status (comma-separated states or "active"), parent, session, owner, limit.
// Unknown parameters are refused.
Parsed<TaskFilter> ParseTaskQuery(const QueryMap& query);
// GET /v1/tasks' paging, from a query ParseTaskQuery accepted: `order` and `before`.
struct TaskPaging {
  bool newest_first = false;  // order=newest
  std::string before;         // only tasks with a smaller id (older); "" = any
};
TaskPaging TaskPagingOf(const QueryMap& query);

// wait_ms (0 to max_wait_ms) when present, for GET /v1/tasks/{id}. Unknown parameters are
// refused.
Parsed<std::optional<int64_t>> ParseWaitMs(const QueryMap& query,
                                           int64_t max_wait_ms = kDefaultMaxWaitMs);

// GET /v1/sessions/{id}/messages: after (a sequence number ≥ 0, default 0).
Parsed<int64_t> ParseMessagesQuery(const QueryMap& query);

// Refuses every query parameter not in `known` (field: the parameter).
std::optional<ApiError> CheckQueryNames(const QueryMap& query,
                                        const std::vector<std::string>& known);

}  // namespace troupe
