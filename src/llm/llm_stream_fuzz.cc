// libFuzzer target for the stream decoders: arbitrary bytes through SseParser into
// OpenAiStreamDecoder, OpenAiResponsesStreamDecoder and AnthropicStreamDecoder. Beyond "no crash,
// no sanitizer report" it checks that the outcome (result or error, and every delta) does not
// depend on how the bytes were chunked. Seeds: src/llm/fuzz_corpus/llm_stream.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "llm/anthropic_codec.h"
#include "llm/codec_test_support.h"
#include "llm/openai_codec.h"
#include "llm/openai_responses_codec.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

template <typename Decoder>
void FuzzDecoder(std::string_view stream, size_t split) {
  const troupe::codec_test::Decoded whole = troupe::codec_test::Decode<Decoder>(stream);
  const troupe::codec_test::Decoded halves =
      troupe::codec_test::DecodeChunks<Decoder>({stream.substr(0, split), stream.substr(split)});
  Check(whole == halves);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  const size_t split = size == 0 ? 0 : (size_t{data[0]} * 131) % (size + 1);
  FuzzDecoder<troupe::OpenAiStreamDecoder>(stream, split);
  FuzzDecoder<troupe::OpenAiResponsesStreamDecoder>(stream, split);
  FuzzDecoder<troupe::AnthropicStreamDecoder>(stream, split);
  return 0;
}
