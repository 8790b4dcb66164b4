// McpBridge against a fake McpBridgeIo: what it sends, writes and logs for each answer — no
// sockets, no threads.
#include "cli/mcp_bridge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "wire/jsonrpc.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using Method = McpHttpCall::Method;

class FakeIo : public McpBridgeIo {
 public:
  void StartCall(const McpHttpCall& call) override { started.push_back(call); }
  void AbortCall(uint64_t id) override { aborted.push_back(id); }
  void WriteLine(const std::string& line) override { lines.push_back(line); }
  void Log(const std::string& line) override { logs.push_back(line); }
  Status Reconnect() override {
    ++reconnects;
    return reconnect_status;
  }
  std::string Where() const override { return "the troupe daemon at /s"; }
  void StartTimer(int64_t delay_ms) override { timer = delay_ms; }
  void CancelTimer() override { timer.reset(); }
  void Finish(int exit_code) override { finished = exit_code; }

  std::vector<McpHttpCall> started;
  std::vector<uint64_t> aborted;
  std::vector<std::string> lines;
  std::vector<std::string> logs;
  int reconnects = 0;
  Status reconnect_status;
  std::optional<int64_t> timer;
  std::optional<int> finished;
};

std::string Req(json id, const std::string& method, json params = json::object()) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
}
std::string Note(const std::string& method, json params = json::object()) {
  return json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}}.dump();
}
std::string Result(json id, json result = json::object()) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}}.dump();
}
std::string InitResult(json id) {
  return Result(id, {{"protocolVersion", "2025-06-18"}, {"serverInfo", {{"name", "troupe"}}}});
}
const std::string kSessionGone =
    R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"MCP session s1 does not exist"}})";

class McpBridgeTest : public ::testing::Test {
 protected:
  McpBridgeTest() : bridge_(&io_) {}

  // The call started last (or `n`th from the end).
  const McpHttpCall& Last(size_t back = 0) {
    EXPECT_GT(io_.started.size(), back);
    return io_.started[io_.started.size() - 1 - back];
  }
  json Body(const McpHttpCall& call) { return json::parse(call.body); }
  json Line(size_t i) { return json::parse(io_.lines.at(i)); }

  // A whole JSON (or empty) answer to call `id`.
  void Answer(uint64_t id, int status, const std::string& body, const std::string& session = "") {
    bridge_.OnCallHead(id, status, body.empty() ? "" : "application/json", session);
    if (!body.empty()) bridge_.OnCallData(id, body);
    bridge_.OnCallDone(id, McpCallEnd{});
  }
  void Unreachable(uint64_t id) {
    bridge_.OnCallDone(id, McpCallEnd{false, true, "connection refused"});
  }

  // initialize (answered with session s1) and notifications/initialized (202); the GET stream
  // is then open. Clears what it recorded.
  void Initialize() {
    bridge_.OnStdinLine(Req(0, "initialize", {{"protocolVersion", "2025-06-18"}}));
    Answer(Last().id, 200, InitResult(0), "s1");
    bridge_.OnStdinLine(Note("notifications/initialized"));
    Answer(Last().id, 202, "");
    ASSERT_EQ(Last().method, Method::kGet);
    stream_ = Last().id;
    bridge_.OnCallHead(stream_, 200, "text/event-stream", "");
    io_.started.clear();
    io_.lines.clear();
  }

  FakeIo io_;
  McpBridge bridge_;
  uint64_t stream_ = 0;
};

TEST_F(McpBridgeTest, InitializeThenMessagesCarryTheSession) {
  bridge_.OnStdinLine(Req(1, "initialize", {{"protocolVersion", "2025-06-18"}}));
  ASSERT_EQ(io_.started.size(), 1u);
  EXPECT_EQ(Last().method, Method::kPost);
  EXPECT_EQ(Last().session_id, "");
  EXPECT_EQ(Last().protocol_version, "");
  EXPECT_EQ(Body(Last())["method"], "initialize");
  const uint64_t init = Last().id;

  // Read before the session id is known: queued.
  bridge_.OnStdinLine(Note("notifications/initialized"));
  bridge_.OnStdinLine(Req(2, "tools/list"));
  EXPECT_EQ(io_.started.size(), 1u);

  Answer(init, 200, InitResult(1), "s1");
  ASSERT_EQ(io_.lines.size(), 1u);
  EXPECT_EQ(Line(0)["result"]["serverInfo"]["name"], "troupe");
  ASSERT_EQ(io_.started.size(), 3u);
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(io_.started[i].session_id, "s1");
    EXPECT_EQ(io_.started[i].protocol_version, "2025-06-18");
  }
  EXPECT_EQ(Body(io_.started[1])["method"], "notifications/initialized");
  EXPECT_EQ(Body(io_.started[2])["method"], "tools/list");

  // The stream opens once notifications/initialized has been taken.
  Answer(io_.started[1].id, 202, "");
  ASSERT_EQ(io_.started.size(), 4u);
  EXPECT_EQ(Last().method, Method::kGet);
  EXPECT_EQ(Last().session_id, "s1");

  Answer(io_.started[2].id, 200, Result(2, {{"tools", json::array()}}));
  ASSERT_EQ(io_.lines.size(), 2u);
  EXPECT_EQ(Line(1)["id"], 2);
}

TEST_F(McpBridgeTest, EveryLineIsOneCompactMessage) {
  Initialize();
  bridge_.OnStdinLine(Req(3, "ping"));
  Answer(Last().id, 200,
         "{\n \"jsonrpc\": \"2.0\",\n \"id\": 3,\n \"result\": {\"t\": \"a\\nb\"}\n}");
  ASSERT_EQ(io_.lines.size(), 1u);
  EXPECT_EQ(io_.lines[0], R"({"id":3,"jsonrpc":"2.0","result":{"t":"a\nb"}})");
}

TEST_F(McpBridgeTest, EventStreamMessagesAreWrittenAsTheyArrive) {
  Initialize();
  bridge_.OnStdinLine(Req(4, "tools/call"));
  const uint64_t call = Last().id;
  bridge_.OnCallHead(call, 200, "text/event-stream", "");
  bridge_.OnCallData(call, "event: message\ndata: " + Note("notifications/progress") + "\n\n");
  EXPECT_EQ(io_.lines.size(), 1u);
  bridge_.OnCallData(call, "event: message\ndata: " + Result(4) + "\n\n");
  bridge_.OnCallDone(call, McpCallEnd{});
  ASSERT_EQ(io_.lines.size(), 2u);
  EXPECT_EQ(Line(0)["method"], "notifications/progress");
  EXPECT_EQ(Line(1)["id"], 4);

  // And the GET stream's.
  bridge_.OnCallData(stream_,
                     "data: " + Note("notifications/message", {{"level", "info"}}) + "\n\n");
  ASSERT_EQ(io_.lines.size(), 3u);
  EXPECT_EQ(Line(2)["method"], "notifications/message");
}

TEST_F(McpBridgeTest, BrokenJsonIsForwardedAndTheDaemonsErrorWritten) {
  Initialize();
  bridge_.OnStdinLine("{this is not json");
  EXPECT_EQ(Last().body, "{this is not json");
  Answer(Last().id, 400,
         R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}})");
  ASSERT_EQ(io_.lines.size(), 1u);
  EXPECT_EQ(Line(0)["error"]["code"], -32700);
  EXPECT_TRUE(Line(0)["id"].is_null());
}

TEST_F(McpBridgeTest, TooLongLineIsAnsweredWithoutForwarding) {
  bridge_.OnTooLongLine(5'000'000);
  EXPECT_TRUE(io_.started.empty());
  ASSERT_EQ(io_.lines.size(), 1u);
  EXPECT_EQ(Line(0)["error"]["code"], -32600);
  EXPECT_TRUE(Line(0)["id"].is_null());
  EXPECT_THAT(Line(0)["error"]["message"].get<std::string>(),
              HasSubstr("message of 5000000 bytes is above the limit of 4194304 bytes"));
}

TEST_F(McpBridgeTest, ForgottenSessionIsReinitializedAndTheMessageRetried) {
  bridge_.OnStdinLine(Req(0, "initialize", {{"protocolVersion", "2025-06-18"}, {"x", 1}}));
  Answer(Last().id, 200, InitResult(0), "s1");
  bridge_.OnStdinLine(Note("notifications/initialized"));
  Answer(Last().id, 202, "");
  stream_ = Last().id;
  bridge_.OnStdinLine(Req(1, "logging/setLevel", {{"level", "debug"}}));
  Answer(Last().id, 200, Result(1));
  io_.started.clear();
  io_.lines.clear();

  bridge_.OnStdinLine(Req(5, "tools/call", {{"name", "background_list"}}));
  const uint64_t first = Last().id;
  Answer(first, 404, kSessionGone);
  // One log line; the stream is closed; our own initialize, with the client's params.
  ASSERT_EQ(io_.logs.size(), 1u);
  EXPECT_THAT(io_.logs[0], HasSubstr("no longer knows MCP session s1"));
  EXPECT_THAT(io_.aborted, ::testing::Contains(stream_));
  ASSERT_EQ(io_.started.size(), 2u);
  const McpHttpCall reinit = Last();
  EXPECT_EQ(reinit.session_id, "");
  EXPECT_EQ(reinit.resume_session, "s1");  // asks the daemon for the same session again
  EXPECT_EQ(Body(reinit)["method"], "initialize");
  EXPECT_EQ(Body(reinit)["params"], json({{"protocolVersion", "2025-06-18"}, {"x", 1}}));
  EXPECT_TRUE(Body(reinit)["id"].is_string());

  // A message read meanwhile waits.
  bridge_.OnStdinLine(Req(6, "ping"));
  EXPECT_EQ(io_.started.size(), 2u);

  Answer(reinit.id, 200, InitResult(Body(reinit)["id"]), "s2");
  EXPECT_TRUE(io_.lines.empty());  // the bridge's own initialize is not written
  // notifications/initialized, setLevel re-applied, the retried call and the queued ping.
  ASSERT_EQ(io_.started.size(), 6u);
  std::vector<std::string> methods;
  for (size_t i = 2; i < 6; ++i) {
    EXPECT_EQ(io_.started[i].session_id, "s2");
    methods.push_back(Body(io_.started[i])["method"]);
  }
  EXPECT_THAT(methods, ::testing::ElementsAre("notifications/initialized", "logging/setLevel",
                                              "tools/call", "ping"));
  EXPECT_EQ(Body(io_.started[3])["params"], json({{"level", "debug"}}));
  EXPECT_EQ(Body(io_.started[4]), json::parse(Req(5, "tools/call", {{"name", "background_list"}})));

  // The bridge's setLevel answer is not written; the stream reopens after initialized.
  Answer(io_.started[3].id, 200, Result(Body(io_.started[3])["id"]));
  Answer(io_.started[2].id, 202, "");
  EXPECT_EQ(Last().method, Method::kGet);
  EXPECT_EQ(Last().session_id, "s2");
  Answer(io_.started[4].id, 200, Result(5));
  ASSERT_EQ(io_.lines.size(), 1u);
  EXPECT_EQ(Line(0)["id"], 5);
  EXPECT_EQ(io_.logs.size(), 1u);
}

TEST_F(McpBridgeTest, ASecond404ForTheSameMessageIsAnswered) {
  Initialize();
  bridge_.OnStdinLine(Req(5, "ping"));
  Answer(Last().id, 404, kSessionGone);
  const McpHttpCall reinit = Last();
  Answer(reinit.id, 200, InitResult(Body(reinit)["id"]), "s2");
  const McpHttpCall retried = Last();
  EXPECT_EQ(Body(retried)["method"], "ping");
  Answer(retried.id, 404, kSessionGone);
  ASSERT_EQ(io_.lines.size(), 1u);
  EXPECT_EQ(Line(0)["id"], 5);
  EXPECT_EQ(Line(0)["error"]["code"], -32600);
}

TEST_F(McpBridgeTest, FailedReinitializeAnswersTheWaitingRequestsAndTheNextMessageTriesAgain) {
  Initialize();
  bridge_.OnStdinLine(Req(5, "ping"));
  Answer(Last().id, 404, kSessionGone);
  const McpHttpCall reinit = Last();
  Answer(reinit.id, 503,
         R"({"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"too many sessions"}})");
  ASSERT_EQ(io_.lines.size(), 1u);
  EXPECT_EQ(Line(0)["id"], 5);
  EXPECT_THAT(Line(0)["error"]["message"].get<std::string>(),
              HasSubstr("could not initialize a new MCP session"));
  EXPECT_THAT(Line(0)["error"]["message"].get<std::string>(), HasSubstr("too many sessions"));

  bridge_.OnStdinLine(Req(6, "ping"));
  EXPECT_EQ(Body(Last())["method"], "initialize");
  Answer(Last().id, 200, InitResult(Body(Last())["id"]), "s3");
  EXPECT_EQ(Body(Last())["method"], "ping");
  EXPECT_EQ(Last().session_id, "s3");
}

TEST_F(McpBridgeTest, UnreachableDaemonIsFoundAgainOncePerMessage) {
  Initialize();
  bridge_.OnStdinLine(Req(7, "tools/list"));
  Unreachable(Last().id);
  EXPECT_EQ(io_.reconnects, 1);
  ASSERT_EQ(io_.started.size(), 2u);  // sent again
  EXPECT_EQ(Body(Last())["id"], 7);
  EXPECT_EQ(Last().session_id, "s1");

  // Still unreachable after the reconnect: answered with an error, the bridge carries on.
  Unreachable(Last().id);
  EXPECT_EQ(io_.reconnects, 1);
  ASSERT_EQ(io_.lines.size(), 1u);
  EXPECT_EQ(Line(0)["id"], 7);
  EXPECT_EQ(Line(0)["error"]["code"], -32603);
  EXPECT_THAT(Line(0)["error"]["message"].get<std::string>(),
              HasSubstr("cannot reach the troupe daemon at /s: connection refused"));

  // Reconnect fails: its message is the answer.
  io_.reconnect_status = Status::Unavailable("cannot reach the troupe daemon at /s: no socket");
  bridge_.OnStdinLine(Req(8, "tools/list"));
  Unreachable(Last().id);
  EXPECT_EQ(io_.reconnects, 2);
  ASSERT_EQ(io_.lines.size(), 2u);
  EXPECT_EQ(Line(1)["id"], 8);
  EXPECT_EQ(Line(1)["error"]["message"], "cannot reach the troupe daemon at /s: no socket");
  EXPECT_FALSE(io_.finished.has_value());
}

TEST_F(McpBridgeTest, AnUnreachableInitializeIsSentAgainAfterReconnecting) {
  bridge_.OnStdinLine(Req(1, "initialize"));
  bridge_.OnStdinLine(Req(2, "tools/list"));  // waits
  Unreachable(Last().id);
  ASSERT_EQ(io_.started.size(), 2u);
  EXPECT_EQ(Body(Last())["method"], "initialize");
  Answer(Last().id, 200, InitResult(1), "s1");
  EXPECT_EQ(Body(Last())["method"], "tools/list");
  EXPECT_EQ(Last().session_id, "s1");
}

TEST_F(McpBridgeTest, AnInitializeThatFailsAnswersTheWaitingRequestsAsNotInitialized) {
  io_.reconnect_status = Status::Unavailable("cannot reach the troupe daemon at /s: refused");
  bridge_.OnStdinLine(Req(1, "initialize"));
  bridge_.OnStdinLine(Req(2, "tools/list"));
  Unreachable(Last().id);
  EXPECT_EQ(io_.started.size(), 1u);  // tools/list never went: there is no session
  ASSERT_EQ(io_.lines.size(), 2u);
  EXPECT_EQ(Line(0)["id"], 1);
  EXPECT_EQ(Line(0)["error"]["message"], "cannot reach the troupe daemon at /s: refused");
  EXPECT_EQ(Line(1)["id"], 2);
  EXPECT_EQ(Line(1)["error"]["code"], jsonrpc::kInvalidRequest);
  EXPECT_THAT(Line(1)["error"]["message"].get<std::string>(),
              HasSubstr("server not initialized: send \"initialize\" before \"tools/list\""));
  // The client may initialize again.
  bridge_.OnStdinLine(Req(3, "initialize"));
  EXPECT_EQ(Body(Last())["method"], "initialize");
}

// A stdio client may probe before initialize (server/discover, the 2026-07-28 revision): it gets
// JSON-RPC errors it understands, with its ids, not the daemon's HTTP refusal of a message
// without Mcp-Session-Id.
TEST_F(McpBridgeTest, RequestsBeforeInitializeAreAnsweredAsAnMcpServerDoes) {
  bridge_.OnStdinLine(Req("probe", "server/discover"));
  bridge_.OnStdinLine(Req(1, "tools/list"));
  bridge_.OnStdinLine(Req(2, "ping"));
  bridge_.OnStdinLine(Note("notifications/initialized"));
  bridge_.OnStdinLine(Result(99));
  EXPECT_TRUE(io_.started.empty());
  ASSERT_EQ(io_.lines.size(), 3u);
  EXPECT_EQ(Line(0)["id"], "probe");
  EXPECT_EQ(Line(0)["error"]["code"], jsonrpc::kMethodNotFound);
  EXPECT_THAT(Line(0)["error"]["message"].get<std::string>(), HasSubstr("server/discover"));
  EXPECT_EQ(Line(1)["id"], 1);
  EXPECT_EQ(Line(1)["error"]["code"], jsonrpc::kInvalidRequest);
  EXPECT_THAT(Line(1)["error"]["message"].get<std::string>(),
              HasSubstr("send \"initialize\" before \"tools/list\""));
  EXPECT_EQ(Line(2), json::parse(Result(2)));
  ASSERT_EQ(io_.logs.size(), 2u);
  EXPECT_THAT(io_.logs[0], HasSubstr("dropped notifications/initialized: no MCP session yet"));
  EXPECT_THAT(io_.logs[1], HasSubstr("dropped a response"));

  // Then the client falls back to initialize, which goes to the daemon as usual.
  bridge_.OnStdinLine(Req(3, "initialize", {{"protocolVersion", "2025-11-25"}}));
  ASSERT_EQ(io_.started.size(), 1u);
  EXPECT_EQ(Body(Last())["method"], "initialize");
  Answer(Last().id, 200, InitResult(3), "s1");
  bridge_.OnStdinLine(Req(4, "tools/list"));
  EXPECT_EQ(Last().session_id, "s1");
  EXPECT_EQ(Body(Last())["method"], "tools/list");
}

// Nothing may follow a request's response on its progress token: the bridge drops a late
// progress notification even if a server sent one.
// A 2026-07-28 request (the _meta envelope) goes to the daemon at once, without a session,
// with the revision's headers; one whose envelope is broken is answered here, as the daemon's
// McpSession would (there are no headers on stdio to blame).
TEST_F(McpBridgeTest, Revision2026RequestsGoStatelessWithTheirHeaders) {
  const json meta = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                     {"io.modelcontextprotocol/clientCapabilities", json::object()}};
  bridge_.OnStdinLine(Req(1, "tools/call", {{"name", "background_list"}, {"_meta", meta}}));
  ASSERT_EQ(io_.started.size(), 1u);
  EXPECT_EQ(io_.started[0].session_id, "");
  EXPECT_EQ(io_.started[0].protocol_version, "2026-07-28");
  EXPECT_EQ(io_.started[0].mcp_method, "tools/call");
  EXPECT_EQ(io_.started[0].mcp_name, "background_list");

  bridge_.OnStdinLine(Req(2, "tools/list",
                          {{"_meta", {{"io.modelcontextprotocol/clientCapabilities", json::object()}}}}));
  EXPECT_EQ(io_.started.size(), 1u);
  ASSERT_EQ(io_.lines.size(), 1u);
  EXPECT_EQ(Line(0)["id"], 2);
  EXPECT_EQ(Line(0)["error"]["code"], jsonrpc::kInvalidParams);
  EXPECT_THAT(Line(0)["error"]["message"].get<std::string>(), HasSubstr("protocolVersion"));
}

TEST_F(McpBridgeTest, NoProgressIsWrittenAfterTheResponse) {
  Initialize();
  bridge_.OnStdinLine(Req(4, "tools/call"));
  const uint64_t call = Last().id;
  const std::string progress =
      Note("notifications/progress", {{"progressToken", 4}, {"progress", 1}});
  bridge_.OnCallHead(call, 200, "text/event-stream", "");
  bridge_.OnCallData(
      call, "data: " + progress + "\n\ndata: " + Result(4) + "\n\ndata: " + progress + "\n\n");
  bridge_.OnCallDone(call, McpCallEnd{});
  ASSERT_EQ(io_.lines.size(), 2u);
  EXPECT_EQ(Line(0)["method"], "notifications/progress");
  EXPECT_EQ(Line(1)["id"], 4);
}

TEST_F(McpBridgeTest, CancelledRequestIsAbortedAndItsAnswerNeverWritten) {
  Initialize();
  bridge_.OnStdinLine(Req("w", "tools/call", {{"name", "background_wait"}}));
  const uint64_t call = Last().id;
  bridge_.OnCallHead(call, 200, "text/event-stream", "");
  bridge_.OnStdinLine(Note("notifications/cancelled", {{"requestId", "w"}}));
  EXPECT_THAT(io_.aborted, ::testing::Contains(call));
  EXPECT_EQ(Body(Last())["method"], "notifications/cancelled");  // forwarded too
  // Anything the transport still reports for it is ignored.
  bridge_.OnCallData(call, "data: " + Result("w") + "\n\n");
  bridge_.OnCallDone(call, McpCallEnd{});
  EXPECT_TRUE(io_.lines.empty());
}

TEST_F(McpBridgeTest, StreamReopensWithBackoff) {
  Initialize();
  bridge_.OnCallDone(stream_, McpCallEnd{false, false, "connection reset"});
  ASSERT_TRUE(io_.timer.has_value());
  EXPECT_EQ(*io_.timer, 200);
  bridge_.OnTimer();
  ASSERT_EQ(Last().method, Method::kGet);
  Unreachable(Last().id);
  EXPECT_EQ(*io_.timer, 400);
  EXPECT_EQ(io_.reconnects, 0);  // the stream does not start daemons
  for (int64_t expected : {800, 1600, 3200, 5000, 5000}) {
    bridge_.OnTimer();
    Unreachable(Last().id);
    EXPECT_EQ(*io_.timer, expected);
  }
  // Accepted again: back to 200 ms after the next drop.
  bridge_.OnTimer();
  bridge_.OnCallHead(Last().id, 200, "text/event-stream", "");
  bridge_.OnCallDone(Last().id, McpCallEnd{});
  EXPECT_EQ(*io_.timer, 200);
}

TEST_F(McpBridgeTest, StreamAnswered404ReinitializesTheSession) {
  Initialize();
  Answer(stream_, 404, kSessionGone);
  EXPECT_EQ(Body(Last())["method"], "initialize");
  Answer(Last().id, 200, InitResult(Body(Last())["id"]), "s2");
  EXPECT_EQ(Body(Last())["method"], "notifications/initialized");
  Answer(Last().id, 202, "");
  EXPECT_EQ(Last().method, Method::kGet);
  EXPECT_EQ(Last().session_id, "s2");
}

TEST_F(McpBridgeTest, StreamRefusedBeforeItWasEverAcceptedReinitializesWithoutLooping) {
  bridge_.OnStdinLine(Req(0, "initialize", {{"protocolVersion", "2025-06-18"}}));
  Answer(Last().id, 200, InitResult(0), "s1");
  bridge_.OnStdinLine(Note("notifications/initialized"));
  Answer(Last().id, 202, "");
  ASSERT_EQ(Last().method, Method::kGet);
  Answer(Last().id, 404, kSessionGone);  // the daemon restarted before the stream was accepted
  EXPECT_THAT(io_.logs.back(), HasSubstr("no longer knows MCP session s1"));
  const McpHttpCall reinit = Last();
  EXPECT_EQ(Body(reinit)["method"], "initialize");
  Answer(reinit.id, 200, InitResult(Body(reinit)["id"]), "s2");
  Answer(Last().id, 202, "");  // the bridge's notifications/initialized
  ASSERT_EQ(Last().method, Method::kGet);
  const size_t started = io_.started.size();
  Answer(Last().id, 404, kSessionGone);  // refused again: no loop
  EXPECT_THAT(io_.logs.back(), HasSubstr("refused the event stream of MCP session s2 too"));
  EXPECT_EQ(io_.started.size(), started);
  EXPECT_FALSE(io_.timer.has_value());
  // The next message initializes a new session, then goes.
  bridge_.OnStdinLine(Req(1, "ping"));
  EXPECT_EQ(Body(Last())["method"], "initialize");
  Answer(Last().id, 200, InitResult(Body(Last())["id"]), "s3");
  EXPECT_EQ(Body(Last())["method"], "ping");
  EXPECT_EQ(Last().session_id, "s3");
}

TEST_F(McpBridgeTest, StdinEndWaitsForTheAnswersThenEndsTheSession) {
  Initialize();
  bridge_.OnStdinLine(Req(9, "tools/call"));
  const uint64_t call = Last().id;
  bridge_.OnStdinEnd();
  EXPECT_FALSE(io_.finished.has_value());
  EXPECT_EQ(Last().id, call);
  Answer(call, 200, Result(9));
  EXPECT_EQ(io_.lines.size(), 1u);
  EXPECT_THAT(io_.aborted, ::testing::Contains(stream_));
  ASSERT_EQ(Last().method, Method::kDelete);
  EXPECT_EQ(Last().session_id, "s1");
  EXPECT_EQ(Last().timeout_ms, 1000);
  EXPECT_FALSE(io_.finished.has_value());
  Answer(Last().id, 204, "");
  EXPECT_EQ(io_.finished, 0);
}

TEST_F(McpBridgeTest, StdinEndWithoutASessionFinishesAtOnce) {
  bridge_.OnStdinEnd();
  EXPECT_EQ(io_.finished, 0);
  EXPECT_TRUE(io_.started.empty());
}

TEST_F(McpBridgeTest, StopAbortsEverythingAndDeletesTheSession) {
  Initialize();
  bridge_.OnStdinLine(Req(1, "tools/call"));
  const uint64_t call = Last().id;
  bridge_.Stop();
  EXPECT_THAT(io_.aborted, ::testing::IsSupersetOf({call, stream_}));
  ASSERT_EQ(Last().method, Method::kDelete);
  bridge_.OnStdinLine(Req(2, "ping"));  // ignored now
  EXPECT_EQ(Last().method, Method::kDelete);
  // The DELETE failing (bounded by its timeout) ends the bridge all the same.
  bridge_.OnCallDone(Last().id, McpCallEnd{false, false, "no answer in time"});
  EXPECT_EQ(io_.finished, 0);
  EXPECT_TRUE(io_.lines.empty());
}

}  // namespace
}  // namespace troupe
