#include "llm/mock_agent.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "core/text_case.h"
#include "llm/json_fields.h"
#include "llm/mock_tool_output.h"

namespace troupe {

namespace {

using json = nlohmann::json;

constexpr size_t kMaxKeywords = 8;
constexpr size_t kGrepKeywords = 3;
constexpr size_t kMaxPhraseBytes = 80;
constexpr size_t kQuoteBytes = 100;

// Words that say what to do rather than what to look for.
const std::set<std::string, std::less<>>& StopWords() {
  static const auto* const words = new std::set<std::string, std::less<>>{
      "about",       "above",  "after",   "again",   "against", "all",        "also",
      "and",         "any",    "are",     "around",  "because", "been",       "before",
      "being",       "below",  "between", "both",    "but",     "can",        "code",
      "codebase",    "could",  "did",     "does",    "doing",   "done",       "down",
      "during",      "each",   "explain", "few",     "file",    "files",      "find",
      "for",         "from",   "further", "get",     "give",    "has",        "have",
      "having",      "her",    "here",    "him",     "his",     "how",        "implement",
      "implemented", "into",   "its",     "itself",  "just",    "let",        "like",
      "list",        "locate", "look",    "made",    "make",    "many",       "may",
      "more",        "most",   "much",    "must",    "need",    "not",        "now",
      "off",         "once",   "only",    "other",   "our",     "out",        "over",
      "own",         "please", "project", "really",  "repo",    "repository", "same",
      "search",      "see",    "she",     "should",  "show",    "some",       "such",
      "tell",        "than",   "that",    "the",     "their",   "them",       "then",
      "there",       "these",  "they",    "thing",   "things",  "this",       "those",
      "through",     "too",    "under",   "until",   "use",     "used",       "uses",
      "using",       "very",   "want",    "was",     "way",     "were",       "what",
      "when",        "where",  "which",   "while",   "who",     "whom",       "why",
      "will",        "with",   "would",   "you",     "your",    "defined",    "define",
      "defines",     "work",   "works",   "working", "happens", "summarize",  "summarise",
      "describe",    "check",  "inside",  "within",  "across",  "whether",    "know",
      "think",       "write",  "answer",  "report"};
  return *words;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsPathChar(char c) { return IsWordChar(c) || c == '.' || c == '/' || c == '-'; }

struct Candidate {
  std::string text;
  int score = 0;  // 3 quoted, 2 identifier or file name, 1 word
  size_t position = 0;
};

// A word that names something in code: snake_case, camelCase / PascalCase with an inner
// capital, or letters with digits.
bool IsIdentifier(std::string_view w) {
  bool has_alpha = false;
  bool has_digit = false;
  for (size_t i = 0; i < w.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(w[i]);
    if (w[i] == '_' && i > 0 && i + 1 < w.size()) return true;
    if (i > 0 && std::isupper(c) && std::islower(static_cast<unsigned char>(w[i - 1]))) {
      return true;
    }
    has_alpha |= std::isalpha(c) != 0;
    has_digit |= std::isdigit(c) != 0;
  }
  return has_alpha && has_digit;
}

// Adds the word `w` (from a run of path characters) at `position`.
void AddWord(std::string_view w, size_t position, std::vector<Candidate>* out) {
  while (!w.empty() && !IsWordChar(w.back())) w.remove_suffix(1);
  while (!w.empty() && !IsWordChar(w.front())) w.remove_prefix(1);
  int score = 1;
  const bool path_like = w.find('/') != std::string_view::npos ||
                         (w.find('.') != std::string_view::npos && w.find('.') > 0);
  if (path_like) {
    // A path or file name: its base name without the extension names the thing.
    w = w.substr(w.rfind('/') == std::string_view::npos ? 0 : w.rfind('/') + 1);
    const size_t dot = w.rfind('.');
    if (dot != std::string_view::npos && dot > 0) w = w.substr(0, dot);
    score = 2;
  }
  // What is left may still hold '.', '-' or '/' ("a.b.c"): take its word runs separately.
  size_t i = 0;
  while (i < w.size()) {
    while (i < w.size() && !IsWordChar(w[i])) ++i;
    const size_t start = i;
    while (i < w.size() && IsWordChar(w[i])) ++i;
    const std::string_view word = w.substr(start, i - start);
    if (word.size() < 3) continue;
    if (std::all_of(word.begin(), word.end(), [](char c) { return std::isdigit(c) != 0; })) {
      continue;
    }
    if (StopWords().count(AsciiLowercase(word))) continue;
    out->push_back({std::string(word), std::max(score, IsIdentifier(word) ? 2 : 1), position});
  }
}

std::string EscapeRegex(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// "TaskManager" -> "task_manager": how such a name is spelled in file names.
std::string FileNameForm(std::string_view keyword) {
  std::string out;
  for (size_t i = 0; i < keyword.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(keyword[i]);
    if (i > 0 && std::isupper(c) && std::islower(static_cast<unsigned char>(keyword[i - 1]))) {
      out += '_';
    }
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

const ToolSpec* FindTool(const ChatRequest& request, std::string_view name) {
  if (request.tool_choice == "none") return nullptr;
  for (const ToolSpec& tool : request.tools) {
    if (AsciiLowercase(tool.name) == name) return &tool;
  }
  return nullptr;
}

// The schema's declared properties, or nullptr when it declares none (then the documented
// argument names are assumed).
const json* Properties(const ToolSpec& tool) {
  if (!tool.input_schema.is_object()) return nullptr;
  const json* properties = json_fields::Find(tool.input_schema, "properties");
  return properties && properties->is_object() ? properties : nullptr;
}

bool Declares(const ToolSpec& tool, const char* property) {
  const json* properties = Properties(tool);
  return !properties || properties->contains(property);
}

// The name of a boolean property that makes a search case-insensitive ("-i", "ignore_case").
std::optional<std::string> CaseInsensitiveFlag(const ToolSpec& tool) {
  const json* properties = Properties(tool);
  if (!properties) return std::nullopt;
  for (const auto& [name, schema] : properties->items()) {
    std::string key;
    for (char c : AsciiLowercase(name)) {
      if (c != '-' && c != '_') key += c;
    }
    const bool boolean = schema.is_object() && schema.value("type", json()) == "boolean";
    if (boolean && (key == "i" || key == "ignorecase" || key == "caseinsensitive" ||
                    key == "insensitive" || key == "icase" || key == "nocase")) {
      return name;
    }
  }
  return std::nullopt;
}

ToolCall MakeCall(const ToolSpec& tool, const json& arguments) {
  return {"", tool.name, arguments.dump(-1, ' ', false, json::error_handler_t::replace)};
}

// Text safe inside `...` on one line.
std::string Code(std::string_view text) {
  std::string out = json_fields::Snippet(text, kQuoteBytes);
  std::replace(out.begin(), out.end(), '`', '\'');
  std::replace(out.begin(), out.end(), '\t', ' ');
  return "`" + out + "`";
}

std::string JoinCode(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += Code(items[i]);
  }
  return out;
}

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// The tool calls of assistant messages since the prompt, by id.
const ToolCall* FindCall(const ChatRequest& request, size_t from, const std::string& id) {
  for (size_t i = from; i < request.messages.size(); ++i) {
    for (const ToolCall& call : request.messages[i].tool_calls) {
      if (call.id == id) return &call;
    }
  }
  return nullptr;
}

// What a call asked for, for the summary: "grep `a|b`", "read `src/x.cc`".
std::string DescribeCall(const std::string& name, const std::string& arguments_json) {
  Result<json> args = json_fields::ParseJson(arguments_json);
  std::string detail;
  if (args.ok() && args->is_object()) {
    for (const char* key : {"pattern", "path", "command", "query"}) {
      const json* value = json_fields::Find(*args, key);
      if (value && value->is_string()) {
        detail = value->get<std::string>();
        break;
      }
    }
  }
  return detail.empty() ? Code(name) : name + " " + Code(detail);
}

void SummariseSearch(const MockToolOutput& out, const std::string& what, std::string* text) {
  if (out.match_count > 0) {
    *text += "- " + what + ": " + Plural(out.match_count, "matching line", "matching lines") +
             " in " + Plural(out.file_count, "file", "files") + ".\n";
    for (size_t i = 0; i < out.matches.size() && i < 5; ++i) {
      const MockToolMatch& m = out.matches[i];
      *text += "  - " + Code(m.path + ":" + std::to_string(m.line)) + ": " +
               Code(MockTrimmed(m.text)) + "\n";
    }
    if (out.match_count > 5) {
      *text += "  - … and " + Plural(out.match_count - 5, "more line", "more lines") + "\n";
    }
  } else if (out.file_count > 0) {
    const std::vector<std::string> shown(out.files.begin(),
                                         out.files.begin() + std::min<size_t>(8, out.files.size()));
    *text += "- " + what + ": " + Plural(out.file_count, "file", "files") + ": " + JoinCode(shown) +
             (out.file_count > shown.size() ? ", …" : "") + ".\n";
  } else if (out.first_lines.empty()) {
    *text += "- " + what + ": nothing found.\n";
  } else {
    *text += "- " + what + ": " + Code(out.first_lines.front()) + "\n";
  }
}

void SummariseRead(const MockToolOutput& out, const std::string& what, std::string* text) {
  *text += "- " + what + ": " + Plural(out.line_count, "line", "lines");
  if (!out.declarations.empty()) {
    *text += "; it defines:\n";
    for (size_t i = 0; i < out.declarations.size() && i < 6; ++i) {
      const MockToolMatch& d = out.declarations[i];
      *text += "  - line " + std::to_string(d.line) + ": " + Code(MockTrimmed(d.text)) + "\n";
    }
  } else if (!out.first_lines.empty()) {
    *text += "; it begins:\n";
    for (size_t i = 0; i < out.first_lines.size() && i < 3; ++i) {
      *text += "  - " + Code(out.first_lines[i]) + "\n";
    }
  } else {
    *text += ".\n";
  }
}

bool OffersSearchTools(const ChatRequest& request) {
  for (const char* name : {"grep", "glob", "list", "read"}) {
    if (FindTool(request, name)) return true;
  }
  return false;
}

std::string Restatement(const ChatRequest& request, std::string_view prompt) {
  std::string collapsed;
  for (char c : MockTrimmed(prompt)) {
    const bool blank = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (blank && (collapsed.empty() || collapsed.back() == ' ')) continue;
    collapsed += blank ? ' ' : c;
  }
  const std::vector<std::string> keywords = MockKeywords(prompt);
  std::string text =
      "(offline mock model) You asked: \"" + json_fields::Snippet(collapsed, 200) + "\".\n\n";
  const bool tools = OffersSearchTools(request);
  if (keywords.empty()) {
    text += tools ? "I found no keywords in it to search for, so I did not call any tool."
                  : "I found no keywords in it.";
  } else {
    text += "The keywords I picked out: " + JoinCode(keywords) + ".";
  }
  if (!tools) {
    text +=
        " No search tools were offered, so I cannot look anything up; this reply only "
        "restates the request.";
  } else if (!keywords.empty()) {
    text += " The search tools gave me nothing to summarise.";
  }
  return text;
}

}  // namespace

bool IsSystemReminder(const ChatMessage& message) {
  std::string_view text = message.text;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text.starts_with("<system-reminder>") && text.ends_with("</system-reminder>");
}

size_t MockFirstMessageAfterPrompt(const ChatRequest& request) {
  for (size_t i = request.messages.size(); i > 0; --i) {
    const ChatMessage& m = request.messages[i - 1];
    if (m.role == ChatRole::kUser && !IsSystemReminder(m)) return i;
  }
  return 0;
}

std::vector<std::string> MockKeywords(std::string_view prompt) {
  std::vector<Candidate> candidates;
  size_t i = 0;
  while (i < prompt.size()) {
    const char c = prompt[i];
    if (c == '"' || c == '`') {
      const size_t end = prompt.find(c, i + 1);
      if (end != std::string_view::npos && end > i + 1 && end - i - 1 <= kMaxPhraseBytes &&
          prompt.substr(i + 1, end - i - 1).find('\n') == std::string_view::npos) {
        const std::string phrase = MockTrimmed(prompt.substr(i + 1, end - i - 1));
        if (phrase.size() >= 3) candidates.push_back({phrase, 3, i});
        i = end + 1;
        continue;
      }
    }
    if (IsPathChar(c)) {
      const size_t start = i;
      while (i < prompt.size() && IsPathChar(prompt[i])) ++i;
      AddWord(prompt.substr(start, i - start), start, &candidates);
      continue;
    }
    ++i;
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  std::vector<std::string> keywords;
  std::set<std::string> seen;
  for (Candidate& candidate : candidates) {
    if (keywords.size() == kMaxKeywords) break;
    if (seen.insert(AsciiLowercase(candidate.text)).second) keywords.push_back(std::move(candidate.text));
  }
  return keywords;
}

MockAgentTurn MockAgentNextTurn(const ChatRequest& request, std::string_view prompt) {
  const size_t after = MockFirstMessageAfterPrompt(request);
  bool has_results = false;
  bool has_read = false;
  for (size_t i = after; i < request.messages.size(); ++i) {
    const ChatMessage& m = request.messages[i];
    has_results |= m.role == ChatRole::kTool;
    for (const ToolCall& call : m.tool_calls) has_read |= AsciiLowercase(call.name) == "read";
  }
  MockAgentTurn turn;
  if (!has_results) {
    const std::vector<std::string> keywords = MockKeywords(prompt);
    if (keywords.empty()) return {{}, MockAgentAnswer(request, prompt)};
    if (const ToolSpec* grep = FindTool(request, "grep"); grep && Declares(*grep, "pattern")) {
      std::string pattern;
      for (size_t k = 0; k < keywords.size() && k < kGrepKeywords; ++k) {
        if (k > 0) pattern += '|';
        pattern += EscapeRegex(keywords[k]);
      }
      json args = {{"pattern", pattern}};
      if (std::optional<std::string> flag = CaseInsensitiveFlag(*grep)) args[*flag] = true;
      turn.tool_calls.push_back(MakeCall(*grep, args));
    }
    if (const ToolSpec* glob = FindTool(request, "glob"); glob && Declares(*glob, "pattern")) {
      const auto single = std::find_if(keywords.begin(), keywords.end(), [](const auto& k) {
        return std::all_of(k.begin(), k.end(), IsWordChar);
      });
      if (single != keywords.end()) {
        turn.tool_calls.push_back(
            MakeCall(*glob, {{"pattern", "**/*" + FileNameForm(*single) + "*"}}));
      }
    }
    if (turn.tool_calls.empty()) {
      if (const ToolSpec* list = FindTool(request, "list")) {
        turn.tool_calls.push_back(MakeCall(*list, json::object()));
      }
    }
    if (turn.tool_calls.empty()) turn.text = MockAgentAnswer(request, prompt);
    return turn;
  }
  if (const ToolSpec* read = FindTool(request, "read");
      read && !has_read && Declares(*read, "path")) {
    for (size_t i = after; i < request.messages.size(); ++i) {
      const ChatMessage& m = request.messages[i];
      if (m.role != ChatRole::kTool || m.is_error) continue;
      const MockToolOutput out = ReadMockToolOutput(m.text);
      if (!out.files.empty()) {
        turn.tool_calls.push_back(MakeCall(*read, {{"path", out.files.front()}}));
        return turn;
      }
    }
  }
  turn.text = MockAgentAnswer(request, prompt);
  return turn;
}

std::string MockAgentAnswer(const ChatRequest& request, std::string_view prompt) {
  const size_t after = MockFirstMessageAfterPrompt(request);
  std::string body;
  std::string most_relevant;
  for (size_t i = after; i < request.messages.size(); ++i) {
    const ChatMessage& m = request.messages[i];
    if (m.role != ChatRole::kTool) continue;
    const ToolCall* call = FindCall(request, after, m.tool_call_id);
    const std::string name = call ? call->name : m.tool_name.empty() ? "tool" : m.tool_name;
    const std::string what = DescribeCall(name, call ? call->arguments_json : "");
    const MockToolOutput out = ReadMockToolOutput(m.text);
    const std::string kind = AsciiLowercase(name);
    if (m.is_error) {
      body += "- " + what + " failed: " +
              Code(out.first_lines.empty() ? "(no message)" : out.first_lines.front()) + "\n";
    } else if (kind == "read") {
      SummariseRead(out, what, &body);
    } else if (kind == "grep" || kind == "glob" || kind == "list" || out.file_count > 0) {
      SummariseSearch(out, what, &body);
    } else {
      body += "- " + what + ": " + Plural(out.line_count, "line", "lines") +
              (out.first_lines.empty() ? ".\n" : ", starting " + Code(out.first_lines[0]) + "\n");
    }
    if (most_relevant.empty() && !m.is_error && kind != "read" && !out.files.empty()) {
      most_relevant = out.files.front();
    }
  }
  if (body.empty()) return Restatement(request, prompt);
  const std::vector<std::string> keywords = MockKeywords(prompt);
  std::string text = keywords.empty() ? "Here is what the tools returned"
                                      : "Here is what I found about " + JoinCode(keywords);
  text += " (offline mock model: a summary of the tool results, not an analysis).\n\n" + body;
  if (!most_relevant.empty())
    text += "\nThe most relevant file looks like " + Code(most_relevant) + ".";
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace troupe
