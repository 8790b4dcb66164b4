// Tests of the 2026-07-28 request classification, envelope and header checks (mcp_modern.h).
#include "mcp/mcp_modern.h"

#include <gtest/gtest.h>

#include <map>

namespace troupe {
namespace {

using nlohmann::json;

json Envelope(json version = "2026-07-28") {
  return {{"io.modelcontextprotocol/protocolVersion", std::move(version)},
          {"io.modelcontextprotocol/clientCapabilities", json::object()}};
}

TEST(McpModernTest, TellsTheEraOfARequest) {
  EXPECT_TRUE(IsMcpModernRequest("server/discover", {{"_meta", Envelope()}}));
  EXPECT_FALSE(IsMcpModernRequest("server/discover", nullptr));
  EXPECT_TRUE(IsMcpModernRequest("tools/list", {{"_meta", Envelope()}}));
  EXPECT_TRUE(IsMcpModernRequest(
      "tools/list", {{"_meta", {{"io.modelcontextprotocol/clientCapabilities", json::object()}}}}));
  EXPECT_FALSE(IsMcpModernRequest("tools/list", {{"_meta", {{"progressToken", 1}}}}));
  EXPECT_FALSE(IsMcpModernRequest("initialize", {{"protocolVersion", "2025-11-25"}}));
}

TEST(McpModernTest, ReadsTheEnvelopeAndTheTasksExtension) {
  json meta = Envelope();
  meta["io.modelcontextprotocol/clientCapabilities"] = {
      {"extensions", {{"io.modelcontextprotocol/tasks", json::object()}}}};
  McpEnvelope envelope;
  ASSERT_FALSE(ReadMcpEnvelope({{"_meta", meta}}, &envelope));
  EXPECT_EQ(envelope.protocol_version, "2026-07-28");
  EXPECT_TRUE(envelope.tasks);
  McpEnvelope plain;
  ASSERT_FALSE(ReadMcpEnvelope({{"_meta", Envelope()}}, &plain));
  EXPECT_FALSE(plain.tasks);
}

TEST(McpModernTest, RefusesAMissingOrUnknownVersion) {
  McpEnvelope envelope;
  auto missing = ReadMcpEnvelope(
      {{"_meta", {{"io.modelcontextprotocol/clientCapabilities", json::object()}}}}, &envelope);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->code, -32602);
  EXPECT_NE(missing->message.find("protocolVersion"), std::string::npos);

  auto unknown = ReadMcpEnvelope({{"_meta", Envelope("2099-01-01")}}, &envelope);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->code, kMcpUnsupportedProtocolVersion);
  EXPECT_EQ(unknown->data["requested"], "2099-01-01");
  EXPECT_EQ(unknown->data["supported"], json::array({"2026-07-28"}));

  json no_caps = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"}};
  auto caps = ReadMcpEnvelope({{"_meta", no_caps}}, &envelope);
  ASSERT_TRUE(caps);
  EXPECT_EQ(caps->code, -32602);
  EXPECT_NE(caps->message.find("clientCapabilities"), std::string::npos);
}

TEST(McpModernTest, ChecksTheHttpHeadersAgainstTheBody) {
  json request = {{"jsonrpc", "2.0"},
                  {"id", 1},
                  {"method", "tools/call"},
                  {"params", {{"name", "delegate_task"}, {"_meta", Envelope()}}}};
  std::map<std::string, std::string> headers = {{"mcp-protocol-version", "2026-07-28"},
                                                {"mcp-method", "tools/call"},
                                                {"mcp-name", "delegate_task"}};
  auto header = [&headers](const char* name) {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  };
  EXPECT_FALSE(CheckMcpModernHeaders(request, header));
  headers["mcp-name"] = "=?base64?ZGVsZWdhdGVfdGFzaw==?=";  // "delegate_task"
  EXPECT_FALSE(CheckMcpModernHeaders(request, header));

  headers["mcp-name"] = "wait_tasks";
  auto name = CheckMcpModernHeaders(request, header);
  ASSERT_TRUE(name);
  EXPECT_EQ(name->code, kMcpHeaderMismatch);
  EXPECT_NE(name->message.find("wait_tasks"), std::string::npos);

  headers["mcp-name"] = "delegate_task";
  headers.erase("mcp-method");
  auto method = CheckMcpModernHeaders(request, header);
  ASSERT_TRUE(method);
  EXPECT_EQ(method->code, kMcpHeaderMismatch);
  EXPECT_NE(method->message.find("Mcp-Method"), std::string::npos);

  headers["mcp-method"] = "tools/call";
  headers["mcp-protocol-version"] = "2025-11-25";
  auto version = CheckMcpModernHeaders(request, header);
  ASSERT_TRUE(version);
  EXPECT_EQ(version->code, kMcpHeaderMismatch);
}

TEST(McpModernTest, TasksRequestsNameTheirTaskInMcpName) {
  EXPECT_STREQ(McpNameSource("tasks/get"), "taskId");
  EXPECT_STREQ(McpNameSource("tasks/cancel"), "taskId");
  EXPECT_STREQ(McpNameSource("tasks/update"), "taskId");
  EXPECT_STREQ(McpNameSource("resources/read"), "uri");
  EXPECT_EQ(McpNameSource("tools/list"), nullptr);

  json request = {{"jsonrpc", "2.0"},
                  {"id", 1},
                  {"method", "tasks/get"},
                  {"params", {{"taskId", "bg_1234"}, {"_meta", Envelope()}}}};
  std::map<std::string, std::string> headers = {{"mcp-protocol-version", "2026-07-28"},
                                                {"mcp-method", "tasks/get"}};
  auto header = [&headers](const char* name) {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  };
  auto missing = CheckMcpModernHeaders(request, header);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->code, kMcpHeaderMismatch);
  EXPECT_NE(missing->message.find("Mcp-Name header is missing"), std::string::npos);

  headers["mcp-name"] = "bg_other";
  auto wrong = CheckMcpModernHeaders(request, header);
  ASSERT_TRUE(wrong);
  EXPECT_NE(wrong->message.find("'bg_other' does not match body value 'bg_1234'"),
            std::string::npos)
      << wrong->message;

  headers["mcp-name"] = "bg_1234";
  EXPECT_FALSE(CheckMcpModernHeaders(request, header));

  // No taskId in the body: the method's own -32602 says so, not a header mismatch.
  request["params"].erase("taskId");
  headers.erase("mcp-name");
  EXPECT_FALSE(CheckMcpModernHeaders(request, header));
}

TEST(McpModernTest, DecodesBase64HeaderValues) {
  EXPECT_EQ(DecodeMcpHeaderValue("plain"), "plain");
  EXPECT_EQ(DecodeMcpHeaderValue("=?base64?SGVsbG8sIOS4lueVjA==?="),
            "Hello, \xe4\xb8\x96\xe7\x95\x8c");
  EXPECT_EQ(DecodeMcpHeaderValue("=?base64?a$b?="), std::nullopt);
  EXPECT_EQ(EncodeMcpHeaderValue("delegate_task"), "delegate_task");
  EXPECT_EQ(EncodeMcpHeaderValue("Hello, \xe4\xb8\x96\xe7\x95\x8c"),
            "=?base64?SGVsbG8sIOS4lueVjA==?=");
  for (std::string value : {"a", "ab", "abc", " padded ", "=?base64?x?="}) {
    EXPECT_EQ(DecodeMcpHeaderValue(EncodeMcpHeaderValue(value)), value) << value;
  }
}

}  // namespace
}  // namespace troupe
