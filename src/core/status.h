// Errors as values. A Status says what happened, to what, and what to do; a Result<T> is a
// value or the Status that explains its absence. Neither throws across layer boundaries.
//
// Its typed reason is the code (what kind of failure) and, when the error is about one argument
// of a request, the field (which one: "agent", "model", "session_id", ...), both set where the
// error is born. Callers decide on those two, never on the message: the message is for people
// and may be reworded freely.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace troupe {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong; retrying the same input fails again
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // the thing to create is there already
  kFailedPrecondition,  // the system is not in a state that allows this (busy session, ...)
  kResourceExhausted,   // a limit was reached (depth, queue, size)
  kCorruption,          // stored data is unreadable or inconsistent
  kIoError,             // the operating system or a file refused
  kUnavailable,         // a dependency is down or unreachable; retrying later may work
  kDeadlineExceeded,    // a time limit passed
  kCancelled,           // someone asked for it to stop
  kUnimplemented,
  kInternal,  // a bug in troupe
};

// Short lowercase name of a code, e.g. "invalid argument".
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: <message>", or "ok".
  std::string ToString() const;

  // The argument or request field the error is about ("agent", "model", "session_id", ...);
  // empty when it is not about one.
  const std::string& field() const { return field_; }
  // Returns a copy that names `field` as the argument the error is about (no effect on OK).
  Status WithField(std::string field) const;

  // Returns a copy whose message is prefixed with `context`: "context: message". Code and field
  // are kept.
  Status WithContext(const std::string& context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_ && a.field_ == b.field_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
};

// A T, or the non-OK Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error; OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  // By value, so that `for (auto& x : F().value())` does not iterate a destroyed temporary.
  T value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace troupe

#define TROUPE_CONCAT_INNER_(a, b) a##b
#define TROUPE_CONCAT_(a, b) TROUPE_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define TROUPE_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::troupe::Status troupe_status_ = (expr);        \
    if (!troupe_status_.ok()) return troupe_status_; \
  } while (0)

// Evaluates `expr` (a Result<T>); on error returns its Status, else moves the value into `lhs`.
#define TROUPE_ASSIGN_OR_RETURN(lhs, expr) \
  TROUPE_ASSIGN_OR_RETURN_IMPL_(TROUPE_CONCAT_(troupe_result_, __LINE__), lhs, expr)
#define TROUPE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
