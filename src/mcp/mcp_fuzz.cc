// libFuzzer target for JSON-RPC and MCP message handling: jsonrpc::ParseMessage, and two
// McpSessions (ids "a" and "b") over the real EngineMcpTools on a scripted in-memory engine
// (engine/testing/scripted_engine.h). The input is lines:
//   @<ms>   advances the fake clock by up to an hour (tasks finish, waits time out);
//   ~       sends the next messages to the other session;
//   other   one message, fed to ParseMessage and to the current session's Receive.
// Seeds: src/mcp/fuzz_corpus/mcp. Beyond "no crash, no sanitizer report" it checks that:
//  - ParseMessage classifies consistently: a request has a valid id, an invalid message an
//    error code of -32700 or -32600, a message and a null or valid id;
//  - everything a session sends is a well-formed JSON-RPC notification or response whose
//    Serialize()d text parses, and a response's id is null or one the client used;
//  - an invalid message is answered at once, exactly once; a notification or a response from
//    the client is never answered;
//  - once the clock has run until no call is in flight, every request was answered exactly once,
//    except calls the client cancelled;
//  - nothing is sent after Close();
//  - both eras: a request carrying the 2026-07-28 _meta envelope (mcp/mcp_modern.h) is served
//    statelessly, and every result it gets carries a string resultType and the server's info in
//    _meta; a subscriptions/listen stays open (unanswered) until cancelled. Seeds modern*.jsonl.
// TROUPE_FUZZ_VERBOSE=1 prints every message sent, e.g. to learn the task ids a seed can use.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/testing/scripted_engine.h"
#include "mcp/mcp_server.h"
#include "mcp/mcp_tools.h"
#include "wire/jsonrpc.h"

namespace {

using nlohmann::json;
namespace jsonrpc = troupe::jsonrpc;

const bool kVerbose = std::getenv("TROUPE_FUZZ_VERBOSE") != nullptr;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

// A message the server sent: a notification (method, params an object when present, no id) or a
// response (id, and exactly one of result and error).
void CheckSent(const json& m) {
  Check(m.is_object());
  Check(m.value("jsonrpc", "") == "2.0");
  (void)json::parse(jsonrpc::Serialize(m));  // throws (and so crashes) on bad text
  if (m.contains("method")) {
    Check(m["method"].is_string());
    Check(!m.contains("id"));
    Check(!m.contains("params") || m["params"].is_object());
    return;
  }
  Check(m.contains("id"));
  Check(m["id"].is_null() || jsonrpc::IsValidId(m["id"]));
  Check(m.contains("result") != m.contains("error"));
  if (m.contains("error")) {
    const json& e = m["error"];
    Check(e.is_object() && e.contains("code") && e["code"].is_number_integer());
    Check(e.contains("message") && e["message"].is_string() &&
          !e["message"].get_ref<const std::string&>().empty());
  } else {
    Check(m["result"].is_object());
  }
}

struct Client {
  std::unique_ptr<troupe::McpSession> session;
  std::vector<json> sent;
  std::set<std::string> used_ids;  // IdKeys of the requests received
  int64_t requests = 0;            // Request and Invalid messages: each wants one response
  int64_t cancelled = 0;           // calls in flight dropped by notifications/cancelled
  std::set<std::string> modern_ids;  // IdKeys of the 2026-07-28 requests received
  std::set<std::string> legacy_ids;  // and of the others (an id may be reused across eras)
};

// A result to a 2026-07-28 request: resultType, and the server's info in _meta.
void CheckModernResult(const json& m) {
  if (!m.contains("result")) return;
  const json& result = m["result"];
  Check(result.contains("resultType") && result["resultType"].is_string());
  Check(result.contains("_meta") && result["_meta"].is_object() &&
        result["_meta"].contains("io.modelcontextprotocol/serverInfo"));
}

int64_t CountResponses(const std::vector<json>& sent, size_t from) {
  int64_t n = 0;
  for (size_t i = from; i < sent.size(); ++i) n += sent[i].contains("id") ? 1 : 0;
  return n;
}

void Deliver(Client& c, std::string_view line) {
  const jsonrpc::Message parsed = jsonrpc::ParseMessage(line);
  if (const auto* r = std::get_if<jsonrpc::Request>(&parsed)) {
    Check(jsonrpc::IsValidId(r->id));
    Check(r->params.is_null() || r->params.is_object() || r->params.is_array());
    c.used_ids.insert(jsonrpc::IdKey(r->id));
    const bool modern = troupe::IsMcpModernRequest(r->method, r->params);
    (modern ? c.modern_ids : c.legacy_ids).insert(jsonrpc::IdKey(r->id));
  } else if (const auto* n = std::get_if<jsonrpc::Notification>(&parsed)) {
    Check(n->params.is_null() || n->params.is_object() || n->params.is_array());
  } else if (const auto* invalid = std::get_if<jsonrpc::Invalid>(&parsed)) {
    Check(invalid->error.code == jsonrpc::kParseError ||
          invalid->error.code == jsonrpc::kInvalidRequest);
    Check(!invalid->error.message.empty());
    Check(invalid->id.is_null() || jsonrpc::IsValidId(invalid->id));
    if (!invalid->id.is_null()) c.used_ids.insert(jsonrpc::IdKey(invalid->id));
  }

  const bool wants_answer = std::holds_alternative<jsonrpc::Request>(parsed) ||
                            std::holds_alternative<jsonrpc::Invalid>(parsed);
  if (wants_answer) ++c.requests;
  const size_t before = c.sent.size();
  const size_t in_flight = c.session->calls_in_flight();
  c.session->Receive(line);
  const int64_t answered = CountResponses(c.sent, before);
  if (std::holds_alternative<jsonrpc::Invalid>(parsed)) {
    Check(answered == 1);
  } else if (!wants_answer) {
    // Nothing finishes while a notification is handled; notifications/cancelled drops a call.
    Check(answered == 0);
    Check(c.session->calls_in_flight() <= in_flight);
    c.cancelled += static_cast<int64_t>(in_flight - c.session->calls_in_flight());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  troupe::testing::ScriptedEngine engine;
  {
    troupe::EngineMcpTools tools(&engine.clock(), engine.manager(), engine.catalog());
    Client clients[2];
    for (int i = 0; i < 2; ++i) {
      troupe::McpSessionOptions options;
      options.session_id = i == 0 ? "a" : "b";
      options.page_size = 2;  // so that cursors are used
      options.task_page_size = 2;
      // Deterministic session handles (of the minted shape) for reproducible runs.
      options.new_handle = [i, n = 0]() mutable {
        char handle[64];
        std::snprintf(handle, sizeof handle, "s26-%024x", i * 100000 + ++n);
        return std::string(handle);
      };
      Client* c = &clients[i];
      c->session = std::make_unique<troupe::McpSession>(&tools, options, [c, i](json m) {
        CheckSent(m);
        if (kVerbose) std::printf("%c< %s\n", "ab"[i], jsonrpc::Serialize(m).c_str());
        c->sent.push_back(std::move(m));
      });
    }

    int current = 0;
    size_t pos = 0;
    while (pos < input.size()) {
      const size_t end = std::min(input.find('\n', pos), input.size());
      const std::string_view line = input.substr(pos, end - pos);
      pos = end + 1;
      if (line == "~") {
        current = 1 - current;
      } else if (!line.empty() && line[0] == '@') {
        engine.AdvanceClock(line.substr(1));
      } else {
        Deliver(clients[current], line);
      }
    }

    // Let every call in flight finish: tasks end within seconds, waits time out.
    for (int i = 0; i < 100'000; ++i) {
      if (clients[0].session->calls_in_flight() == clients[0].session->listens_open() &&
          clients[1].session->calls_in_flight() == clients[1].session->listens_open())
        break;
      if (!engine.clock().AdvanceToNextTimer()) break;
    }
    for (Client& c : clients) {
      const size_t listens = c.session->listens_open();
      Check(c.session->calls_in_flight() == listens);
      Check(CountResponses(c.sent, 0) == c.requests - c.cancelled - static_cast<int64_t>(listens));
      for (const json& m : c.sent) {
        if (m.contains("id") && !m["id"].is_null()) {
          Check(c.used_ids.count(jsonrpc::IdKey(m["id"])) == 1);
          const std::string key = jsonrpc::IdKey(m["id"]);
          if (c.modern_ids.count(key) != 0 && c.legacy_ids.count(key) == 0) CheckModernResult(m);
        }
      }
      c.session->Close();
      const size_t sent = c.sent.size();
      c.session->Receive(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
      engine.clock().AdvanceMs(1000);
      Check(c.sent.size() == sent);
    }
  }
  return 0;
}
