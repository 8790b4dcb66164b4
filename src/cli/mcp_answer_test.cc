#include "cli/mcp_answer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wire/jsonrpc.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using Kind = McpForwarded::Kind;

constexpr const char* kWhere = "the troupe daemon at /tmp/t.sock";

McpForwarded Request(json id, std::string method = "tools/call") {
  return McpForwarded::Classify(
      json{{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", std::move(method)}}.dump());
}

McpForwarded Notification(std::string method) {
  return McpForwarded::Classify(json{{"jsonrpc", "2.0"}, {"method", std::move(method)}}.dump());
}

// The whole answer in one go; `chunks` of the body as they arrive.
McpRouted Answer(const McpForwarded& sent, int status, std::string_view type,
                 const std::vector<std::string>& chunks) {
  McpAnswerDecoder decoder(sent, kWhere);
  decoder.OnHead(status, type);
  McpRouted routed;
  for (const std::string& chunk : chunks) decoder.OnData(chunk, &routed);
  decoder.OnEnd(&routed);
  return routed;
}

// What the bridge mirrors into Mcp-Name for a 2026-07-28 request: the tool's name, or the task
// of a tasks/* request (the daemon refuses tasks/get without it, as the official SDK does).
TEST(McpForwardedTest, KnowsWhatAModernRequestNamesForMcpName) {
  const std::string meta = R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
                           R"("io.modelcontextprotocol/clientCapabilities":{}})";
  McpForwarded call = McpForwarded::Classify(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delegate_task",)" + meta +
      "}}");
  EXPECT_TRUE(call.modern);
  EXPECT_EQ(call.modern_version, "2026-07-28");
  EXPECT_EQ(call.name, "delegate_task");
  McpForwarded get = McpForwarded::Classify(
      R"({"jsonrpc":"2.0","id":2,"method":"tasks/get","params":{"taskId":"bg_12",)" + meta + "}}");
  EXPECT_EQ(get.name, "bg_12");
  McpForwarded list = McpForwarded::Classify(
      R"({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"name":"x",)" + meta + "}}");
  EXPECT_EQ(list.name, "") << "tools/list mirrors nothing";
}

TEST(McpForwardedTest, ClassifiesWhatTheClientSent) {
  McpForwarded init = McpForwarded::Classify(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"x"}})");
  EXPECT_EQ(init.kind, Kind::kRequest);
  EXPECT_EQ(init.id, 1);
  EXPECT_EQ(init.method, "initialize");
  EXPECT_EQ(init.params, json({{"protocolVersion", "x"}}));

  McpForwarded call = McpForwarded::Classify(
      R"({"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x"}})");
  EXPECT_EQ(call.id, "a");
  EXPECT_TRUE(call.params.is_null());  // not kept: the bridge does not look at it

  McpForwarded cancelled = McpForwarded::Classify(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}})");
  EXPECT_EQ(cancelled.kind, Kind::kNotification);
  EXPECT_EQ(cancelled.params["requestId"], 3);

  EXPECT_EQ(McpForwarded::Classify(R"({"jsonrpc":"2.0","id":5,"result":{}})").kind,
            Kind::kResponse);
  McpForwarded broken = McpForwarded::Classify("{not json");
  EXPECT_EQ(broken.kind, Kind::kInvalid);
  EXPECT_TRUE(broken.id.is_null());
  McpForwarded bad_method = McpForwarded::Classify(R"({"jsonrpc":"2.0","id":7,"method":5})");
  EXPECT_EQ(bad_method.kind, Kind::kInvalid);
  EXPECT_EQ(bad_method.id, 7);
}

TEST(McpAnswerDecoderTest, JsonBodyIsOneMessageWhateverItsWhitespace) {
  McpRouted routed = Answer(Request(1), 200, "application/json",
                            {"{\n  \"jsonrpc\": \"2.0\",\n  \"id\": 1,", "\n  \"result\": {}\n}"});
  ASSERT_EQ(routed.messages.size(), 1u);
  EXPECT_EQ(routed.messages[0], json({{"jsonrpc", "2.0"}, {"id", 1}, {"result", json::object()}}));
  EXPECT_TRUE(routed.logs.empty());
}

TEST(McpAnswerDecoderTest, EventStreamMessagesComeAsTheyArrive) {
  McpAnswerDecoder decoder(Request(7), kWhere);
  decoder.OnHead(200, "text/event-stream");
  McpRouted routed;
  const std::string progress =
      R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":1}})";
  decoder.OnData("event: message\ndata: " + progress.substr(0, 20), &routed);
  EXPECT_TRUE(routed.messages.empty());
  decoder.OnData(progress.substr(20) + "\r\n\r\n: keep-alive\n\n", &routed);
  ASSERT_EQ(routed.messages.size(), 1u);
  EXPECT_EQ(routed.messages[0]["method"], "notifications/progress");
  EXPECT_FALSE(decoder.answered());
  decoder.OnData("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"ok\":1}}\n\n",
                 &routed);
  ASSERT_EQ(routed.messages.size(), 2u);
  EXPECT_EQ(routed.messages[1]["result"]["ok"], 1);
  EXPECT_TRUE(decoder.answered());
  decoder.OnEnd(&routed);
  EXPECT_EQ(routed.messages.size(), 2u);  // nothing synthesized
}

TEST(McpAnswerDecoderTest, ProgressAfterTheResponseIsDropped) {
  const std::string progress =
      R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":7,"progress":2}})";
  McpRouted routed = Answer(
      Request(7), 200, "text/event-stream",
      {"data: " + progress + "\n\n", "data: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n\n",
       "data: " + progress + "\n\n"});
  ASSERT_EQ(routed.messages.size(), 2u);
  EXPECT_EQ(routed.messages[0]["method"], "notifications/progress");
  EXPECT_EQ(routed.messages[1]["id"], 7);
}

TEST(McpAnswerDecoderTest, AStreamThatEndsWithoutTheResponseIsAnError) {
  McpRouted routed = Answer(Request("r"), 200, "text/event-stream; charset=utf-8",
                            {"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n"
                             "data: {\"partial\":"});
  ASSERT_EQ(routed.messages.size(), 2u);
  EXPECT_EQ(routed.messages[1]["id"], "r");
  EXPECT_EQ(routed.messages[1]["error"]["code"], -32603);
  EXPECT_THAT(routed.messages[1]["error"]["message"].get<std::string>(),
              HasSubstr("ended the event stream without answering"));
}

TEST(McpAnswerDecoderTest, AcceptedNotificationProducesNothing) {
  McpRouted routed = Answer(Notification("notifications/initialized"), 202, "", {});
  EXPECT_TRUE(routed.messages.empty());
  EXPECT_TRUE(routed.logs.empty());
}

TEST(McpAnswerDecoderTest, ARequestAnsweredWithoutAResponseGetsOne) {
  McpRouted routed = Answer(Request(3), 202, "", {});
  ASSERT_EQ(routed.messages.size(), 1u);
  EXPECT_EQ(routed.messages[0]["id"], 3);
  EXPECT_THAT(routed.messages[0]["error"]["message"].get<std::string>(),
              HasSubstr("answered HTTP 202 without a response"));
}

TEST(McpAnswerDecoderTest, ParseErrorOfBrokenJsonIsPassedOnAsTheDaemonSentIt) {
  const std::string body =
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error at 2"}})";
  McpRouted routed = Answer(McpForwarded::Classify("{broken"), 400, "application/json", {body});
  ASSERT_EQ(routed.messages.size(), 1u);
  EXPECT_EQ(routed.messages[0], json::parse(body));
}

TEST(McpAnswerDecoderTest, ARefusedRequestGetsTheDaemonsErrorWithItsId) {
  McpRouted routed = Answer(
      Request(9), 409, "application/json",
      {R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"request id 9 is busy"}})"});
  ASSERT_EQ(routed.messages.size(), 1u);
  EXPECT_EQ(routed.messages[0]["id"], 9);
  EXPECT_EQ(routed.messages[0]["error"]["message"], "request id 9 is busy");
}

TEST(McpAnswerDecoderTest, AnotherBodyIsASynthesizedErrorNamingTheStatus) {
  McpRouted routed = Answer(Request("x"), 503, "text/plain", {"Service Unavailable\nmore\n"});
  ASSERT_EQ(routed.messages.size(), 1u);
  EXPECT_EQ(routed.messages[0], jsonrpc::ErrorResponse("x", -32603,
                                                       "the troupe daemon at /tmp/t.sock answered "
                                                       "HTTP 503: Service Unavailable"));
  // The REST API's error shape (e.g. the server's own 413) gives its message.
  routed = Answer(Request(1), 413, "application/json",
                  {R"({"error":{"code":"payload_too_large","message":"the body is too big"}})"});
  ASSERT_EQ(routed.messages.size(), 1u);
  EXPECT_THAT(routed.messages[0]["error"]["message"].get<std::string>(),
              HasSubstr("answered HTTP 413: the body is too big"));
}

TEST(McpAnswerDecoderTest, ARefusedNotificationIsOnlyLogged) {
  McpRouted routed = Answer(
      Notification("notifications/initialized"), 400, "application/json",
      {R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"missing Mcp-Session-Id"}})"});
  EXPECT_TRUE(routed.messages.empty());
  ASSERT_EQ(routed.logs.size(), 1u);
  EXPECT_THAT(routed.logs[0], HasSubstr("notifications/initialized"));
  EXPECT_THAT(routed.logs[0], HasSubstr("missing Mcp-Session-Id"));
}

TEST(McpAnswerDecoderTest, ABrokenConnectionAnswersTheRequestOnce) {
  McpAnswerDecoder decoder(Request(4), kWhere);
  decoder.OnHead(200, "text/event-stream");
  McpRouted routed;
  decoder.OnData("data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n", &routed);
  decoder.OnFailure("connection reset", &routed);
  ASSERT_EQ(routed.messages.size(), 2u);
  EXPECT_EQ(routed.messages[1]["id"], 4);
  EXPECT_THAT(routed.messages[1]["error"]["message"].get<std::string>(),
              HasSubstr("lost the connection to the troupe daemon at /tmp/t.sock before it "
                        "answered: connection reset"));

  // After the response, a broken connection adds nothing.
  McpAnswerDecoder answered(Request(5), kWhere);
  answered.OnHead(200, "text/event-stream");
  McpRouted more;
  answered.OnData("data: {\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}\n\n", &more);
  answered.OnFailure("reset", &more);
  EXPECT_EQ(more.messages.size(), 1u);
}

TEST(McpAnswerDecoderTest, ABodyThatIsNotJsonIsAnError) {
  McpRouted routed = Answer(Request(2), 200, "application/json", {"<html>"});
  ASSERT_EQ(routed.messages.size(), 1u);
  EXPECT_THAT(routed.messages[0]["error"]["message"].get<std::string>(),
              HasSubstr("a body that is not JSON"));
  // An event that is not JSON is dropped with a log line; the stream goes on.
  McpAnswerDecoder decoder(Request(8), kWhere);
  decoder.OnHead(200, "text/event-stream");
  McpRouted events;
  decoder.OnData("data: nope\n\ndata: {\"jsonrpc\":\"2.0\",\"id\":8,\"result\":{}}\n\n", &events);
  EXPECT_EQ(events.messages.size(), 1u);
  EXPECT_EQ(events.logs.size(), 1u);
}

}  // namespace
}  // namespace troupe
