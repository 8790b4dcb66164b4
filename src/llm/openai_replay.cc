#include "llm/openai_replay.h"

#include <utility>

#include "llm/json_fields.h"

namespace troupe::openai_replay {
namespace {

using json = nlohmann::json;

// The string fields of a reasoning_details item that stream in fragments.
constexpr const char* kFragmentFields[] = {"text", "summary", "data"};

bool SameItem(const json& a, const json& b) {
  const json* ai = json_fields::Find(a, "index");
  const json* bi = json_fields::Find(b, "index");
  return ai != nullptr && bi != nullptr && *ai == *bi && a.value("type", "") == b.value("type", "");
}

// Continues `item` with the fragment `next` (same index and type).
void Merge(const json& next, json* item) {
  for (const auto& [key, value] : next.items()) {
    bool fragment = false;
    for (const char* f : kFragmentFields) fragment = fragment || key == f;
    const json* old = json_fields::Find(*item, key.c_str());
    if (fragment && value.is_string() && old != nullptr && old->is_string()) {
      (*item)[key] = old->get<std::string>() + value.get<std::string>();
    } else if (!value.is_null()) {
      (*item)[key] = value;
    }
  }
}

}  // namespace

Status AppendReasoningDetails(const json& object, const std::string& path, json* details) {
  const json* items = nullptr;
  TROUPE_RETURN_IF_ERROR(json_fields::ReadArray(object, "reasoning_details", path, &items));
  if (items == nullptr) return Status::Ok();
  if (!details->is_array()) *details = json::array();
  for (size_t i = 0; i < items->size(); ++i) {
    const json& item = (*items)[i];
    if (!item.is_object()) {
      return Status::InvalidArgument(json_fields::At(json_fields::Join(path, "reasoning_details"),
                                                     i) +
                                     " is not an object (it is " + json_fields::TypeName(item) +
                                     ")");
    }
    if (!details->empty() && SameItem(details->back(), item)) {
      Merge(item, &details->back());
    } else {
      details->push_back(item);
    }
  }
  return Status::Ok();
}

Status ReadToolCallExtra(const json& call, const std::string& path, json* extra) {
  const json* content = nullptr;
  TROUPE_RETURN_IF_ERROR(json_fields::ReadObject(call, "extra_content", path, &content));
  if (content != nullptr) *extra = json{{"extra_content", *content}};
  return Status::Ok();
}

json MakeReplay(const std::string& reasoning_content, const json& details) {
  json replay = json::object();
  if (!reasoning_content.empty()) replay["reasoning_content"] = reasoning_content;
  if (details.is_array() && !details.empty()) replay["reasoning_details"] = details;
  if (replay.empty()) return nullptr;
  return json{{kReplayKey, std::move(replay)}};
}

void AddReplay(const ChatMessage& m, json* out) {
  if (const json* replay = json_fields::Find(m.provider_replay, kReplayKey)) {
    const json* content = json_fields::Find(*replay, "reasoning_content");
    if (content != nullptr && content->is_string() && !m.tool_calls.empty()) {
      (*out)["reasoning_content"] = *content;
    }
    const json* details = json_fields::Find(*replay, "reasoning_details");
    if (details != nullptr && details->is_array()) (*out)["reasoning_details"] = *details;
  }
  json* calls = out->contains("tool_calls") ? &(*out)["tool_calls"] : nullptr;
  for (size_t i = 0; calls != nullptr && i < m.tool_calls.size() && i < calls->size(); ++i) {
    const json& extra = m.tool_calls[i].provider_extra;
    if (!extra.is_object()) continue;
    for (const auto& [key, value] : extra.items()) {
      if (!(*calls)[i].contains(key)) (*calls)[i][key] = value;  // never over id or function
    }
  }
}

}  // namespace troupe::openai_replay
