#include "llm/mock_model.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "llm/anthropic_replay.h"
#include "llm/mock_agent.h"
#include "llm/stream_deltas.h"

namespace troupe {

namespace {

constexpr size_t kMaxTokenBytes = 64;
constexpr size_t kArgumentFragmentBytes = 16;
// Script keys remembered for `times=`; past this the counts start over, so a stream of distinct
// scripts cannot grow the table without bound.
constexpr size_t kMaxScriptKeys = 10'000;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Where to cut `s` at most `max` bytes in without splitting a UTF-8 character (at least 1).
size_t CutPoint(std::string_view s, size_t max) {
  if (s.size() <= max) return s.size();
  size_t cut = max;
  while (cut > 1 && IsContinuationByte(s[cut])) --cut;
  return cut;
}

// Words with the whitespace after them; leading whitespace goes with the first word.
std::vector<std::string> Tokenise(std::string_view text) {
  std::vector<std::string> tokens;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    if (tokens.empty()) {
      while (i < text.size() && IsSpace(text[i])) ++i;
    }
    const size_t word = i;
    while (i < text.size() && !IsSpace(text[i])) ++i;
    if (i - word > kMaxTokenBytes) i = word + CutPoint(text.substr(word), kMaxTokenBytes);
    while (i < text.size() && IsSpace(text[i]) && (i - word) < kMaxTokenBytes * 2) ++i;
    tokens.emplace_back(text.substr(start, i - start));
  }
  return tokens;
}

uint64_t Fnv1a(std::string_view text, uint64_t hash = 0xcbf29ce484222325ULL) {
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// `n` words of filler, chosen by `seed`: exactly n tokens once tokenised.
std::string Filler(int64_t n, uint64_t seed) {
  static constexpr std::string_view kWords[] = {
      "lorem", "ipsum", "dolor",  "sit",   "amet",   "consectetur", "adipiscing", "elit",
      "sed",   "do",    "tempor", "magna", "aliqua", "veniam",      "nostrud",    "labore"};
  std::string text;
  text.reserve(static_cast<size_t>(n) * 7);
  uint64_t state = seed;
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0) text += ' ';
    text += kWords[SplitMix64(&state) % std::size(kWords)];
  }
  return text;
}

MockPlan::HttpError HttpErrorFor(const MockDirectives& d) {
  MockPlan::HttpError e;
  e.status = *d.fail_status;
  switch (e.status) {
    case 400:
      e.type = "invalid_request_error";
      e.message = "invalid request";
      break;
    case 401:
      e.type = "authentication_error";
      e.message = "invalid x-api-key";
      break;
    case 403:
      e.type = "permission_error";
      e.message = "your API key does not have permission to use the specified resource";
      break;
    case 404:
      e.type = "not_found_error";
      e.message = "the requested resource could not be found";
      break;
    case 408:
      e.type = "timeout_error";
      e.message = "request timed out";
      break;
    case 413:
      e.type = "request_too_large";
      e.message = "request exceeds the maximum allowed number of bytes";
      break;
    case 429:
      e.type = "rate_limit_error";
      e.message = "rate limit exceeded; please slow down";
      break;
    case 529:
      e.type = "overloaded_error";
      e.message = "Overloaded";
      break;
    default:
      e.type = e.status < 500 ? "invalid_request_error" : "api_error";
      e.message = e.status == 503  ? "service unavailable"
                  : e.status < 500 ? "request refused"
                                   : "internal server error";
      break;
  }
  e.message += " (mock fail=" + std::to_string(e.status) + ")";
  if (d.fail_message) e.message = *d.fail_message;
  if (d.retry_after) e.headers.push_back({"retry-after", *d.retry_after});
  if (d.retry_after_ms) e.headers.push_back({"retry-after-ms", *d.retry_after_ms});
  if (d.should_retry) e.headers.push_back({"x-should-retry", *d.should_retry ? "true" : "false"});
  return e;
}

// Characters of everything the request sends, for the usage estimate.
int64_t RequestChars(const ChatRequest& request) {
  size_t n = request.system.size();
  for (const ChatMessage& m : request.messages) {
    n += m.text.size() + m.reasoning.size();
    for (const ToolCall& call : m.tool_calls) n += call.name.size() + call.arguments_json.size();
  }
  for (const ToolSpec& tool : request.tools) {
    n += tool.name.size() + tool.description.size() +
         tool.input_schema.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
  }
  return static_cast<int64_t>(n);
}

// Fills the plan's deltas and result from the turn's content.
void Assemble(const ChatRequest& request, const std::string& reasoning, const std::string& text,
              std::vector<ToolCall> calls, MockPlan* plan) {
  ChatResult& result = plan->result;
  std::vector<StreamDelta>& deltas = plan->deltas;
  const size_t limit = request.max_tokens > 0 ? static_cast<size_t>(request.max_tokens) : SIZE_MAX;
  bool cut = false;
  for (std::string& token : Tokenise(reasoning)) {
    if (deltas.size() == limit) {
      cut = true;
      break;
    }
    result.message.reasoning += token;
    deltas.push_back(stream_deltas::Reasoning(std::move(token)));
  }
  for (std::string& token : Tokenise(text)) {
    if (deltas.size() >= limit) {
      cut = true;
      break;
    }
    result.message.text += token;
    deltas.push_back(stream_deltas::Text(std::move(token)));
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    const int index = static_cast<int>(i);
    deltas.push_back(stream_deltas::ToolCallStart(index, calls[i].id, calls[i].name));
    std::string_view rest = calls[i].arguments_json;
    while (!rest.empty()) {
      const size_t n = CutPoint(rest, kArgumentFragmentBytes);
      deltas.push_back(stream_deltas::ToolCallArguments(index, std::string(rest.substr(0, n))));
      rest.remove_prefix(n);
    }
  }
  if (!calls.empty()) {
    result.finish = FinishReason::kToolCalls;
    result.raw_finish_reason = "tool_calls";
  } else if (cut) {
    result.finish = FinishReason::kLength;
    result.raw_finish_reason = "length";
  } else {
    result.finish = FinishReason::kStop;
    result.raw_finish_reason = "stop";
  }
  result.message.tool_calls = std::move(calls);
}

std::string Hex(uint64_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, n >>= 4) out[size_t(i)] = kDigits[n & 0xF];
  return out;
}

// Why the assistant messages since the last user message do not carry the blocks
// `signed_thinking` gave their turns; "" when they all do.
std::string SignedThinkingMismatch(const ChatRequest& request, size_t after) {
  int turn = 0;
  for (size_t i = after; i < request.messages.size(); ++i) {
    const ChatMessage& m = request.messages[i];
    if (m.role != ChatRole::kAssistant) continue;
    ++turn;
    const nlohmann::json expected = MockSignedThinking(turn, m.tool_calls.size());
    nlohmann::json got = nullptr;
    if (m.provider_replay.is_object() && m.provider_replay.contains(anthropic_replay::kReplayKey)) {
      got = m.provider_replay[anthropic_replay::kReplayKey];
    }
    if (got == expected) continue;
    auto dump = [](const nlohmann::json& j) {
      return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    return "the thinking of turn " + std::to_string(turn) +
           " was not sent back unchanged and in place (every thinking and redacted_thinking block "
           "of a tool loop must be; mock signed_thinking): expected " +
           dump(expected) + ", got " + dump(got);
  }
  return "";
}

}  // namespace

nlohmann::json MockSignedThinking(int turn, size_t calls) {
  ChatMessage m;
  auto think = [&](const std::string& text, int before) {
    const std::string signature =
        "mock-sig-" + Hex(Fnv1a(text, Fnv1a("turn " + std::to_string(turn))));
    anthropic_replay::KeepThinking(&m, text, signature, before);
  };
  const std::string t = "Turn " + std::to_string(turn);
  think(t + ": what is asked, and which tool answers it.", 0);
  anthropic_replay::KeepRedactedThinking(
      &m, "mock-redacted-" + Hex(Fnv1a("redacted " + std::to_string(turn))), 0);
  for (size_t i = 1; i < calls; ++i) {
    think(t + ": the result so far, and why call " + std::to_string(i + 1) + " comes next.",
          static_cast<int>(i));
  }
  return m.provider_replay[anthropic_replay::kReplayKey];
}

MockModel::MockModel(MockModelOptions options) : options_(std::move(options)) {
  Result<MockDirectives> defaults = ParseMockDirectives(options_.default_directives, true);
  if (defaults.ok()) {
    defaults_ = std::move(defaults).value();
  } else {
    defaults_status_ = defaults.status().WithContext("in the provider's default directives");
  }
}

Result<MockDirectives> MockModel::Directives(const ChatRequest& request,
                                             const std::string& prompt) const {
  TROUPE_RETURN_IF_ERROR(defaults_status_);
  Result<MockDirectives> system = ParseMockDirectives(request.system);
  if (!system.ok()) return system.status().WithContext("in the system prompt");
  Result<MockDirectives> user = ParseMockDirectives(prompt);
  if (!user.ok()) return user.status().WithContext("in the last user message");
  MockDirectives merged = MergeMockDirectives(MergeMockDirectives(defaults_, *system), *user);
  TROUPE_RETURN_IF_ERROR(CheckMockDirectives(merged));
  return merged;
}

bool MockModel::ShouldFault(const ChatRequest& request, const MockDirectives& d,
                            const std::string& prompt) {
  if (!d.times) return true;
  uint64_t key = 0;
  if (d.id) {
    key = Fnv1a("id\n" + *d.id);
  } else {
    std::string_view first_user;
    for (const ChatMessage& m : request.messages) {
      if (m.role == ChatRole::kUser) {
        first_user = m.text;
        break;
      }
    }
    key = Fnv1a(options_.default_directives);
    key = Fnv1a("\n" + MockDirectiveLines(request.system), key);
    key = Fnv1a("\n" + MockDirectiveLines(prompt), key);
    key = Fnv1a("\n", key);
    key = Fnv1a(first_user, key);
  }
  if (fault_counts_.size() >= kMaxScriptKeys && !fault_counts_.count(key)) fault_counts_.clear();
  return ++fault_counts_[key] <= *d.times;
}

MockPlan MockModel::Plan(const ChatRequest& request) {
  MockPlan plan;
  plan.result.message.role = ChatRole::kAssistant;
  plan.result.model = request.model;
  plan.result.response_id = "mock-" + std::to_string(++plans_);
  plan.head_delay_ms = options_.head_delay_ms;
  plan.first_token_delay_ms = options_.first_token_delay_ms;
  plan.tokens_per_second = options_.tokens_per_second;

  const size_t after = MockFirstMessageAfterPrompt(request);
  const std::string empty;
  const std::string& user = after > 0 ? request.messages[after - 1].text : empty;
  Result<MockDirectives> parsed = Directives(request, user);
  if (!parsed.ok()) {
    plan.http_error =
        MockPlan::HttpError{400, {}, "invalid_request_error", parsed.status().message()};
    return plan;
  }
  const MockDirectives& d = *parsed;
  if (d.head_delay_ms) plan.head_delay_ms = *d.head_delay_ms;
  if (d.first_token_delay_ms) plan.first_token_delay_ms = *d.first_token_delay_ms;
  if (d.tokens_per_second) plan.tokens_per_second = *d.tokens_per_second;
  if (d.id) plan.marker = *d.id;
  plan.content_parts = d.content_parts.value_or(false);

  const bool fault = (d.fail_status || d.stream_fault) && ShouldFault(request, d, user);
  if (fault && d.fail_status) {
    plan.http_error = HttpErrorFor(d);
    return plan;
  }

  const bool signed_thinking = d.signed_thinking.value_or(false);
  if (signed_thinking) {
    if (std::string why = SignedThinkingMismatch(request, after); !why.empty()) {
      plan.http_error = MockPlan::HttpError{400, {}, "invalid_request_error", std::move(why)};
      return plan;
    }
  }

  const std::string prompt = StripMockDirectiveLines(user);
  int turn = 1;
  int serial = 1;
  for (size_t i = 0; i < request.messages.size(); ++i) {
    if (request.messages[i].role != ChatRole::kAssistant) continue;
    ++serial;
    if (i >= after) ++turn;
  }
  std::vector<ToolCall> calls;
  std::string text;
  auto final_answer = [&] {
    if (d.reply) return *d.reply;
    if (d.filler_tokens) return Filler(*d.filler_tokens, options_.seed);
    return MockAgentAnswer(request, prompt);
  };
  if (d.tool_calls) {
    for (const MockScriptedToolCall& call : *d.tool_calls) {
      if (call.turn == turn) calls.push_back({"", call.name, call.arguments_json});
    }
    if (calls.empty()) text = final_answer();
  } else if (d.reply || d.filler_tokens) {
    text = final_answer();
  } else {
    MockAgentTurn next = MockAgentNextTurn(request, prompt);
    calls = std::move(next.tool_calls);
    text = std::move(next.text);
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    calls[i].id = "call_mock_" + std::to_string(serial) + "_" + std::to_string(i + 1);
  }
  const bool cut_call = d.cut_call.value_or(false) && !calls.empty();
  if (cut_call) {  // the limit struck halfway through the last call's input
    std::string& input = calls.back().arguments_json;
    input.resize(CutPoint(input, input.size() / 2));
  }
  const bool refuses = d.refusal.has_value() && calls.empty();
  if (refuses && !d.reply) text.clear();
  const size_t call_count = calls.size();
  Assemble(request, signed_thinking ? "" : d.reasoning.value_or(""), text, std::move(calls), &plan);
  if (signed_thinking) {
    ChatMessage& m = plan.result.message;
    m.provider_replay = {{anthropic_replay::kReplayKey, MockSignedThinking(turn, call_count)}};
    for (const nlohmann::json& entry : m.provider_replay[anthropic_replay::kReplayKey]) {
      const nlohmann::json& block = entry["block"];
      if (block["type"] != "thinking") continue;
      if (!m.reasoning.empty()) m.reasoning += "\n\n";
      m.reasoning += block["thinking"].get<std::string>();
      m.reasoning_signature = block["signature"].get<std::string>();
    }
  }
  if (cut_call) {
    plan.result.finish = FinishReason::kLength;
    plan.result.raw_finish_reason = "length";
  }
  if (refuses) {
    plan.result.message.refusal = *d.refusal;
    plan.result.finish = FinishReason::kRefusal;
    plan.result.raw_finish_reason = "refusal";
  }

  Usage& usage = plan.result.usage;
  usage.input_tokens = d.usage_in.value_or(std::max<int64_t>(1, RequestChars(request) / 4));
  usage.output_tokens = d.usage_out.value_or(static_cast<int64_t>(plan.deltas.size()));
  usage.cache_read_tokens = d.usage_cache_read.value_or(0);
  usage.cache_write_tokens = d.usage_cache_write.value_or(0);
  usage.reasoning_tokens = d.usage_reasoning.value_or(0);

  if (fault && d.stream_fault) {
    plan.fault = d.stream_fault->kind;
    plan.fault_after_deltas = d.stream_fault->after_deltas;
    plan.stall_ms = d.stream_fault->stall_ms;
    plan.error_message = d.stream_fault->message;
  }
  return plan;
}

}  // namespace troupe
