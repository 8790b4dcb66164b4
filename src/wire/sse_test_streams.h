// Recorded-style event streams for the SSE parser's tests: what the providers send, byte for byte
// in shape (ids and texts are made up). Multi-byte UTF-8 text is included on purpose, so that
// tests splitting these streams at every byte also split inside characters.
#pragma once

#include <string_view>

namespace troupe::sse_test {

// OpenAI Chat Completions with stream_options.include_usage: a tool call streamed as argument
// deltas, a text delta, the finish chunk, the usage chunk (empty choices) and the [DONE] marker.
// OpenRouter-style comment lines appear as keep-alives.
inline constexpr std::string_view kOpenAiChatStream =
    R"sse(: OPENROUTER PROCESSING

data: {"id":"chatcmpl-9xQ2","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5f20662549","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_Xk29","type":"function","function":{"name":"read_file","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-9xQ2","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5f20662549","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"pa"}}]},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-9xQ2","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5f20662549","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"th\": \"src/main.cc\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}

: OPENROUTER PROCESSING

data: {"id":"chatcmpl-9xQ2","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5f20662549","choices":[{"index":0,"delta":{"content":"Lecture de « main.cc » — 日本語 🎉"},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-9xQ2","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5f20662549","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}

data: {"id":"chatcmpl-9xQ2","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5f20662549","choices":[],"usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}

data: [DONE]

)sse";
inline constexpr int kOpenAiChatStreamEvents = 7;

// Anthropic Messages: thinking, text and tool_use blocks, a ping, the closing message_delta and
// message_stop, then an error frame as the API sends one when it fails mid-stream.
inline constexpr std::string_view kAnthropicMessagesStream =
    R"sse(event: message_start
data: {"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants main.cc; I should read it first."}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Je lis « main.cc » — 一秒 🙂"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: content_block_start
data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"read_file","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"src/ma"}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"in.cc\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":2}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

event: message_stop
data: {"type":"message_stop"}

event: error
data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}

)sse";
inline constexpr int kAnthropicMessagesStreamEvents = 17;

// A generic event stream with CRLF line ends: ids, retry, multi-line data, an empty data line,
// comments, fields without a colon and an id-only frame.
inline constexpr std::string_view kCrlfStream =
    ": keep-alive\r\n"
    "retry: 3000\r\n"
    "\r\n"
    "id: 1\r\n"
    "event: task.updated\r\n"
    "data: {\"task\":\"bg_1\",\r\n"
    "data:  \"status\":\"running\"}\r\n"
    "\r\n"
    "id: 2\r\n"
    "data: line one\r\n"
    "data:\r\n"
    "data: line three — ☃\r\n"
    "\r\n"
    ": ping\r\n"
    "\r\n"
    "id: 3\r\n"
    "\r\n"
    "data\r\n"
    "\r\n"
    "event: done\r\n"
    "data: bye\r\n"
    "\r\n";
inline constexpr int kCrlfStreamEvents = 4;

}  // namespace troupe::sse_test
