// A SessionHistory in memory for the agent loop's tests. Messages go through the stored form
// (message_codec.h) as the engine's do, so what a test reads back is what a resumed session sees.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/agent_loop.h"
#include "agent/message_codec.h"

namespace troupe::testing {

class MemoryHistory : public SessionHistory {
 public:
  Result<std::vector<ChatMessage>> Load(const std::string& session_id) override {
    return sessions[session_id];
  }
  Status Append(const std::string& session_id, const std::string&,
                const ChatMessage& message) override {
    if (fail_appends) return Status::IoError("disk full");
    auto decoded = DecodeStoredMessage(EncodeStoredMessage(message));
    if (!decoded.ok()) return decoded.status();
    sessions[session_id].push_back(decoded.value());
    return Status::Ok();
  }
  Result<std::vector<std::string>> ClaimNotifications(const std::string& session_id) override {
    std::vector<std::string> out;
    out.swap(notes[session_id]);
    return out;
  }
  std::map<std::string, std::vector<ChatMessage>> sessions;
  std::map<std::string, std::vector<std::string>> notes;  // to be claimed, per session
  bool fail_appends = false;
};

}  // namespace troupe::testing
