#include "rest/request_parsing.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <system_error>

#include "core/json_depth.h"
#include "core/text_case.h"
#include "core/utf8.h"

namespace troupe {

namespace {

using json = nlohmann::json;

// Bodies nested deeper than this are refused before they reach the parser.
constexpr int kMaxJsonDepth = 64;

const std::vector<std::string>& StateNames() {
  static const std::vector<std::string> names = {"pending", "running",   "completed",
                                                 "error",   "cancelled", "interrupted"};
  return names;
}

std::string JoinComma(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// What a value was, for `got`: a string is quoted (short), a number written out, anything else
// named by its type.
std::string Describe(const json& v) {
  if (v.is_string()) return QuoteForError(v.get_ref<const std::string&>());
  return JsonTypeName(v);
}

std::string DescribeNumber(const json& v) {
  if (v.is_number()) {
    std::string text = v.dump();
    return text.size() > kQuoteBytes ? text.substr(0, kQuoteBytes) + "…" : text;
  }
  return Describe(v);
}

// A field or parameter name the client sent, as it reads in a one-line message: as sent, or
// quoted (escaped) when it holds control characters such as a line end.
std::string FieldLabel(std::string_view name) {
  const bool plain =
      std::none_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
  return plain ? std::string(name) : QuoteForError(name);
}

ApiError UnknownField(const std::string& name, std::string expected, const char* what = "field") {
  ApiError e;
  e.status = 400;
  e.code = "invalid_argument";
  e.field = std::string(Utf8Prefix(name, kQuoteBytes));
  e.expected = std::move(expected);
  e.got = QuoteForError(name);
  e.message = fmt::format("{}: unknown {}; expected {}", FieldLabel(e.field), what, e.expected);
  return e;
}

ApiError InvalidJson(std::string message) {
  return ApiError::Of(400, "invalid_json", std::move(message));
}

// The first key of `object` not in `known`.
std::optional<ApiError> CheckFieldNames(const json& object, const std::vector<std::string>& known) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return UnknownField(key, "one of " + JoinComma(known));
    }
  }
  return std::nullopt;
}

// The field's value, or nullptr when it is absent or null.
const json* FieldOf(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

// A string field. `non_empty`: "" (and, for prompts, whitespace only) is refused.
std::optional<ApiError> ReadString(const json& object, const char* name, bool non_empty,
                                   std::string* out, const char* expected = nullptr) {
  const json* v = FieldOf(object, name);
  if (v == nullptr) return std::nullopt;
  const std::string what = expected ? expected : (non_empty ? "a non-empty string" : "a string");
  if (!v->is_string()) return ApiError::BadField(name, what, Describe(*v));
  const std::string& s = v->get_ref<const std::string&>();
  if (non_empty && IsBlank(s)) return ApiError::BadField(name, what, QuoteForError(s));
  *out = s;
  return std::nullopt;
}

// `model`: "provider/model", or a list of them, the first the task's model and the others its
// fallback models in order (DESIGN.md "Fallback models").
std::optional<ApiError> ReadModels(const json& object, LaunchRequest* r) {
  constexpr size_t kMaxModels = 8;
  const json* v = FieldOf(object, "model");
  if (v == nullptr || v->is_string()) {
    return ReadString(object, "model", true, &r->model, "a model written provider/model");
  }
  const std::string expected = fmt::format(
      "a model written provider/model, or a list of 1 to {} of them (the first the task's, the "
      "others its fallback models)",
      kMaxModels);
  if (!v->is_array() || v->empty() || v->size() > kMaxModels) {
    return ApiError::BadField("model", expected, Describe(*v));
  }
  for (const json& m : *v) {
    if (!m.is_string() || IsBlank(m.get_ref<const std::string&>())) {
      return ApiError::BadField("model", expected, "an element " + Describe(m));
    }
    if (r->model.empty()) {
      r->model = m.get<std::string>();
    } else {
      r->fallback_models.push_back(m.get<std::string>());
    }
  }
  return std::nullopt;
}

std::string RangeText(int64_t lo, int64_t hi) {
  return fmt::format("an integer from {} to {}", lo, hi);
}

// An integer in [lo, hi] written as a JSON number.
std::optional<ApiError> ReadInt(const json& v, const std::string& name, int64_t lo, int64_t hi,
                                int64_t* out) {
  const std::string expected = RangeText(lo, hi);
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi)) return ApiError::BadField(name, expected, DescribeNumber(v));
    *out = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    *out = v.get<int64_t>();
  } else {
    return ApiError::BadField(name, expected, DescribeNumber(v));
  }
  if (*out < lo || *out > hi) return ApiError::BadField(name, expected, DescribeNumber(v));
  return std::nullopt;
}

// An amount of USD above 0, at most `hi`.
std::optional<ApiError> ReadUsd(const json& v, const std::string& name, double hi, double* out) {
  const std::string expected = fmt::format("an amount of USD > 0 (at most {})", hi);
  if (!v.is_number() || !(v.get<double>() > 0) || v.get<double>() > hi) {
    return ApiError::BadField(name, expected, v.is_number() ? DescribeNumber(v) : Describe(v));
  }
  *out = v.get<double>();
  return std::nullopt;
}

// An integer in [lo, hi] written as query text (decimal digits only).
std::optional<ApiError> ReadQueryInt(const std::string& text, const std::string& name, int64_t lo,
                                     int64_t hi, int64_t* out, std::string expected = "") {
  if (expected.empty()) expected = RangeText(lo, hi);
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, *out);
  const bool digits_only =
      !text.empty() && std::all_of(text.begin() + (text[0] == '-' ? 1 : 0), text.end(),
                                   [](unsigned char c) { return std::isdigit(c) != 0; });
  if (ec != std::errc() || ptr != end || !digits_only || *out < lo || *out > hi) {
    return ApiError::BadField(name, expected, QuoteForError(text));
  }
  return std::nullopt;
}

// The parser's message without the "last read" token (which may be long) and its
// "[json.exception...]" prefix.
std::string ParseErrorText(const std::string& what) {
  std::string text = what;
  if (auto pos = text.find("] "); pos != std::string::npos && text.rfind("[json.", 0) == 0) {
    text = text.substr(pos + 2);
  }
  if (auto pos = text.find(": "); pos != std::string::npos && text.rfind("parse error", 0) == 0) {
    text = text.substr(pos + 2);  // drop "parse error at line 1, column 7"
  }
  if (auto last = text.find("; last read: '"); last != std::string::npos) {
    std::string expected;
    if (auto exp = text.rfind("; expected "); exp != std::string::npos && exp > last) {
      expected = text.substr(exp);
    }
    text = text.substr(0, last) + expected;
  }
  return std::string(Utf8Prefix(text, 200));
}

}  // namespace

std::string QuoteForError(std::string_view s, size_t max_bytes) {
  std::string_view cut = Utf8Prefix(s, max_bytes);
  std::string quoted = json(std::string(cut)).dump(-1, ' ', false, json::error_handler_t::replace);
  if (cut.size() < s.size()) quoted += "…";
  return quoted;
}

std::string DefaultDescription(std::string_view prompt) {
  // The first line that says something: not blank, not a `#mock` directive line (those script
  // the offline model and say nothing about the task).
  std::string_view line;
  for (std::string_view rest = prompt; !rest.empty();) {
    const size_t eol = rest.find('\n');
    std::string_view candidate = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (!candidate.empty() && candidate.back() == '\r') candidate.remove_suffix(1);
    const size_t start = candidate.find_first_not_of(" \t");
    if (start == std::string_view::npos || candidate.substr(start).rfind("#mock", 0) == 0) continue;
    line = candidate;
    break;
  }
  if (line.empty()) {
    line = prompt.substr(0, prompt.find('\n'));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  }
  // Byte offset after each of the first 57 and 60 characters.
  size_t chars = 0;
  size_t end57 = line.size();
  for (size_t i = 0; i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (chars == 57) end57 = i;
    if (chars == 60) return std::string(line.substr(0, end57)) + "...";
    ++chars;
  }
  return std::string(line);
}

std::optional<ApiError> CheckJsonContentType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) {
    type.remove_suffix(1);
  }
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front()))) {
    type.remove_prefix(1);
  }
  const std::string lower = AsciiLowercase(type);
  if (content_type.empty() || lower == "application/json") return std::nullopt;
  ApiError e;
  e.status = 415;
  e.code = "unsupported_media_type";
  e.expected = "application/json";
  e.got = QuoteForError(content_type);
  e.message = "Content-Type: expected application/json, got " + e.got;
  return e;
}

Parsed<json> ParseJsonObject(std::string_view body, bool required) {
  if (IsBlank(body)) {
    if (!required) return json::object();
    return InvalidJson("request body is empty; expected a JSON object");
  }
  if (JsonNestingDepth(body, kMaxJsonDepth) > kMaxJsonDepth) {
    return InvalidJson(fmt::format(
        "request body is nested deeper than {} levels; expected a JSON object", kMaxJsonDepth));
  }
  json value;
  try {
    value = json::parse(body.begin(), body.end());
  } catch (const json::parse_error& e) {
    return InvalidJson(fmt::format("request body is not valid JSON at byte {}: {}", e.byte,
                                   ParseErrorText(e.what())));
  } catch (const json::exception& e) {
    return InvalidJson(fmt::format("request body is not valid JSON: {}", ParseErrorText(e.what())));
  }
  if (!value.is_object()) {
    ApiError e;
    e.status = 400;
    e.code = "invalid_argument";
    e.expected = "a JSON object";
    e.got = Describe(value);
    e.message = "request body: expected a JSON object, got " + e.got;
    return e;
  }
  return value;
}

Parsed<LaunchBody> ParseLaunchBody(std::string_view body, const LaunchDefaults& defaults) {
  static const std::vector<std::string> kFields = {
      "prompt",    "agent",   "description", "model",        "session_id",        "workspace",
      "owner",     "wait_ms", "max_tokens",  "max_cost_usd", "tree_max_cost_usd", "tree_max_tasks",
      "isolation", "base"};
  Parsed<json> parsed = ParseJsonObject(body, /*required=*/true);
  if (!parsed.ok()) return parsed.error();
  const json& o = parsed.value();
  if (auto e = CheckFieldNames(o, kFields)) return *e;

  LaunchBody out;
  LaunchRequest& r = out.request;
  if (FieldOf(o, "prompt") == nullptr) {
    return ApiError::BadField("prompt", "a non-empty string", "nothing");
  }
  if (auto e = ReadString(o, "prompt", true, &r.prompt)) return *e;
  if (auto e = ReadString(o, "agent", true, &r.agent, "an agent name")) return *e;
  if (auto e = ReadString(o, "description", false, &r.description)) return *e;
  if (auto e = ReadModels(o, &r)) return *e;
  if (auto e = ReadString(o, "session_id", true, &r.session_id, "a session id")) return *e;
  if (auto e = ReadString(o, "workspace", true, &r.workspace,
                          "an absolute path to an existing directory")) {
    return *e;
  }
  if (auto e = ReadString(o, "owner", false, &r.owner)) return *e;
  // Isolation (docs/HTTP_API.md): the engine checks the values, so every facade says the same.
  if (auto e = ReadString(o, "isolation", true, &r.isolation, "\"none\" or \"worktree\"")) {
    return *e;
  }
  if (auto e = ReadString(o, "base", true, &r.base, "a git commit, branch or tag")) return *e;
  if (const json* w = FieldOf(o, "wait_ms")) {
    int64_t ms = 0;
    if (auto e = ReadInt(*w, "wait_ms", 0, defaults.max_wait_ms, &ms)) return *e;
    out.wait_ms = ms;
  }
  // Budgets (docs/CONFIG.md "Budgets"): they can only lower the configured ones.
  if (const json* v = FieldOf(o, "max_tokens")) {
    int64_t n = 0;
    if (auto e = ReadInt(*v, "max_tokens", 1, kMaxLaunchTokens, &n)) return *e;
    r.max_tokens = n;
  }
  if (const json* v = FieldOf(o, "max_cost_usd")) {
    double usd = 0;
    if (auto e = ReadUsd(*v, "max_cost_usd", kMaxLaunchUsd, &usd)) return *e;
    r.max_cost_usd = usd;
  }
  if (const json* v = FieldOf(o, "tree_max_cost_usd")) {
    double usd = 0;
    if (auto e = ReadUsd(*v, "tree_max_cost_usd", kMaxLaunchUsd, &usd)) return *e;
    r.tree_max_cost_usd = usd;
  }
  if (const json* v = FieldOf(o, "tree_max_tasks")) {
    int64_t n = 0;
    if (auto e = ReadInt(*v, "tree_max_tasks", 0, kMaxLaunchTreeTasks, &n)) return *e;
    r.tree_max_tasks = static_cast<int>(n);
  }
  if (!r.session_id.empty() && (r.tree_max_cost_usd || r.tree_max_tasks)) {
    return ApiError::BadField(r.tree_max_cost_usd ? "tree_max_cost_usd" : "tree_max_tasks",
                              "no tree budget with session_id (a tree's budgets are set when its "
                              "first task is launched)",
                              "a tree budget");
  }

  if (!r.workspace.empty()) {
    if (!r.session_id.empty()) {
      return ApiError::BadField("workspace",
                                "no workspace with session_id (a continued session "
                                "keeps its workspace)",
                                QuoteForError(r.workspace));
    }
    const std::filesystem::path path(r.workspace);
    std::error_code ec;
    if (!path.is_absolute()) {
      return ApiError::BadField("workspace", "an absolute path to an existing directory",
                                QuoteForError(r.workspace));
    }
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) {
      return ApiError::BadField("workspace", "an existing directory",
                                QuoteForError(r.workspace) + " (does not exist)");
    }
    if (!std::filesystem::is_directory(status)) {
      return ApiError::BadField("workspace", "a directory",
                                QuoteForError(r.workspace) + " (not a directory)");
    }
  }
  if (r.agent.empty() && r.session_id.empty()) r.agent = defaults.agent;
  if (r.description.empty()) r.description = DefaultDescription(r.prompt);
  if (r.owner.empty()) r.owner = defaults.owner;
  return out;
}

Parsed<WaitBody> ParseWaitBody(std::string_view body, int64_t max_wait_ms) {
  static const std::vector<std::string> kFields = {"task_ids", "mode", "timeout_ms"};
  Parsed<json> parsed = ParseJsonObject(body, /*required=*/true);
  if (!parsed.ok()) return parsed.error();
  const json& o = parsed.value();
  if (auto e = CheckFieldNames(o, kFields)) return *e;

  WaitBody out;
  const char* kIdsExpected = "a non-empty array of task ids";
  const json* ids = FieldOf(o, "task_ids");
  if (ids == nullptr) return ApiError::BadField("task_ids", kIdsExpected, "nothing");
  if (!ids->is_array()) return ApiError::BadField("task_ids", kIdsExpected, Describe(*ids));
  if (ids->empty()) return ApiError::BadField("task_ids", kIdsExpected, "an empty array");
  for (size_t i = 0; i < ids->size(); ++i) {
    const json& id = (*ids)[i];
    if (!id.is_string() || id.get_ref<const std::string&>().empty()) {
      return ApiError::BadField(fmt::format("task_ids[{}]", i), "a task id (non-empty string)",
                                Describe(id));
    }
    out.task_ids.push_back(id.get<std::string>());
  }
  if (const json* mode = FieldOf(o, "mode")) {
    const char* kModeExpected = "\"any\" or \"all\"";
    if (!mode->is_string()) return ApiError::BadField("mode", kModeExpected, Describe(*mode));
    const std::string& m = mode->get_ref<const std::string&>();
    if (m == "any") {
      out.mode = WaitMode::kAny;
    } else if (m == "all") {
      out.mode = WaitMode::kAll;
    } else {
      return ApiError::BadField("mode", kModeExpected, QuoteForError(m));
    }
  }
  if (const json* t = FieldOf(o, "timeout_ms")) {
    if (auto e = ReadInt(*t, "timeout_ms", 0, max_wait_ms, &out.timeout_ms)) return *e;
  }
  return out;
}

Parsed<CancelBody> ParseCancelBody(std::string_view body) {
  static const std::vector<std::string> kFields = {"reason"};
  Parsed<json> parsed = ParseJsonObject(body, /*required=*/false);
  if (!parsed.ok()) return parsed.error();
  if (auto e = CheckFieldNames(parsed.value(), kFields)) return *e;
  CancelBody out;
  if (auto e = ReadString(parsed.value(), "reason", false, &out.reason)) return *e;
  return out;
}

Parsed<CancelAllBody> ParseCancelAllBody(std::string_view body) {
  static const std::vector<std::string> kFields = {"all", "owner", "root"};
  Parsed<json> parsed = ParseJsonObject(body, /*required=*/true);
  if (!parsed.ok()) return parsed.error();
  const json& o = parsed.value();
  if (auto e = CheckFieldNames(o, kFields)) return *e;
  CancelAllBody out;
  if (auto e = ReadString(o, "root", false, &out.root)) return *e;
  const json* all = FieldOf(o, "all");
  // A tree ({"root": …}) needs no "all"; otherwise "all": true says it is meant.
  if (all == nullptr && out.root.empty()) return ApiError::BadField("all", "true", "nothing");
  if (all != nullptr && (!all->is_boolean() || !all->get<bool>())) {
    return ApiError::BadField("all", "true", all->is_boolean() ? "false" : Describe(*all));
  }
  if (auto e = ReadString(o, "owner", false, &out.owner)) return *e;
  return out;
}

Parsed<bool> ParseEmptyBody(std::string_view body) {
  Parsed<json> parsed = ParseJsonObject(body, /*required=*/false);
  if (!parsed.ok()) return parsed.error();
  const json& o = parsed.value();
  if (!o.empty()) return UnknownField(o.begin().key(), "no fields");
  return true;
}

std::optional<ApiError> CheckQueryNames(const QueryMap& query,
                                        const std::vector<std::string>& known) {
  for (const auto& [key, value] : query) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return UnknownField(key, known.empty() ? "no query parameters" : "one of " + JoinComma(known),
                          "query parameter");
    }
  }
  return std::nullopt;
}

Parsed<TaskFilter> ParseTaskQuery(const QueryMap& query) {
  static const std::vector<std::string> kParams = {"status", "parent", "session", "owner",
                                                   "root",   "before", "order",   "limit"};
  if (auto e = CheckQueryNames(query, kParams)) return *e;
  TaskFilter filter;
  if (auto it = query.find("status"); it != query.end()) {
    const std::string expected =
        "comma-separated states (" + JoinComma(StateNames()) + ") or active";
    const std::string& text = it->second;
    size_t start = 0;
    while (true) {
      const size_t comma = text.find(',', start);
      const std::string name =
          text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      auto add = [&](TaskState s) {
        if (std::find(filter.states.begin(), filter.states.end(), s) == filter.states.end()) {
          filter.states.push_back(s);
        }
      };
      if (name == "active") {
        add(TaskState::kPending);
        add(TaskState::kRunning);
      } else if (auto state = ParseTaskState(name)) {
        add(*state);
      } else {
        return ApiError::BadField("status", expected, QuoteForError(name));
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (auto it = query.find("parent"); it != query.end()) filter.parent_session_id = it->second;
  if (auto it = query.find("session"); it != query.end()) filter.session_id = it->second;
  if (auto it = query.find("owner"); it != query.end()) filter.owner = it->second;
  if (auto it = query.find("root"); it != query.end()) filter.root_session_id = it->second;
  if (auto it = query.find("before"); it != query.end() && it->second.empty()) {
    return ApiError::BadField("before", "a task id (bg_…)", "\"\"");
  }
  if (auto it = query.find("order"); it != query.end()) {
    if (it->second != "oldest" && it->second != "newest") {
      return ApiError::BadField("order", "oldest or newest", QuoteForError(it->second));
    }
  }
  if (auto it = query.find("limit"); it != query.end()) {
    int64_t limit = 0;
    if (auto e = ReadQueryInt(it->second, "limit", 1, kMaxListLimit, &limit)) return *e;
    filter.limit = static_cast<int>(limit);
  }
  return filter;
}

TaskPaging TaskPagingOf(const QueryMap& query) {
  TaskPaging paging;
  if (auto it = query.find("before"); it != query.end()) paging.before = it->second;
  if (auto it = query.find("order"); it != query.end()) paging.newest_first = it->second == "newest";
  return paging;
}

Parsed<std::optional<int64_t>> ParseWaitMs(const QueryMap& query, int64_t max_wait_ms) {
  if (auto e = CheckQueryNames(query, {"wait_ms"})) return *e;
  auto it = query.find("wait_ms");
  if (it == query.end()) return std::optional<int64_t>();
  int64_t ms = 0;
  if (auto e = ReadQueryInt(it->second, "wait_ms", 0, max_wait_ms, &ms)) return *e;
  return std::optional<int64_t>(ms);
}

Parsed<int64_t> ParseMessagesQuery(const QueryMap& query) {
  if (auto e = CheckQueryNames(query, {"after"})) return *e;
  auto it = query.find("after");
  if (it == query.end()) return int64_t{0};
  int64_t after = 0;
  if (auto e = ReadQueryInt(it->second, "after", 0, INT64_MAX, &after,
                            "a sequence number (an integer from 0)"))
    return *e;
  return after;
}

}  // namespace troupe
