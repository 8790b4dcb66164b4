// Constructors for the StreamDelta kinds the stream decoders emit (chat_types.h), so that each
// call site states only what its kind carries.
#pragma once

#include <string>
#include <utility>

#include "llm/chat_types.h"

namespace troupe::stream_deltas {

inline StreamDelta Text(std::string fragment) {
  StreamDelta d;
  d.kind = StreamDelta::Kind::kText;
  d.text = std::move(fragment);
  return d;
}

inline StreamDelta Reasoning(std::string fragment) {
  StreamDelta d;
  d.kind = StreamDelta::Kind::kReasoning;
  d.text = std::move(fragment);
  return d;
}

inline StreamDelta ToolCallStart(int index, std::string id, std::string name) {
  StreamDelta d;
  d.kind = StreamDelta::Kind::kToolCallStart;
  d.index = index;
  d.id = std::move(id);
  d.name = std::move(name);
  return d;
}

inline StreamDelta ToolCallArguments(int index, std::string fragment) {
  StreamDelta d;
  d.kind = StreamDelta::Kind::kToolCallArguments;
  d.index = index;
  d.text = std::move(fragment);
  return d;
}

inline StreamDelta UsageSoFar(const Usage& usage) {
  StreamDelta d;
  d.kind = StreamDelta::Kind::kUsage;
  d.usage = usage;
  return d;
}

}  // namespace troupe::stream_deltas
