// Reads of untrusted request JSON shared by the two request decoders of `troupe mock-llm`
// (openai_request_decoder.h, anthropic_request_decoder.h). Like llm/json_fields.h, whose optional
// reads they complement, every error names the field it is about ("messages[2].content is neither
// a string nor an array (it is an integer)"), so a client sending the wrong shape is told where.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "llm/chat_types.h"

namespace troupe::request_fields {

// `object` itself must be an object; `what` names it ("messages[3]", "the body").
Status RequireObject(const nlohmann::json& value, std::string_view what);

// Required members: an InvalidArgument saying "<path.key> is missing" when absent or null, or
// naming the wrong type.
Status RequireString(const nlohmann::json& object, const char* key, std::string_view path,
                     std::string* out);
Status RequireArray(const nlohmann::json& object, const char* key, std::string_view path,
                    const nlohmann::json** out);

// Optional members of other types (see json_fields::ReadString for the contract).
Status ReadBool(const nlohmann::json& object, const char* key, std::string_view path, bool* out);
Status ReadNumber(const nlohmann::json& object, const char* key, std::string_view path,
                  std::optional<double>* out);
// An integer of at least 1 that fits an int; `*found` tells whether the member was read.
Status ReadPositiveInt(const nlohmann::json& object, const char* key, std::string_view path,
                       int* out, bool* found);

// `key` of `object`: a string, absent or null (""), or an array of typed parts whose text parts
// ("text", "input_text", "output_text") are joined with "\n"; other parts (images, audio, files)
// are skipped, except that a "refusal" part's words go to `*refusal` when it is given.
Status ReadTextParts(const nlohmann::json& object, const char* key, std::string_view path,
                     std::string* out, std::string* refusal = nullptr);

// Reads `tool_choice` into `*out`: absent leaves it; a string must be "auto", "none" or
// "required"; an object is the wire's way of naming one tool, read by `read_named` (which gets the
// object and writes the name).
Status ReadToolChoice(const nlohmann::json& root, std::string* out,
                      Status (*read_named)(const nlohmann::json& choice, std::string* name));

// Gives each tool result the name of the call it answers, found among the assistant turns before
// it (neither wire format sends the name with the result); unknown ids keep an empty name.
void ResolveToolNames(std::vector<ChatMessage>* messages);

}  // namespace troupe::request_fields
