// The directives that script the mock model (llm/mock_model.h) for tests and demos, and their
// parser. Pure: text in, MockDirectives or an error naming the bad directive out.
//
// Where directives live: any line of the last user message or of the system prompt whose first
// non-blank characters are `#mock` followed by a blank or the end of the line. The provider's
// default directives (config: providers.<name>.script) are directive lines too, with `#mock`
// optional. The last user message overrides the system prompt, which overrides the defaults.
// Directive lines are never taken as part of the request's meaning (keywords).
//
// A line holds blank-separated items `key=value` or `flag`:
//   #mock latency=300ms tps=40 reply="Done: \"x\" fixed."
// A value is either double-quoted (escapes: \" \\ \n \t) or runs to the next blank; inside an
// unquoted value a {...} or [...] group is taken whole, blanks and JSON strings included, so
//   #mock tool=grep:{"pattern": "retry policy"}
// needs no quoting. Durations are `250ms`, `2s`, `1.5s`, `1m`, `1h` or a plain number of
// milliseconds, at most 24h. Counts are whole numbers.
//
// Pacing
//   head_delay=D          wait D before the response head (default 0)
//   latency=D             wait D after the head before the first token (default: the model's)
//   tps=X                 tokens per second, 0 = all at once (default: the model's)
//   hang                  accept the request and never answer (head_delay of a week)
// Content
//   reply="text"          the final answer, instead of the default agent's
//   tokens=N              a final answer of N filler tokens (throughput tests); N <= 1,000,000
//   reasoning="text"      reasoning deltas before the turn's text or tool calls, in every turn
//   refusal="text"        the final turn refuses with these words (FinishReason::kRefusal; the
//                         wires send it as OpenAI's `refusal`, Anthropic's stop_reason "refusal")
//                         instead of answering, unless `reply` gives text to go with it
//   cut_call              the output limit cuts every turn that calls tools: its last call's
//                         input stops halfway and the reply ends with FinishReason::kLength
//   content_parts         on the OpenAI Chat Completions wire, text and reasoning go out as
//                         lists of typed parts, {"type":"text"} and {"type":"thinking"}, as
//                         Mistral's reasoning models send them (MockPlan::content_parts)
//   signed_thinking       every turn thinks as Anthropic's interleaved thinking does: a signed
//                         `thinking` block and a `redacted_thinking` block first, then a signed
//                         block before each further tool call (MockSignedThinking), kept in the
//                         reply's provider_replay["anthropic"] (llm/anthropic_replay.h), which the
//                         Anthropic wire sends as those blocks. Each turn checks, as the API does,
//                         that the request gives back every earlier turn's blocks since the last
//                         user message unchanged and in place, and answers 400
//                         invalid_request_error naming the turn when not. Replaces `reasoning`.
//                         Only the Anthropic wire (and the in-process mock) carry the blocks.
//   tool=NAME:{args}      a tool call of turn 1; repeat for parallel calls (in order)
//   tool@K=NAME:{args}    a tool call of turn K (1 <= K <= 1000); `:{args}` may be left out ({})
//     Turn K is the K-th assistant reply after the last user message: 1 + the assistant
//     messages that follow it. Scripted turns are numbered from 1 without gaps; the first turn
//     with no scripted call gives the final answer (`reply`, `tokens`, or else the default agent's
//     summary of the tool results). Scripted tools replace the default agent's tool rounds, and
//     are called whether or not the request offers them. At most 256 scripted calls in all.
//   usage_in=N usage_out=N  reported usage (default: input = request characters / 4, output =
//                         the number of deltas); usage_in counts the uncached prompt tokens
//   usage=IN/OUT/CACHE_READ/CACHE_WRITE/REASONING  all of the usage at once (trailing parts may
//                         be left out): with the prompt tokens read from / written to the cache
//                         and the output tokens spent reasoning (default 0), reported as each
//                         wire protocol does (OpenAI has no cache writes)
//   id=TEXT               marker for request logs, and the key of the `times` counter
// Faults (at most one stream fault per request; for a non-streamed request it hits the body)
//   fail=S                answer with HTTP error S (400-599), typed like the real providers
//   fail_message="text"   the error's message (with fail=)
//   retry_after=D         adds `retry-after: <seconds>` (with fail=)
//   retry_after_ms=D      adds `retry-after-ms: <ms>` (with fail=)
//   should_retry=BOOL     adds `x-should-retry: true|false` (with fail=)
//   drop_after=N          reset the connection after N deltas
//   stall=D [stall_after=N]          send nothing for D after N deltas (default 0), then go on
//   malformed_after=N     send a chunk that is not JSON after N deltas
//   truncate_after=N      end the stream cleanly after N deltas, without its end events
//                         ([DONE] / message_stop): a truncated reply
//   error_event="text" [error_after=N]  end the stream with an error event after N deltas
//   times=N               fault (fail= or the stream fault) only the first N requests that carry
//                         the same script key: the `id`, else the directive text together with
//                         the first user message; later requests behave normally. Every
//                         attempt counts, retries included. Without `times`, every request
//                         faults.
//
// Merging the three levels: each key of a higher level replaces the lower one's, except that the
// tool calls (all `tool` keys), the final answer (`reply` / `tokens`) and the stream fault (all
// its keys) are replaced as a group.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "llm/mock_plan.h"

namespace troupe {

// Bounds on untrusted directive values.
inline constexpr int64_t kMockMaxDurationMs = 24LL * 60 * 60 * 1000;
inline constexpr int64_t kMockHangMs = 7LL * 24 * 60 * 60 * 1000;
inline constexpr int64_t kMockMaxTokens = 1'000'000;
inline constexpr int kMockMaxTurn = 1000;
inline constexpr size_t kMockMaxToolCalls = 256;  // scripted calls in all turns together

struct MockScriptedToolCall {
  int turn = 1;
  std::string name;
  std::string arguments_json;  // a JSON object, compact
};

struct MockStreamFaultDirective {
  MockPlan::StreamFault kind = MockPlan::StreamFault::kNone;
  size_t after_deltas = 0;
  int64_t stall_ms = 0;  // kStall
  std::string message;   // kErrorEvent
};

// What one or more directive levels asked for; unset = not mentioned.
struct MockDirectives {
  std::optional<int64_t> head_delay_ms;
  std::optional<int64_t> first_token_delay_ms;
  std::optional<double> tokens_per_second;

  std::optional<std::string> reply;      // excludes filler_tokens
  std::optional<int64_t> filler_tokens;  // excludes reply
  std::optional<std::string> reasoning;
  std::optional<std::string> refusal;
  std::optional<bool> cut_call;
  std::optional<bool> content_parts;
  std::optional<bool> signed_thinking;
  std::optional<std::vector<MockScriptedToolCall>> tool_calls;  // set when any tool key was given

  std::optional<int> fail_status;
  std::optional<std::string> fail_message;
  std::optional<std::string> retry_after;     // header value, seconds
  std::optional<std::string> retry_after_ms;  // header value, milliseconds
  std::optional<bool> should_retry;
  std::optional<MockStreamFaultDirective> stream_fault;
  std::optional<int64_t> times;

  std::optional<int64_t> usage_in;
  std::optional<int64_t> usage_out;
  std::optional<int64_t> usage_cache_read;
  std::optional<int64_t> usage_cache_write;
  std::optional<int64_t> usage_reasoning;
  std::optional<std::string> id;
};

// Parses the directive lines of `text`. When `every_line` is true each non-blank line is a
// directive line whether or not it starts with `#mock` (default directives from config);
// otherwise only `#mock` lines count and the rest is ignored. An error is InvalidArgument
// "mock directive 'tps=abc': expected a number" (the item cut to 80 bytes).
Result<MockDirectives> ParseMockDirectives(std::string_view text, bool every_line = false);

// `base` with every key `over` sets replaced by over's, groups as described above.
MockDirectives MergeMockDirectives(const MockDirectives& base, const MockDirectives& over);

// Checks what only the merged levels can show: `fail_message`, `retry_after`, `retry_after_ms`
// and `should_retry` need `fail`; `times` needs `fail` or a stream fault. An error is
// InvalidArgument naming the key.
Status CheckMockDirectives(const MockDirectives& directives);

// `text` without its `#mock` lines.
std::string StripMockDirectiveLines(std::string_view text);
// The `#mock` lines of `text`, joined by '\n' (for the `times` script key).
std::string MockDirectiveLines(std::string_view text);

// "250ms", "2s", "1.5s", "1m", "1h", "300" (ms) -> milliseconds, rounded; nullopt when malformed,
// negative or above kMockMaxDurationMs.
std::optional<int64_t> ParseMockDuration(std::string_view text);

}  // namespace troupe
