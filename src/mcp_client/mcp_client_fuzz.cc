// libFuzzer target for what troupe's MCP client reads from servers it does not control:
// McpConnection (mcp_connection.h) over a channel the input plays the server of, on a fake
// clock. The harness starts the connection (the server/discover probe, then initialize for a
// 2025 answer), lists the tools once it is up, and calls a tool after every message once the
// list came, so each of the client's readers meets the input: the probe's classification, the
// initialize answer, tools/list pages (ParseMcpTool), tools/call results by resultType, a task's
// tasks/get states, server requests and notifications. The input is lines:
//   @<ms>     advances the fake clock by up to an hour (timeouts, task polls);
//   !close    the channel closes (the process exited);
//   !cancel   cancels the oldest call still waiting;
//   other     one message from the server, as the stdio channel reads a line (JSON text; a
//             line that is not a JSON object is dropped as the channel would refuse it).
// The client's ids are 1, 2, 3… in the order it sends, so seeds answer them by number.
// Seeds: src/mcp_client/fuzz_corpus. Beyond "no crash, no sanitizer report" it checks that:
//  - everything the client sends is a JSON-RPC request (integer id, method, params an object
//    when present), a notification, or a response to a server request, whose text parses; a
//    2026-07-28 connection's requests all carry the _meta envelope;
//  - the start's callback runs at most once, and each call's callback at most once (never for a
//    call cancelled);
//  - once the clock has run past every time limit, nothing is pending: every call was answered.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/fake_clock.h"
#include "mcp_client/mcp_connection.h"
#include "mcp_client/mcp_revision.h"
#include "wire/jsonrpc.h"

namespace {

using nlohmann::json;
namespace jsonrpc = troupe::jsonrpc;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

class FuzzChannel : public troupe::McpChannel {
 public:
  troupe::Status Open(troupe::McpChannelCallbacks callbacks) override {
    cb = std::move(callbacks);
    return troupe::Status::Ok();
  }
  void Send(const json& message) override { sent.push_back(message); }
  void Abandon(const json&) override {}
  void Close() override { closed = true; }
  std::string Describe() const override { return "fuzz"; }

  troupe::McpChannelCallbacks cb;
  std::vector<json> sent;
  bool closed = false;
};

void CheckSent(const json& m, bool modern) {
  Check(m.is_object());
  Check(m.value("jsonrpc", "") == "2.0");
  const json reparsed = json::parse(jsonrpc::Serialize(m));  // throws (so crashes) on bad text
  Check(reparsed == m);
  if (m.contains("method")) {
    Check(m["method"].is_string());
    Check(!m.contains("params") || m["params"].is_object());
    if (m.contains("id")) {
      Check(m["id"].is_number_unsigned());
      const std::string method = m["method"];
      if (modern && method != "server/discover") {
        Check(m["params"]["_meta"].contains(troupe::kMcpMetaProtocolVersion));
      }
    }
    return;
  }
  Check(m.contains("id"));
  Check(m.contains("result") != m.contains("error"));
}

constexpr int64_t kTimeoutMs = 10'000;
constexpr int64_t kMaxAdvanceMs = 3'600'000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  troupe::FakeClock clock;
  auto owned = std::make_unique<FuzzChannel>();
  FuzzChannel* channel = owned.get();
  auto conn = std::make_unique<troupe::McpConnection>(std::move(owned), &clock);

  int starts = 0;
  bool started = false;
  conn->Start(kTimeoutMs, [&](troupe::Status s) {
    ++starts;
    started = s.ok();
  }, [](troupe::Status) {});

  bool listing = false;
  bool listed = false;
  struct Call {
    uint64_t id = 0;
    int answers = 0;
    bool cancelled = false;
  };
  std::vector<std::shared_ptr<Call>> calls;
  auto act = [&] {
    if (!started) return;
    if (!listing && !listed) {
      listing = true;
      conn->ListTools(kTimeoutMs, [&](troupe::Result<std::vector<troupe::McpToolInfo>> r) {
        listed = true;
        if (r.ok()) {
          for (const troupe::McpToolInfo& t : *r) Check(!t.name.empty() && t.input_schema.is_object());
        }
      });
      return;
    }
    if (listed && calls.size() < 64) {
      auto call = std::make_shared<Call>();
      call->id = conn->CallTool("t", {{"x", 1}}, kTimeoutMs, [call](troupe::Result<json> r) {
        Check(!call->cancelled);
        ++call->answers;
        Check(call->answers == 1);
        if (r.ok()) Check(r->is_object());
      });
      calls.push_back(call);
    }
  };

  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const size_t end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    if (line.starts_with("@")) {
      int64_t ms = 0;
      for (char c : line.substr(1)) {
        if (c < '0' || c > '9') break;
        ms = std::min<int64_t>(kMaxAdvanceMs, ms * 10 + (c - '0'));
      }
      clock.AdvanceMs(ms);
    } else if (line == "!close") {
      if (channel->cb.on_closed) channel->cb.on_closed(troupe::Status::Unavailable("exited"));
    } else if (line == "!cancel") {
      for (auto& call : calls) {
        if (call->answers == 0 && !call->cancelled) {
          call->cancelled = true;
          conn->Cancel(call->id, "fuzz");
          break;
        }
      }
    } else if (channel->cb.on_message) {
      json message = json::parse(line, nullptr, false);
      if (!message.is_discarded() && message.is_object()) channel->cb.on_message(std::move(message));
    }
    Check(starts <= 1);
    act();
  }
  // Past every time limit (task polls included): nothing is left waiting.
  for (int i = 0; i < 8; ++i) clock.AdvanceMs(kTimeoutMs + 1000);
  Check(conn->pending() == 0);
  Check(conn->calls() == 0);
  for (const auto& call : calls) Check(call->cancelled || call->answers == 1);
  for (const json& m : channel->sent) CheckSent(m, conn->modern());
  return 0;
}
