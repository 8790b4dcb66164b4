#include "mock_llm/request_log.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "mock_llm/reply_json.h"

namespace troupe {

nlohmann::json ToJson(const RequestLogEntry& e) {
  nlohmann::json out = {{"id", e.id},
                        {"connection", e.connection},
                        {"wall_ms", e.wall_ms},
                        {"received_ms", e.received_ms},
                        {"method", e.method},
                        {"path", e.path},
                        {"protocol", e.protocol},
                        {"model", e.model},
                        {"stream", e.stream},
                        {"marker", e.marker},
                        {"task", e.task},
                        {"messages", e.messages},
                        {"tools", e.tools},
                        {"status", e.status},
                        {"first_byte_ms", e.first_byte_ms},
                        {"last_byte_ms", e.last_byte_ms},
                        {"head_received_us", e.head_received_us},
                        {"first_write_us", e.first_write_us},
                        {"last_write_us", e.last_write_us},
                        {"deltas_sent", e.deltas_sent},
                        {"outcome", e.outcome},
                        {"error", e.error},
                        {"usage",
                         {{"input_tokens", e.usage.input_tokens},
                          {"output_tokens", e.usage.output_tokens},
                          {"cache_read_tokens", e.usage.cache_read_tokens},
                          {"cache_write_tokens", e.usage.cache_write_tokens}}}};
  if (!e.conversation.is_null()) out["conversation"] = e.conversation;
  if (!e.body.is_null()) out["body"] = e.body;
  return out;
}

nlohmann::json ConversationJson(const ChatRequest& request) {
  nlohmann::json messages = nlohmann::json::array();
  for (const ChatMessage& m : request.messages) {
    nlohmann::json j;
    switch (m.role) {
      case ChatRole::kUser:
        j["role"] = "user";
        break;
      case ChatRole::kAssistant:
        j["role"] = "assistant";
        break;
      case ChatRole::kTool:
        j["role"] = "tool";
        break;
    }
    j["text"] = m.text;
    if (m.role == ChatRole::kAssistant) {
      if (!m.reasoning.empty()) j["reasoning"] = m.reasoning;
      if (!m.tool_calls.empty()) {
        nlohmann::json calls = nlohmann::json::array();
        for (const ToolCall& c : m.tool_calls) {
          calls.push_back({{"id", c.id}, {"name", c.name}, {"arguments", c.arguments_json}});
        }
        j["tool_calls"] = std::move(calls);
      }
    }
    if (m.role == ChatRole::kTool) {
      j["tool_call_id"] = m.tool_call_id;
      j["tool_name"] = m.tool_name;
      j["is_error"] = m.is_error;
    }
    messages.push_back(std::move(j));
  }
  return {{"system", request.system}, {"messages", std::move(messages)}};
}

RequestLog::RequestLog(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

RequestLog::~RequestLog() {
  if (file_ != nullptr) std::fclose(file_);
}

Status RequestLog::OpenFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (file == nullptr) {
    return Status::IoError("cannot open the request log " + path +
                           " for appending: " + std::strerror(errno));
  }
  if (file_ != nullptr) std::fclose(file_);
  file_ = file;
  return Status::Ok();
}

std::shared_ptr<RequestLogEntry> RequestLog::Add(RequestLogEntry entry) {
  entry.id = next_id_++;
  auto shared = std::make_shared<RequestLogEntry>(std::move(entry));
  if (entries_.size() == capacity_) entries_.pop_front();
  entries_.push_back(shared);
  return shared;
}

void RequestLog::Complete(const RequestLogEntry& entry) {
  if (file_ == nullptr) return;
  std::string line = reply_json::Dump(troupe::ToJson(entry));
  line += '\n';
  // One write per line and a flush, so a reader tailing the file never sees half a line from us
  // and a killed server loses nothing it reported. A failing disk must not stop the server:
  // the in-memory log still has the entry.
  (void)std::fwrite(line.data(), 1, line.size(), file_);
  (void)std::fflush(file_);
}

std::vector<RequestLogEntry> RequestLog::Snapshot() const {
  std::vector<RequestLogEntry> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.push_back(*e);
  return out;
}

nlohmann::json RequestLog::ToJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : entries_) out.push_back(troupe::ToJson(*e));
  return out;
}

void RequestLog::Clear() { entries_.clear(); }

}  // namespace troupe
