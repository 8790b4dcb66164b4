#include "llm/mock_directives.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <utility>

#include "core/text_trim.h"
#include "llm/json_fields.h"

namespace troupe {

namespace {

using StreamFault = MockPlan::StreamFault;

constexpr std::string_view kPrefix = "#mock";
constexpr int64_t kMaxCount = 1'000'000'000;
constexpr int64_t kMaxUsage = 1'000'000'000'000;
constexpr double kMaxTokensPerSecond = 1'000'000;

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The rest of `line` after `#mock` when it is a directive line.
std::optional<std::string_view> DirectiveBody(std::string_view line) {
  line = TrimAsciiSpace(line);
  if (line.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  line.remove_prefix(kPrefix.size());
  if (!line.empty() && !IsBlank(line.front())) return std::nullopt;  // "#mockery"
  return line;
}

// Calls f(line) for each line of `text`, without its '\n'.
template <typename F>
void ForEachLine(std::string_view text, F f) {
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    f(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
}

Status BadItem(std::string_view item, std::string_view expected) {
  return Status::InvalidArgument("mock directive '" + json_fields::Snippet(item, 80) +
                                 "': " + std::string(expected));
}

std::optional<int64_t> ParseCount(std::string_view text, int64_t max) {
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 0 || n > max) {
    return std::nullopt;
  }
  return n;
}

// A non-negative decimal ("12", "1.5"); no sign, exponent, inf or nan.
std::optional<double> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  int dots = 0;
  for (char c : text) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return std::nullopt;
    }
  }
  if (dots > 1 || text == ".") return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// One `key=value` or `flag` item of a directive line.
struct Item {
  std::string_view raw;  // as written, for messages
  std::string_view key;
  std::string value;
  bool has_value = false;
};

// Splits a directive line body into items; see the header for the value syntax.
Result<std::vector<Item>> SplitItems(std::string_view body) {
  std::vector<Item> items;
  size_t i = 0;
  while (true) {
    while (i < body.size() && IsBlank(body[i])) ++i;
    if (i >= body.size()) break;
    const size_t start = i;
    Item item;
    while (i < body.size() && !IsBlank(body[i]) && body[i] != '=') ++i;
    item.key = body.substr(start, i - start);
    if (i < body.size() && body[i] == '=') {
      item.has_value = true;
      ++i;
      if (i < body.size() && body[i] == '"') {
        ++i;
        bool closed = false;
        while (i < body.size()) {
          const char c = body[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\' && i < body.size()) {
            const char e = body[i++];
            item.value += e == 'n' ? '\n' : e == 't' ? '\t' : e;
          } else {
            item.value += c;
          }
        }
        if (!closed) {
          return BadItem(body.substr(start), "the quoted value has no closing '\"'");
        }
      } else {
        // Unquoted: to the next blank, but a {...} or [...] group is taken whole.
        int depth = 0;
        bool in_string = false;
        bool escaped = false;
        while (i < body.size() && (depth > 0 || !IsBlank(body[i]))) {
          const char c = body[i++];
          item.value += c;
          if (in_string) {
            if (escaped) {
              escaped = false;
            } else if (c == '\\') {
              escaped = true;
            } else if (c == '"') {
              in_string = false;
            }
          } else if (c == '"' && depth > 0) {
            in_string = true;
          } else if (c == '{' || c == '[') {
            ++depth;
          } else if ((c == '}' || c == ']') && depth > 0) {
            --depth;
          }
        }
      }
    }
    item.raw = body.substr(start, i - start);
    if (i < body.size() && !IsBlank(body[i])) {
      return BadItem(body.substr(start, i - start + 1),
                     "expected a blank after the value (quote values that contain blanks)");
    }
    if (item.key.empty()) return BadItem(item.raw, "expected key=value");
    items.push_back(std::move(item));
  }
  return items;
}

// The stream-fault keys of one level, assembled into a MockStreamFaultDirective at its end.
struct FaultKeys {
  std::optional<size_t> drop_after;
  std::optional<int64_t> stall_ms;
  std::optional<size_t> stall_after;
  std::optional<size_t> malformed_after;
  std::optional<size_t> truncate_after;
  std::optional<std::string> error_event;
  std::optional<size_t> error_after;
  std::string first_item;  // for messages
};

class LevelParser {
 public:
  Status Add(const Item& item) {
    const std::string_view key = item.key;
    if (key == "hang") {
      if (item.has_value) return BadItem(item.raw, "'hang' takes no value");
      d_.head_delay_ms = kMockHangMs;
      return Status::Ok();
    }
    if (key == "cut_call" || key == "content_parts" || key == "signed_thinking") {
      if (item.has_value) return BadItem(item.raw, "'" + std::string(key) + "' takes no value");
      (key == "cut_call"        ? d_.cut_call
       : key == "content_parts" ? d_.content_parts
                                : d_.signed_thinking) = true;
      return Status::Ok();
    }
    if (!item.has_value) return BadItem(item.raw, "expected key=value");
    if (key == "head_delay") return Duration(item, &d_.head_delay_ms);
    if (key == "latency") return Duration(item, &d_.first_token_delay_ms);
    if (key == "tps") {
      const std::optional<double> tps = ParseDecimal(item.value);
      if (!tps || *tps > kMaxTokensPerSecond) {
        return BadItem(item.raw, "expected a number of tokens per second from 0 to 1000000");
      }
      d_.tokens_per_second = *tps;
      return Status::Ok();
    }
    if (key == "reply") {
      d_.reply = item.value;
      return Status::Ok();
    }
    if (key == "tokens") return Count(item, kMockMaxTokens, &d_.filler_tokens);
    if (key == "reasoning") {
      d_.reasoning = item.value;
      return Status::Ok();
    }
    if (key == "refusal") {
      d_.refusal = item.value;
      return Status::Ok();
    }
    if (key == "tool" || key.substr(0, 5) == "tool@") return Tool(item);
    if (key == "fail") {
      const std::optional<int64_t> status = ParseCount(item.value, 599);
      if (!status || *status < 400) return BadItem(item.raw, "expected an HTTP status 400-599");
      d_.fail_status = static_cast<int>(*status);
      return Status::Ok();
    }
    if (key == "fail_message") {
      d_.fail_message = item.value;
      return Status::Ok();
    }
    if (key == "retry_after" || key == "retry_after_ms") {
      const std::optional<int64_t> ms = ParseMockDuration(item.value);
      if (!ms) return BadItem(item.raw, "expected a duration like 2s or 1500ms, at most 24h");
      if (key == "retry_after_ms") {
        d_.retry_after_ms = std::to_string(*ms);
      } else {
        // Whole seconds when exact, else with the fraction ("1.5").
        std::string seconds = std::to_string(*ms / 1000);
        if (*ms % 1000 != 0) {
          std::string fraction = std::to_string(1000 + *ms % 1000).substr(1);
          while (fraction.back() == '0') fraction.pop_back();
          seconds += "." + fraction;
        }
        d_.retry_after = seconds;
      }
      return Status::Ok();
    }
    if (key == "should_retry") {
      if (item.value != "true" && item.value != "false") {
        return BadItem(item.raw, "expected true or false");
      }
      d_.should_retry = item.value == "true";
      return Status::Ok();
    }
    if (key == "times") return Count(item, kMaxCount, &d_.times);
    if (key == "usage_in") return Count(item, kMaxUsage, &d_.usage_in);
    if (key == "usage_out") return Count(item, kMaxUsage, &d_.usage_out);
    if (key == "usage") return UsageCounts(item);
    if (key == "id") {
      if (item.value.empty()) return BadItem(item.raw, "expected a non-empty id");
      d_.id = item.value;
      return Status::Ok();
    }
    if (key == "drop_after") return FaultCount(item, &faults_.drop_after);
    if (key == "stall_after") return FaultCount(item, &faults_.stall_after);
    if (key == "malformed_after") return FaultCount(item, &faults_.malformed_after);
    if (key == "truncate_after") return FaultCount(item, &faults_.truncate_after);
    if (key == "error_after") return FaultCount(item, &faults_.error_after);
    if (key == "stall") {
      if (faults_.first_item.empty()) faults_.first_item = item.raw;
      return Duration(item, &faults_.stall_ms);
    }
    if (key == "error_event") {
      if (faults_.first_item.empty()) faults_.first_item = item.raw;
      faults_.error_event = item.value;
      return Status::Ok();
    }
    return BadItem(item.raw,
                   "unknown key; known: head_delay, latency, tps, hang, reply, tokens, reasoning, "
                   "refusal, cut_call, content_parts, signed_thinking, tool[@K], fail[_message], "
                   "retry_after[_ms], should_retry, times, drop_after, stall[_after], "
                   "malformed_after, truncate_after, error_event/after, usage[_in/_out], id");
  }

  // The level's directives once every item was added.
  Result<MockDirectives> Finish() {
    if (d_.reply && d_.filler_tokens) {
      return BadItem("tokens=" + std::to_string(*d_.filler_tokens),
                     "reply= and tokens= exclude each other");
    }
    TROUPE_RETURN_IF_ERROR(FinishFault());
    if (!tools_.empty()) {
      const int last_turn = tools_.rbegin()->first;
      for (int turn = 1; turn < last_turn; ++turn) {
        if (!tools_.count(turn)) {
          return BadItem(tool_items_[last_turn], "turn " + std::to_string(turn) +
                                                     " has no tool call; number scripted turns "
                                                     "from 1 without gaps");
        }
      }
      std::vector<MockScriptedToolCall> calls;
      for (auto& [turn, list] : tools_) {
        for (MockScriptedToolCall& call : list) calls.push_back(std::move(call));
      }
      d_.tool_calls = std::move(calls);
    }
    return std::move(d_);
  }

 private:
  Status Duration(const Item& item, std::optional<int64_t>* out) {
    const std::optional<int64_t> ms = ParseMockDuration(item.value);
    if (!ms) {
      return BadItem(item.raw, "expected a duration like 250ms, 2s or 1.5s, at most 24h");
    }
    *out = *ms;
    return Status::Ok();
  }

  Status Count(const Item& item, int64_t max, std::optional<int64_t>* out) {
    const std::optional<int64_t> n = ParseCount(item.value, max);
    if (!n) return BadItem(item.raw, "expected a whole number from 0 to " + std::to_string(max));
    *out = *n;
    return Status::Ok();
  }

  // usage=IN/OUT/CACHE_READ/CACHE_WRITE/REASONING; trailing parts may be left out.
  Status UsageCounts(const Item& item) {
    std::optional<int64_t>* parts[] = {&d_.usage_in, &d_.usage_out, &d_.usage_cache_read,
                                       &d_.usage_cache_write, &d_.usage_reasoning};
    std::string_view rest = item.value;
    for (size_t i = 0; i < std::size(parts); ++i) {
      const size_t slash = rest.find('/');
      const std::optional<int64_t> n = ParseCount(rest.substr(0, slash), kMaxUsage);
      if (!n) {
        return BadItem(item.raw,
                       "expected IN/OUT/CACHE_READ/CACHE_WRITE/REASONING, whole numbers from 0 "
                       "to " + std::to_string(kMaxUsage));
      }
      *parts[i] = *n;
      if (slash == std::string_view::npos) return Status::Ok();
      rest.remove_prefix(slash + 1);
    }
    return BadItem(item.raw, "expected at most 5 numbers: IN/OUT/CACHE_READ/CACHE_WRITE/REASONING");
  }

  Status FaultCount(const Item& item, std::optional<size_t>* out) {
    if (faults_.first_item.empty()) faults_.first_item = item.raw;
    std::optional<int64_t> n;
    TROUPE_RETURN_IF_ERROR(Count(item, kMockMaxTokens, &n));
    *out = static_cast<size_t>(*n);
    return Status::Ok();
  }

  Status Tool(const Item& item) {
    int turn = 1;
    if (item.key != "tool") {
      const std::optional<int64_t> k = ParseCount(item.key.substr(5), kMockMaxTurn);
      if (!k || *k < 1) {
        return BadItem(item.raw,
                       "expected tool@K with a turn K from 1 to " + std::to_string(kMockMaxTurn));
      }
      turn = static_cast<int>(*k);
    }
    constexpr std::string_view kExpected = "expected NAME:{json object of arguments}";
    const size_t colon = item.value.find(':');
    const std::string name = item.value.substr(0, colon);
    if (name.empty() || name.size() > 64) return BadItem(item.raw, kExpected);
    for (char c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
        return BadItem(item.raw, "expected a tool name of letters, digits, '_' and '-'");
      }
    }
    std::string arguments = "{}";
    if (colon != std::string::npos) {
      Result<nlohmann::json> parsed =
          json_fields::ParseJson(std::string_view(item.value).substr(colon + 1));
      if (!parsed.ok() || !parsed->is_object()) return BadItem(item.raw, kExpected);
      arguments = parsed->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    if (++tool_count_ > kMockMaxToolCalls) {
      return BadItem(item.raw,
                     "at most " + std::to_string(kMockMaxToolCalls) + " scripted tool calls");
    }
    tools_[turn].push_back({turn, name, std::move(arguments)});
    tool_items_.try_emplace(turn, item.raw);
    return Status::Ok();
  }

  Status FinishFault() {
    const FaultKeys& f = faults_;
    if (f.first_item.empty()) return Status::Ok();
    const int kinds = f.drop_after.has_value() + f.stall_ms.has_value() +
                      f.malformed_after.has_value() + f.truncate_after.has_value() +
                      f.error_event.has_value();
    if (kinds > 1) {
      return BadItem(f.first_item,
                     "at most one stream fault per request (drop_after, stall, malformed_after, "
                     "truncate_after, error_event)");
    }
    if (f.stall_after && !f.stall_ms) return BadItem(f.first_item, "stall_after= needs stall=");
    if (f.error_after && !f.error_event) {
      return BadItem(f.first_item, "error_after= needs error_event=");
    }
    MockStreamFaultDirective fault;
    if (f.drop_after) {
      fault.kind = StreamFault::kDrop;
      fault.after_deltas = *f.drop_after;
    } else if (f.stall_ms) {
      fault.kind = StreamFault::kStall;
      fault.stall_ms = *f.stall_ms;
      fault.after_deltas = f.stall_after.value_or(0);
    } else if (f.malformed_after) {
      fault.kind = StreamFault::kMalformedChunk;
      fault.after_deltas = *f.malformed_after;
    } else if (f.truncate_after) {
      fault.kind = StreamFault::kTruncate;
      fault.after_deltas = *f.truncate_after;
    } else {
      fault.kind = StreamFault::kErrorEvent;
      fault.message = *f.error_event;
      fault.after_deltas = f.error_after.value_or(0);
    }
    d_.stream_fault = std::move(fault);
    return Status::Ok();
  }

  MockDirectives d_;
  FaultKeys faults_;
  std::map<int, std::vector<MockScriptedToolCall>> tools_;  // by turn
  std::map<int, std::string_view> tool_items_;              // first item of each turn
  size_t tool_count_ = 0;
};

template <typename T>
void Override(std::optional<T>* base, const std::optional<T>& over) {
  if (over) *base = over;
}

}  // namespace

Result<MockDirectives> ParseMockDirectives(std::string_view text, bool every_line) {
  LevelParser parser;
  Status status;
  ForEachLine(text, [&](std::string_view line) {
    if (!status.ok()) return;
    std::optional<std::string_view> body = DirectiveBody(line);
    if (!body && every_line) body = line;
    if (!body) return;
    Result<std::vector<Item>> items = SplitItems(*body);
    if (!items.ok()) {
      status = items.status();
      return;
    }
    for (const Item& item : *items) {
      status = parser.Add(item);
      if (!status.ok()) return;
    }
  });
  if (!status.ok()) return status;
  return parser.Finish();
}

MockDirectives MergeMockDirectives(const MockDirectives& base, const MockDirectives& over) {
  MockDirectives d = base;
  Override(&d.head_delay_ms, over.head_delay_ms);
  Override(&d.first_token_delay_ms, over.first_token_delay_ms);
  Override(&d.tokens_per_second, over.tokens_per_second);
  if (over.reply || over.filler_tokens) {
    d.reply = over.reply;
    d.filler_tokens = over.filler_tokens;
  }
  Override(&d.reasoning, over.reasoning);
  Override(&d.refusal, over.refusal);
  Override(&d.cut_call, over.cut_call);
  Override(&d.content_parts, over.content_parts);
  Override(&d.signed_thinking, over.signed_thinking);
  Override(&d.tool_calls, over.tool_calls);
  Override(&d.fail_status, over.fail_status);
  Override(&d.fail_message, over.fail_message);
  Override(&d.retry_after, over.retry_after);
  Override(&d.retry_after_ms, over.retry_after_ms);
  Override(&d.should_retry, over.should_retry);
  Override(&d.stream_fault, over.stream_fault);
  Override(&d.times, over.times);
  Override(&d.usage_in, over.usage_in);
  Override(&d.usage_out, over.usage_out);
  Override(&d.usage_cache_read, over.usage_cache_read);
  Override(&d.usage_cache_write, over.usage_cache_write);
  Override(&d.usage_reasoning, over.usage_reasoning);
  Override(&d.id, over.id);
  return d;
}

Status CheckMockDirectives(const MockDirectives& d) {
  if (!d.fail_status) {
    const char* orphan = d.fail_message     ? "fail_message"
                         : d.retry_after    ? "retry_after"
                         : d.retry_after_ms ? "retry_after_ms"
                         : d.should_retry   ? "should_retry"
                                            : nullptr;
    if (orphan) {
      return Status::InvalidArgument(std::string("mock directive '") + orphan +
                                     "': only meaningful with fail=STATUS");
    }
  }
  if (d.times && !d.fail_status && !d.stream_fault) {
    return Status::InvalidArgument(
        "mock directive 'times=" + std::to_string(*d.times) +
        "': only meaningful with fail= or a stream fault (drop_after, stall, malformed_after, "
        "truncate_after, error_event)");
  }
  return Status::Ok();
}

std::string StripMockDirectiveLines(std::string_view text) {
  std::string out;
  ForEachLine(text, [&](std::string_view line) {
    if (DirectiveBody(line)) return;
    out += line;
    out += '\n';
  });
  if (!out.empty() && (text.empty() || text.back() != '\n')) out.pop_back();
  return out;
}

std::string MockDirectiveLines(std::string_view text) {
  std::string out;
  ForEachLine(text, [&](std::string_view line) {
    if (!DirectiveBody(line)) return;
    if (!out.empty()) out += '\n';
    out += TrimAsciiSpace(line);
  });
  return out;
}

std::optional<int64_t> ParseMockDuration(std::string_view text) {
  double scale = 1;
  auto strip = [&](std::string_view suffix, double factor) {
    if (text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix) {
      text.remove_suffix(suffix.size());
      scale = factor;
      return true;
    }
    return false;
  };
  strip("ms", 1) || strip("s", 1000) || strip("m", 60'000) || strip("h", 3'600'000);
  const std::optional<double> value = ParseDecimal(text);
  if (!value) return std::nullopt;
  const double ms = std::round(*value * scale);
  if (ms > static_cast<double>(kMockMaxDurationMs)) return std::nullopt;
  return static_cast<int64_t>(ms);
}

}  // namespace troupe
