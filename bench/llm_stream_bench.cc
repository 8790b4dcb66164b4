// How fast troupe turns a provider's byte stream into a reply: SSE parsing plus the wire
// decoder, for both protocols, on streams shaped as the servers send them (written by the
// mock-llm reply encoders: one event per token). Bytes are fed in 4 KiB reads, as a socket
// delivers them. Run: build/default/bench/llm_stream_bench (figures in docs/BENCHMARKS.md).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "llm/anthropic_codec.h"
#include "llm/openai_codec.h"
#include "wire/sse_parser.h"
#include "llm/stream_deltas.h"
#include "mock_llm/reply_encoder.h"

namespace troupe {
namespace {

// A reply of `tokens` text tokens (words of 3-8 letters and a space), then one tool call whose
// arguments arrive in `tokens / 4` fragments: what a model answering at length and then calling
// a tool sends.
std::string RecordedStream(WireProtocol protocol, int tokens) {
  static const char* kWords[] = {"the ", "stream", " parser", " reads", " every", " token", " of",
                                 " a",   " reply", " and",    " its",   " tool",  " calls"};
  ChatResult result;
  result.response_id = "bench-1";
  result.model = "bench-model";
  result.finish = FinishReason::kToolCalls;
  result.raw_finish_reason = protocol == WireProtocol::kOpenAi ? "tool_calls" : "tool_use";
  result.usage.input_tokens = 1000;
  result.usage.output_tokens = tokens;
  std::vector<StreamDelta> deltas;
  for (int i = 0; i < tokens; ++i) {
    deltas.push_back(stream_deltas::Text(kWords[i % 13]));
    result.message.text += kWords[i % 13];
  }
  ToolCall call{"call_bench_1", "grep", ""};
  deltas.push_back(stream_deltas::ToolCallStart(0, call.id, call.name));
  std::string args = R"({"pattern":")";
  for (int i = 0; i < tokens / 4; ++i) args += "ab|";
  args += R"("})";
  for (size_t i = 0; i < args.size(); i += 6) {
    deltas.push_back(stream_deltas::ToolCallArguments(0, args.substr(i, 6)));
  }
  call.arguments_json = args;
  result.message.tool_calls.push_back(call);

  ReplyOptions options;
  options.include_usage = true;
  std::unique_ptr<ReplyEncoder> encoder = MakeReplyEncoder(protocol, result, options);
  std::string out = encoder->StreamStart();
  for (const StreamDelta& d : deltas) out += encoder->StreamDelta(d);
  out += encoder->StreamEnd();
  return out;
}

template <typename Decoder>
void DecodeStream(benchmark::State& state, WireProtocol protocol) {
  const std::string stream = RecordedStream(protocol, int(state.range(0)));
  std::vector<SseEvent> events;
  std::vector<StreamDelta> deltas;
  size_t text_bytes = 0;
  for (auto _ : state) {
    SseParser parser;
    Decoder decoder;
    text_bytes = 0;
    for (size_t at = 0; at < stream.size(); at += 4096) {
      events.clear();
      parser.Feed(std::string_view(stream).substr(at, 4096), &events);
      for (const SseEvent& e : events) {
        deltas.clear();
        if (!decoder.OnEvent(e, &deltas).ok()) state.SkipWithError("decode failed");
      }
    }
    events.clear();
    parser.Finish(&events);
    Result<ChatResult> r = decoder.Finish();
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
    text_bytes = r.ok() ? r.value().message.text.size() : 0;
    benchmark::DoNotOptimize(text_bytes);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(stream.size()));
  state.counters["stream_bytes"] = double(stream.size());
  state.counters["bytes_per_token"] = double(stream.size()) / double(state.range(0));
}

void BM_OpenAiStreamDecode(benchmark::State& state) {
  DecodeStream<OpenAiStreamDecoder>(state, WireProtocol::kOpenAi);
}
BENCHMARK(BM_OpenAiStreamDecode)->Arg(1000)->Arg(20000);

void BM_AnthropicStreamDecode(benchmark::State& state) {
  DecodeStream<AnthropicStreamDecoder>(state, WireProtocol::kAnthropic);
}
BENCHMARK(BM_AnthropicStreamDecode)->Arg(1000)->Arg(20000);

// The SSE layer alone, on the OpenAI stream.
void BM_SseParseOnly(benchmark::State& state) {
  const std::string stream = RecordedStream(WireProtocol::kOpenAi, int(state.range(0)));
  std::vector<SseEvent> events;
  for (auto _ : state) {
    SseParser parser;
    for (size_t at = 0; at < stream.size(); at += 4096) {
      events.clear();
      parser.Feed(std::string_view(stream).substr(at, 4096), &events);
    }
    benchmark::DoNotOptimize(events.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(stream.size()));
}
BENCHMARK(BM_SseParseOnly)->Arg(20000);

}  // namespace
}  // namespace troupe

BENCHMARK_MAIN();
