// Over 600 lines on purpose: an agent file is read by one parser (AgentFileParser) that walks
// its front matter key by key with one set of position-aware helpers, and gathers every error
// with the file, line and column of the value; split per key, each part would need them.

#include "agent/agent_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include "config/config_keys.h"
#include "config/message_text.h"
#include "core/text_case.h"
#include "core/text_trim.h"
#include "core/utf8.h"

namespace troupe {

namespace {

// The front matter's first line is the file's second: a YAML mark's 0-based line plus this is
// the file's 1-based line.
constexpr int kYamlLineOffset = 2;
constexpr size_t kMaxDescriptionChars = 1024;
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

enum class Key {
  kName,
  kDescription,
  kModel,
  kTools,
  kMaxTurns,
  kMaxToolCalls,
  kTemperature,
  kMaxOutputTokens,
  kThinkingBudget,
  kReasoningEffort,
  kPromptCaching,
  kMaxTokens,
  kMaxCostUsd,
  kTaskTtlMs,
  kPendingTtlMs,
  kStaleTimeoutMs,
  kFallbackModels,
  kLoopRepeats,
  kLoopIdleTurns,
  kIsolation,
};

struct KeyInfo {
  Key key;
  std::string_view name;
};

constexpr KeyInfo kKeys[] = {
    {Key::kName, "name"},
    {Key::kDescription, "description"},
    {Key::kModel, "model"},
    {Key::kTools, "tools"},
    {Key::kMaxTurns, "max_turns"},
    {Key::kMaxToolCalls, "max_tool_calls"},
    {Key::kTemperature, "temperature"},
    {Key::kMaxOutputTokens, "max_output_tokens"},
    {Key::kThinkingBudget, "thinking_budget"},
    {Key::kReasoningEffort, "reasoning_effort"},
    {Key::kPromptCaching, "prompt_caching"},
    {Key::kMaxTokens, "max_tokens"},
    {Key::kMaxCostUsd, "max_cost_usd"},
    {Key::kTaskTtlMs, "task_ttl_ms"},
    {Key::kPendingTtlMs, "pending_ttl_ms"},
    {Key::kStaleTimeoutMs, "stale_timeout_ms"},
    {Key::kFallbackModels, "fallback_models"},
    {Key::kLoopRepeats, "loop_repeats"},
    {Key::kLoopIdleTurns, "loop_idle_turns"},
    {Key::kIsolation, "isolation"},
};

const KeyInfo* FindKey(std::string_view written) {
  const std::string folded = FoldIdentifier(written);
  for (const KeyInfo& info : kKeys) {
    if (FoldIdentifier(info.name) == folded) return &info;
  }
  return nullptr;
}

std::vector<std::string> KeyNames() {
  std::vector<std::string> names;
  for (const KeyInfo& info : kKeys) names.emplace_back(info.name);
  return names;
}

// Every run of whitespace (line breaks included) as one space, none at the ends.
std::string CollapseWhitespace(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : TrimAsciiSpace(s)) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// A YAML value as a message shows it: "many", a list, a mapping, nothing.
std::string Describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "\"" + Snippet(node.Scalar()) + "\"";
}

int LineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + kYamlLineOffset;
}

enum class IntegerCheck { kOk, kNotPositive, kTooLarge };

// Parses a whole scalar as an integer in [1, maximum] into *value.
IntegerCheck ParsePositiveInteger(const YAML::Node& node, int64_t maximum, int64_t* value) {
  if (!node.IsScalar()) return IntegerCheck::kNotPositive;
  const std::string_view s = TrimAsciiSpace(node.Scalar());
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), *value);
  if (s.empty() || end != s.data() + s.size()) return IntegerCheck::kNotPositive;
  if (error == std::errc::result_out_of_range) {
    return s.front() == '-' ? IntegerCheck::kNotPositive : IntegerCheck::kTooLarge;
  }
  if (error != std::errc() || *value < 1) return IntegerCheck::kNotPositive;
  return *value > maximum ? IntegerCheck::kTooLarge : IntegerCheck::kOk;
}

// A whole scalar as a finite number.
std::optional<double> ParseNumber(const YAML::Node& node) {
  double d = 0;
  const std::string_view text = node.IsScalar() ? TrimAsciiSpace(node.Scalar()) : "";
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(d)) {
    return std::nullopt;
  }
  return d;
}

class AgentFileParser {
 public:
  AgentFileParser(std::string_view path, AgentOrigin origin) : path_(path) {
    file_.definition.source = {origin, std::string(path)};
  }

  Result<AgentFile> Parse(std::string_view raw) {
    std::string text = Normalize(raw);
    if (errors_.empty()) {
      std::string_view header;
      std::string_view body;
      if (Split(text, &header, &body)) {
        ParseHeader(header);
        CheckModelNotAFallback();
        SetBody(body);
      }
    }
    if (!errors_.empty()) {
      std::string message;
      for (const std::string& error : errors_) {
        if (!message.empty()) message += '\n';
        message += error;
      }
      return Status::InvalidArgument(std::move(message));
    }
    return std::move(file_);
  }

 private:
  std::string Located(int line, std::string_view message) const {
    std::string out = path_;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
    out += message;
    return out;
  }
  void Error(int line, std::string_view message) { errors_.push_back(Located(line, message)); }
  void Warning(int line, std::string_view message) {
    file_.warnings.push_back({AgentDiagnostic::Severity::kWarning, path_, Located(line, message)});
  }

  // Drops a byte order mark and turns CRLF into LF; refuses NUL bytes and ill-formed UTF-8,
  // which would break the JSON the prompt is sent in.
  std::string Normalize(std::string_view raw) {
    if (raw.starts_with(kByteOrderMark)) raw.remove_prefix(kByteOrderMark.size());
    std::string text;
    text.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') continue;
      text += raw[i];
    }
    const std::vector<std::string_view> lines = SplitLines(text);
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].find('\0') != std::string_view::npos) {
        Error(static_cast<int>(i + 1), "contains a NUL byte; an agent file must be text");
        break;
      }
      if (!IsValidUtf8(lines[i])) {
        Error(static_cast<int>(i + 1), "is not valid UTF-8; save the file as UTF-8");
        break;
      }
    }
    return text;
  }

  // Finds the `---` lines; *header is what lies between them, *body what follows.
  bool Split(std::string_view text, std::string_view* header, std::string_view* body) {
    const std::vector<std::string_view> lines = SplitLines(text);
    if (lines.empty() || TrimRightAsciiSpace(lines[0]) != "---") {
      Error(1,
            "expected a front-matter header: the file must begin with a line \"---\", then "
            "YAML keys (description: ..., tools: ...), then another line \"---\", then the "
            "system prompt");
      return false;
    }
    for (size_t i = 1; i < lines.size(); ++i) {
      if (TrimRightAsciiSpace(lines[i]) != "---") continue;
      const size_t header_begin = lines[1].data() - text.data();
      const size_t header_end = lines[i].data() - text.data();
      *header = text.substr(header_begin, header_end - header_begin);
      const size_t body_begin = header_end + lines[i].size();
      *body = body_begin < text.size() ? text.substr(body_begin + 1) : std::string_view();
      return true;
    }
    Error(1,
          "the front-matter header opened here is never closed: add a line \"---\" after "
          "its last key");
    return false;
  }

  void ParseHeader(std::string_view header) {
    // yaml-cpp reports errors by throwing; they stop here and become diagnostics.
    try {
      const YAML::Node root = YAML::Load(std::string(header));
      if (root.IsNull()) {
        Error(1, "the front-matter header is empty; it needs at least `description:`");
        return;
      }
      if (!root.IsMap()) {
        Error(LineOf(root),
              "the front-matter header must be YAML keys and values "
              "(description: ..., tools: ...), got " +
                  Describe(root));
        return;
      }
      ReadKeys(root);
    } catch (const YAML::Exception& e) {
      const int line = e.mark.is_null() ? 0 : e.mark.line + kYamlLineOffset;
      Error(line, "invalid YAML in the front-matter header: " + e.msg);
    } catch (const std::exception& e) {
      Error(0, std::string("cannot read the front-matter header: ") + e.what());
    }
  }

  void ReadKeys(const YAML::Node& root) {
    std::vector<std::pair<Key, int>> seen;  // key, line
    bool has_description = false;
    bool has_tool_calls = false;
    bool has_tools = false;
    bool has_name = false;
    // Dereferencing a yaml-cpp iterator yields a pair by value; keep it alive for the loop body.
    for (const auto& entry : root) {
      const YAML::Node& key = entry.first;
      const YAML::Node& value = entry.second;
      const int line = LineOf(key);
      if (!key.IsScalar()) {
        Error(line, "a front-matter key must be a plain name, got " + Describe(key));
        continue;
      }
      const std::string& written = key.Scalar();
      const KeyInfo* info = FindKey(written);
      if (info == nullptr) {
        std::string message = "unknown key \"" + Snippet(written) + "\" is ignored";
        if (std::optional<std::string> guess = ClosestName(written, KeyNames())) {
          message += " (did you mean \"" + *guess + "\"?)";
        } else {
          message += " (known keys: " + JoinNames(KeyNames()) + ")";
        }
        Warning(line, message);
        continue;
      }
      bool duplicate = false;
      for (const auto& [k, first_line] : seen) {
        if (k != info->key) continue;
        Error(line, std::string(info->name) + ": given twice (first on line " +
                        std::to_string(first_line) + ")");
        duplicate = true;
      }
      if (duplicate) continue;
      seen.emplace_back(info->key, line);
      has_description |= info->key == Key::kDescription;
      has_tool_calls |= info->key == Key::kMaxToolCalls;
      has_tools |= info->key == Key::kTools;
      has_name |= info->key == Key::kName;
      ReadValue(info->key, std::string(info->name), value, line);
    }
    AgentDefinition& d = file_.definition;
    if (!has_description) {
      Error(0,
            "description: required: one line saying what the agent is for (the lead reads it "
            "to choose an agent)");
    }
    if (!has_tools) d.tools = DefaultFileAgentTools();
    if (!has_tool_calls) d.max_tool_calls = d.max_turns * kToolCallsPerTurn;
    if (!has_name) NameFromPath();
  }

  void ReadValue(Key key, const std::string& name, const YAML::Node& value, int line) {
    AgentDefinition& d = file_.definition;
    auto expected = [&](std::string_view what) {
      Error(line, name + ": expected " + std::string(what) + ", got " + Describe(value));
    };
    // Reads a positive integer up to `maximum`; `unit` is for the message.
    auto positive = [&](int64_t maximum, std::string_view unit) -> std::optional<int64_t> {
      int64_t n = 0;
      const IntegerCheck check = ParsePositiveInteger(value, maximum, &n);
      if (check == IntegerCheck::kOk) return n;
      std::string what = "a positive integer";
      if (check == IntegerCheck::kTooLarge) what += " up to " + std::to_string(maximum);
      if (!unit.empty()) what += " (" + std::string(unit) + ")";
      expected(what);
      return std::nullopt;
    };
    auto timeout = [&](std::optional<int64_t>* field) {
      if (std::optional<int64_t> ms = positive(kMaxDurationMs, "milliseconds")) *field = *ms;
    };
    switch (key) {
      case Key::kName: {
        if (!value.IsScalar()) return expected("an agent name");
        const std::string_view text = TrimAsciiSpace(value.Scalar());
        if (Status s = ValidateAgentName(text); !s.ok()) return Error(line, "name: " + s.message());
        d.name = std::string(text);
        return;
      }
      case Key::kDescription: {
        if (!value.IsScalar()) return expected("one line of text");
        d.description = CollapseWhitespace(value.Scalar());
        if (d.description.empty()) return expected("one line of text");
        if (d.description.size() > kMaxDescriptionChars) {
          Error(line, name + ": too long (" + std::to_string(d.description.size()) +
                          " characters; at most " + std::to_string(kMaxDescriptionChars) +
                          "): keep it to one line and put details in the prompt");
        }
        return;
      }
      case Key::kModel: {
        if (!value.IsScalar()) return expected("\"provider/model\" or a model alias");
        const std::string_view text = TrimAsciiSpace(value.Scalar());
        const bool blank = std::any_of(text.begin(), text.end(), [](char c) {
          const auto u = static_cast<unsigned char>(c);
          return std::isspace(u) || std::iscntrl(u);
        });
        if (text.empty() || blank) return expected("\"provider/model\" or a model alias");
        d.model = std::string(text);
        return;
      }
      case Key::kTools:
        return ReadTools(value, line);
      case Key::kMaxTurns:
      case Key::kMaxToolCalls: {
        if (std::optional<int64_t> n = positive(kMaxAgentTurns, "")) {
          (key == Key::kMaxTurns ? d.max_turns : d.max_tool_calls) = static_cast<int>(*n);
        }
        return;
      }
      case Key::kTemperature: {
        std::optional<double> t = ParseNumber(value);
        if (!t || *t < 0 || *t > 2) return expected("a number from 0 to 2");
        d.temperature = *t;
        return;
      }
      case Key::kMaxOutputTokens:
        if (std::optional<int64_t> n = positive(kMaxOutputTokens, "tokens")) {
          d.max_output_tokens = static_cast<int>(*n);
        }
        return;
      case Key::kThinkingBudget: {
        int64_t n = 0;
        if (ParsePositiveInteger(value, kMaxOutputTokens, &n) != IntegerCheck::kOk ||
            n < kMinThinkingBudget) {
          return expected("an integer from " + std::to_string(kMinThinkingBudget) + " to " +
                          std::to_string(kMaxOutputTokens) + " (tokens)");
        }
        d.reasoning.budget_tokens = static_cast<int>(n);
        return;
      }
      case Key::kReasoningEffort: {
        const std::string_view text = value.IsScalar() ? TrimAsciiSpace(value.Scalar()) : "";
        if (!IsReasoningEffort(text)) {
          return expected("one of " + std::string(kReasoningEffortChoices));
        }
        d.reasoning.effort = std::string(text);
        return;
      }
      case Key::kPromptCaching: {
        const std::string text = AsciiLowercase(value.IsScalar() ? value.Scalar() : "");
        if (text != "true" && text != "false") return expected("true or false");
        d.prompt_caching = text == "true";
        return;
      }
      case Key::kMaxTokens:
        if (std::optional<int64_t> n = positive(kMaxBudgetTokens, "tokens")) d.max_tokens = *n;
        return;
      case Key::kMaxCostUsd: {
        std::optional<double> usd = ParseNumber(value);
        if (!usd || *usd <= 0 || *usd > static_cast<double>(kMaxBudgetUsd)) {
          return expected("an amount of USD above 0, at most " + std::to_string(kMaxBudgetUsd));
        }
        d.max_cost_usd = *usd;
        return;
      }
      case Key::kTaskTtlMs:
        return timeout(&d.task_ttl_ms);
      case Key::kPendingTtlMs:
        return timeout(&d.pending_ttl_ms);
      case Key::kStaleTimeoutMs:
        return timeout(&d.stale_timeout_ms);
      case Key::kIsolation: {
        const std::string_view text = value.IsScalar() ? TrimAsciiSpace(value.Scalar()) : "";
        if (!IsAgentIsolation(text)) return expected("none or worktree");
        d.isolation = text == "none" ? "" : std::string(text);
        return;
      }
      case Key::kFallbackModels:
        return ReadFallbackModels(value, line);
      case Key::kLoopRepeats:
      case Key::kLoopIdleTurns: {
        std::optional<int>& field = key == Key::kLoopRepeats ? d.loop_repeats : d.loop_idle_turns;
        if (value.IsScalar() && TrimAsciiSpace(value.Scalar()) == "0") {
          field = 0;  // off
        } else if (std::optional<int64_t> n = positive(kMaxLoopThreshold, "0 = no check")) {
          field = static_cast<int>(*n);
        }
        return;
      }
    }
  }

  // A YAML list of models, or one string of comma-separated ones; each as `model:` takes it.
  void ReadFallbackModels(const YAML::Node& value, int line) {
    std::vector<std::pair<std::string, int>> models;  // name, line
    if (value.IsSequence()) {
      for (const YAML::Node& item : value) {
        models.emplace_back(item.IsScalar() ? std::string(TrimAsciiSpace(item.Scalar())) : "",
                            LineOf(item));
      }
    } else if (value.IsScalar()) {
      std::string_view rest = value.Scalar();
      while (!rest.empty()) {
        const size_t comma = rest.find(',');
        models.emplace_back(std::string(TrimAsciiSpace(rest.substr(0, comma))), line);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else {
      return Error(line,
                   "fallback_models: expected a list of \"provider/model\" names or "
                   "aliases, got " +
                       Describe(value));
    }
    std::vector<std::string>& out = file_.definition.fallback_models;
    out.clear();
    fallback_lines_.clear();
    for (auto& [model, model_line] : models) {
      const bool blank = model.empty() || std::any_of(model.begin(), model.end(), [](char c) {
                           const auto u = static_cast<unsigned char>(c);
                           return std::isspace(u) || std::iscntrl(u);
                         });
      if (blank) {
        Error(model_line > 0 ? model_line : line,
              "fallback_models: expected \"provider/model\" or a model alias for each entry");
        continue;
      }
      // Aliases are resolved later (the launch refuses a model named twice through one); the
      // same name twice is said here, where it is written.
      if (std::find(out.begin(), out.end(), model) != out.end()) {
        Error(model_line > 0 ? model_line : line,
              "fallback_models: \"" + model +
                  "\" is already in the agent's model list; each model "
                  "is tried once");
        continue;
      }
      fallback_lines_.push_back(model_line > 0 ? model_line : line);
      out.push_back(std::move(model));
    }
  }

  // The agent's own model named again among its fallback models (the keys may come in any order).
  void CheckModelNotAFallback() {
    const AgentDefinition& d = file_.definition;
    for (size_t i = 0; i < d.fallback_models.size(); ++i) {
      if (d.model.empty() || d.fallback_models[i] != d.model) continue;
      Error(fallback_lines_[i], "fallback_models: \"" + d.model +
                                    "\" is the agent's model already; each model is tried once");
    }
  }

  // A YAML list of names, or one string of comma-separated names ("Read, Grep" as Claude Code
  // writes them still needs lowercase names; the error suggests them).
  void ReadTools(const YAML::Node& value, int line) {
    std::vector<std::pair<std::string, int>> names;  // name, line
    if (value.IsSequence()) {
      for (const YAML::Node& item : value) {
        if (!item.IsScalar()) {
          Error(LineOf(item), "tools: expected a tool name, got " + Describe(item));
          continue;
        }
        names.emplace_back(std::string(TrimAsciiSpace(item.Scalar())), LineOf(item));
      }
    } else if (value.IsScalar()) {
      std::string_view rest = value.Scalar();
      while (!rest.empty()) {
        const size_t comma = rest.find(',');
        const std::string_view piece = TrimAsciiSpace(rest.substr(0, comma));
        if (!piece.empty()) names.emplace_back(std::string(piece), line);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else {
      Error(line, "tools: expected a list of tool names or a comma-separated string, got " +
                      Describe(value) + " (write [] for no tools)");
      return;
    }
    std::vector<std::string>& tools = file_.definition.tools;
    tools.clear();
    for (auto& [name, name_line] : names) {
      if (!IsBuiltinToolName(name) && !IsMcpToolEntry(name)) {
        Error(name_line > 0 ? name_line : line, "tools: " + UnknownToolMessage(name));
      } else if (std::find(tools.begin(), tools.end(), name) == tools.end()) {
        tools.push_back(std::move(name));
      }
    }
  }

  void NameFromPath() {
    const std::string stem = std::filesystem::path(path_).stem().string();
    if (Status s = ValidateAgentName(stem); !s.ok()) {
      Error(0, "the agent's name comes from the file name, and " + s.message() +
                   ": rename the file or set `name:` in the header");
      return;
    }
    file_.definition.name = stem;
  }

  void SetBody(std::string_view body) {
    // Blank lines between the header and the prompt are layout, not prompt.
    for (size_t eol; (eol = body.find('\n')) != std::string_view::npos &&
                     TrimAsciiSpace(body.substr(0, eol)).empty();) {
      body.remove_prefix(eol + 1);
    }
    body = TrimRightAsciiSpace(body);
    if (TrimAsciiSpace(body).empty()) {
      Error(0,
            "the system prompt is empty: write the agent's instructions below the closing "
            "\"---\" line");
      return;
    }
    file_.definition.system_prompt = std::string(body);
  }

  std::string path_;
  std::vector<std::string> errors_;
  std::vector<int> fallback_lines_;  // the line of each of file_.definition.fallback_models
  AgentFile file_;
};

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

}  // namespace

const std::vector<std::string>& DefaultFileAgentTools() {
  static const std::vector<std::string>* const tools = new std::vector<std::string>{
      "read", "list", "glob", "grep", "edit", "write", "bash", "todo_write", "todo_read"};
  return *tools;
}

Result<AgentFile> ParseAgentFile(std::string_view path, std::string_view text, AgentOrigin origin) {
  return AgentFileParser(path, origin).Parse(text);
}

Result<AgentFile> ReadAgentFile(const std::string& path, AgentOrigin origin) {
  // O_NONBLOCK: a FIFO named foo.md must not hang the loader; fstat refuses it below.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    return Status::IoError(path + ": cannot open the agent file: " + ErrnoText(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int error = errno;
    close(fd);
    return Status::IoError(path + ": cannot read the agent file: " + ErrnoText(error));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return Status::IoError(path + ": not a regular file");
  }
  auto too_large = [&](uint64_t size) {
    return Status::ResourceExhausted(path + ": the agent file is " + std::to_string(size) +
                                     " bytes; the limit is " + std::to_string(kMaxAgentFileBytes) +
                                     " bytes");
  };
  if (static_cast<uint64_t>(st.st_size) > kMaxAgentFileBytes) {
    close(fd);
    return too_large(static_cast<uint64_t>(st.st_size));
  }
  // Read one byte past the limit, in case the file grew since fstat.
  std::string text(kMaxAgentFileBytes + 1, '\0');
  size_t length = 0;
  while (length < text.size()) {
    const ssize_t n = read(fd, text.data() + length, text.size() - length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      close(fd);
      return Status::IoError(path + ": cannot read the agent file: " + ErrnoText(error));
    }
    if (n == 0) break;
    length += static_cast<size_t>(n);
  }
  close(fd);
  if (length > kMaxAgentFileBytes) return too_large(length);
  text.resize(length);
  return ParseAgentFile(path, text, origin);
}

}  // namespace troupe
