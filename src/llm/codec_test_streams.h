// Recorded-style response streams for the codec tests, shaped as the servers send them (ids and
// texts are made up). Multi-byte UTF-8 is included so that tests splitting the streams at every
// byte also split inside characters. See also sse_test_streams.h.
#pragma once

#include <string_view>

namespace troupe::codec_test {

// OpenAI: plain text, the finish chunk, then the usage chunk with empty choices (include_usage),
// CRLF line ends as some proxies send them.
inline constexpr std::string_view kOpenAiTextStream =
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"finish_reason\":null}],\"usage\":null}\r\n\r\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Bonjour — \"},\"finish_reason\":null}],"
    "\"usage\":null}\r\n\r\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"世界 🎉\"},\"finish_reason\":null}],"
    "\"usage\":null}\r\n\r\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\r\n\r\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\","
    "\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":7,\"total_tokens\":"
    "1207,"
    "\"prompt_tokens_details\":{\"cached_tokens\":1024}}}\r\n\r\n"
    "data: [DONE]\r\n\r\n";

// DeepSeek: reasoning_content, then content; usage with DeepSeek's cache fields.
inline constexpr std::string_view kOpenAiReasoningStream =
    R"sse(data: {"id":"ds-1","model":"deepseek-reasoner","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"finish_reason":null}]}

data: {"id":"ds-1","model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Il faut "},"finish_reason":null}]}

data: {"id":"ds-1","model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"réfléchir."},"finish_reason":null}]}

data: {"id":"ds-1","model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":"42","reasoning_content":null},"finish_reason":null}]}

data: {"id":"ds-1","model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":""},"finish_reason":"length"}],"usage":{"prompt_tokens":30,"completion_tokens":12,"prompt_cache_hit_tokens":16,"prompt_cache_miss_tokens":14}}

data: [DONE]

)sse";

// OpenAI parallel tool calls at indexes 0 and 1, the arguments of both interleaved, preceded by
// OpenRouter-style `reasoning` and keep-alive comments.
inline constexpr std::string_view kOpenAiParallelToolStream =
    R"sse(: OPENROUTER PROCESSING

data: {"id":"gen-1","model":"openai/gpt-4.1","choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"Two files."},"finish_reason":null}]}

data: {"id":"gen-1","model":"openai/gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"read_file","arguments":""}}]},"finish_reason":null}]}

data: {"id":"gen-1","model":"openai/gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]},"finish_reason":null}]}

data: {"id":"gen-1","model":"openai/gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_B","type":"function","function":{"name":"read_","arguments":"{\"pa"}}]},"finish_reason":null}]}

data: {"id":"gen-1","model":"openai/gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"name":"file","arguments":"th\":\"b.cc\"}"}}]},"finish_reason":null}]}

: OPENROUTER PROCESSING

data: {"id":"gen-1","model":"openai/gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"a.cc\"}"}}]},"finish_reason":null}]}

data: {"id":"gen-1","model":"openai/gpt-4.1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

data: {"id":"gen-1","model":"openai/gpt-4.1","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":40,"total_tokens":90}}

data: [DONE]

)sse";

// A server that sends each parallel call whole at index 0, telling them apart by id only, and
// repeats the id and name on a continuation delta. It finishes with "stop" and sends no [DONE].
inline constexpr std::string_view kOpenAiIndexReuseStream =
    R"sse(data: {"id":"x","model":"gemini-2.5-flash","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"grep","arguments":"{\"q\":"}}]}}]}

data: {"id":"x","model":"gemini-2.5-flash","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"grep","arguments":"\"TODO\"}"}}]}}]}

data: {"id":"x","model":"gemini-2.5-flash","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_2","type":"function","function":{"name":"ls","arguments":"{}"}}]}}]}

data: {"id":"x","model":"gemini-2.5-flash","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_3","type":"function","function":{"name":"grep","arguments":"{\"q\":\"FIXME\"}"}}]}}]}

data: {"id":"x","model":"gemini-2.5-flash","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5}}

)sse";

// Anthropic: two parallel tool_use blocks after a text block, cache usage in message_start, a
// tool with no input, and an event type this code does not know.
inline constexpr std::string_view kAnthropicParallelToolStream =
    R"sse(event: message_start
data: {"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","model":"claude-opus-4-1","content":[],"stop_reason":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":300,"cache_read_input_tokens":2000,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Deux appels — ok."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_A","name":"read_file","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\":"}}

event: future_event
data: {"type":"future_event","whatever":[1,2,3]}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"a.cc\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: content_block_start
data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_B","name":"list_tasks","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_stop
data: {"type":"content_block_stop","index":2}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":61}}

event: message_stop
data: {"type":"message_stop"}

)sse";

// OpenAI Responses API: a reasoning item (two summary parts, then its encrypted_content in
// output_item.done), a message streamed in output_text deltas, and events this code skips
// (content_part.*, output_text.done); usage with cached and reasoning tokens.
inline constexpr std::string_view kResponsesTextStream =
    R"sse(event: response.created
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"model":"gpt-5-2025-08-07","output":[],"store":false,"usage":null}}

event: response.in_progress
data: {"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_1","object":"response","status":"in_progress","model":"gpt-5-2025-08-07","output":[]}}

event: response.output_item.added
data: {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}}

event: response.reasoning_summary_part.added
data: {"type":"response.reasoning_summary_part.added","sequence_number":3,"item_id":"rs_1","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":""}}

event: response.reasoning_summary_text.delta
data: {"type":"response.reasoning_summary_text.delta","sequence_number":4,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"**Saluer** en "}

event: response.reasoning_summary_text.delta
data: {"type":"response.reasoning_summary_text.delta","sequence_number":5,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"français."}

event: response.reasoning_summary_text.delta
data: {"type":"response.reasoning_summary_text.delta","sequence_number":6,"item_id":"rs_1","output_index":0,"summary_index":1,"delta":"Puis le monde 🌍."}

event: response.output_item.done
data: {"type":"response.output_item.done","sequence_number":7,"output_index":0,"item":{"id":"rs_1","type":"reasoning","encrypted_content":"gAAAAB-opaque==","summary":[{"type":"summary_text","text":"**Saluer** en français."},{"type":"summary_text","text":"Puis le monde 🌍."}]}}

event: response.output_item.added
data: {"type":"response.output_item.added","sequence_number":8,"output_index":1,"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant","content":[]}}

event: response.content_part.added
data: {"type":"response.content_part.added","sequence_number":9,"item_id":"msg_1","output_index":1,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":10,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"Bonjour — ","logprobs":[]}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":11,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"世界 🎉","logprobs":[]}

event: response.output_text.done
data: {"type":"response.output_text.done","sequence_number":12,"item_id":"msg_1","output_index":1,"content_index":0,"text":"Bonjour — 世界 🎉","logprobs":[]}

event: response.output_item.done
data: {"type":"response.output_item.done","sequence_number":13,"output_index":1,"item":{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Bonjour — 世界 🎉","annotations":[]}]}}

event: response.completed
data: {"type":"response.completed","sequence_number":14,"response":{"id":"resp_1","object":"response","status":"completed","error":null,"incomplete_details":null,"model":"gpt-5-2025-08-07","output":[{"id":"rs_1","type":"reasoning","encrypted_content":"gAAAAB-opaque==","summary":[{"type":"summary_text","text":"**Saluer** en français."},{"type":"summary_text","text":"Puis le monde 🌍."}]},{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Bonjour — 世界 🎉","annotations":[]}]}],"usage":{"input_tokens":1200,"input_tokens_details":{"cached_tokens":1024},"output_tokens":90,"output_tokens_details":{"reasoning_tokens":64},"total_tokens":1290}}}

)sse";

// OpenAI Responses API: two function calls, the second's arguments only in
// function_call_arguments.done (no deltas); the final response lists no output.
inline constexpr std::string_view kResponsesToolStream =
    R"sse(event: response.created
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_2","object":"response","status":"in_progress","model":"gpt-4.1","output":[]}}

event: response.output_item.added
data: {"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"id":"fc_A","type":"function_call","status":"in_progress","arguments":"","call_id":"call_A","name":"read_file"}}

event: response.function_call_arguments.delta
data: {"type":"response.function_call_arguments.delta","sequence_number":2,"item_id":"fc_A","output_index":0,"delta":"{\"path\":"}

event: response.function_call_arguments.delta
data: {"type":"response.function_call_arguments.delta","sequence_number":3,"item_id":"fc_A","output_index":0,"delta":"\"a.cc\"}"}

event: response.function_call_arguments.done
data: {"type":"response.function_call_arguments.done","sequence_number":4,"item_id":"fc_A","output_index":0,"arguments":"{\"path\":\"a.cc\"}"}

event: response.output_item.done
data: {"type":"response.output_item.done","sequence_number":5,"output_index":0,"item":{"id":"fc_A","type":"function_call","status":"completed","arguments":"{\"path\":\"a.cc\"}","call_id":"call_A","name":"read_file"}}

event: response.output_item.added
data: {"type":"response.output_item.added","sequence_number":6,"output_index":1,"item":{"id":"fc_B","type":"function_call","status":"in_progress","arguments":"","call_id":"call_B","name":"list_tasks"}}

event: response.function_call_arguments.done
data: {"type":"response.function_call_arguments.done","sequence_number":7,"item_id":"fc_B","output_index":1,"arguments":"{\"all\":true}"}

event: response.output_item.done
data: {"type":"response.output_item.done","sequence_number":8,"output_index":1,"item":{"id":"fc_B","type":"function_call","status":"completed","arguments":"{\"all\":true}","call_id":"call_B","name":"list_tasks"}}

event: response.completed
data: {"type":"response.completed","sequence_number":9,"response":{"id":"resp_2","object":"response","status":"completed","model":"gpt-4.1","output":[],"usage":{"input_tokens":50,"input_tokens_details":{"cached_tokens":0},"output_tokens":40,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":90}}}

)sse";

}  // namespace troupe::codec_test
