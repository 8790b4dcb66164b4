// Tests of wire/jsonrpc.h: classification of every message shape, the error for each malformed
// one (table-driven), limits, and the builders.
#include "wire/jsonrpc.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace troupe::jsonrpc {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST(JsonRpcParseTest, RequestWithIntegerId) {
  Message m = ParseMessage(R"({"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}})");
  auto* request = std::get_if<Request>(&m);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->id, json(7));
  EXPECT_TRUE(request->id.is_number_integer());
  EXPECT_EQ(request->method, "tools/list");
  EXPECT_EQ(request->params, json::object());
}

TEST(JsonRpcParseTest, RequestWithStringIdAndNoParams) {
  Message m = ParseMessage(R"({"jsonrpc":"2.0","id":"7","method":"ping"})");
  auto* request = std::get_if<Request>(&m);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->id, json("7"));
  EXPECT_TRUE(request->params.is_null());
}

TEST(JsonRpcParseTest, RequestWithArrayParams) {
  Message m = ParseMessage(R"({"jsonrpc":"2.0","id":-3,"method":"x","params":[1,2]})");
  auto* request = std::get_if<Request>(&m);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->id, json(-3));
  EXPECT_EQ(request->params, json::array({1, 2}));
}

TEST(JsonRpcParseTest, Notification) {
  Message m = ParseMessage(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  auto* notification = std::get_if<Notification>(&m);
  ASSERT_NE(notification, nullptr);
  EXPECT_EQ(notification->method, "notifications/initialized");
  EXPECT_TRUE(notification->params.is_null());
}

TEST(JsonRpcParseTest, ResultResponse) {
  Message m = ParseMessage(R"({"jsonrpc":"2.0","id":"a","result":{"x":1}})");
  auto* response = std::get_if<Response>(&m);
  ASSERT_NE(response, nullptr);
  EXPECT_FALSE(response->is_error);
  EXPECT_EQ(response->id, json("a"));
  EXPECT_EQ(response->result, json({{"x", 1}}));
}

TEST(JsonRpcParseTest, ErrorResponseWithNullId) {
  Message m = ParseMessage(
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"no","data":[1]}})");
  auto* response = std::get_if<Response>(&m);
  ASSERT_NE(response, nullptr);
  EXPECT_TRUE(response->is_error);
  EXPECT_TRUE(response->id.is_null());
  EXPECT_EQ(response->error.code, -32600);
  EXPECT_EQ(response->error.message, "no");
  EXPECT_EQ(response->error.data, json::array({1}));
}

TEST(JsonRpcParseTest, JsonOverloadMatchesTextOverload) {
  json value = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "m"}, {"params", {{"a", 1}}}};
  Message m = ClassifyMessage(value);
  auto* request = std::get_if<Request>(&m);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->params, json({{"a", 1}}));
}

struct InvalidCase {
  const char* name;
  std::string text;
  int code;
  json id;           // the id the error must carry
  const char* what;  // a part of the error message
};

class JsonRpcInvalidTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(JsonRpcInvalidTest, AnswersWithTheRightError) {
  const InvalidCase& c = GetParam();
  Message m = ParseMessage(c.text);
  auto* invalid = std::get_if<Invalid>(&m);
  ASSERT_NE(invalid, nullptr) << c.text;
  EXPECT_EQ(invalid->error.code, c.code) << c.text;
  EXPECT_EQ(invalid->id, c.id) << c.text;
  EXPECT_THAT(invalid->error.message, HasSubstr(c.what)) << c.text;
  // The same through the json overload when the text parses.
  json value = json::parse(c.text, nullptr, false);
  if (!value.is_discarded()) {
    Message again = ClassifyMessage(value);
    auto* invalid_again = std::get_if<Invalid>(&again);
    ASSERT_NE(invalid_again, nullptr) << c.text;
    EXPECT_EQ(invalid_again->error.code, c.code);
    EXPECT_EQ(invalid_again->id, c.id);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, JsonRpcInvalidTest,
    ::testing::Values(
        InvalidCase{"empty", "", kParseError, nullptr, "not valid JSON"},
        InvalidCase{"junk", "{oops", kParseError, nullptr, "not valid JSON"},
        InvalidCase{"trailing", R"({"jsonrpc":"2.0","method":"a"} x)", kParseError, nullptr,
                    "not valid JSON"},
        InvalidCase{"bad_utf8", "{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}", kParseError, nullptr,
                    "not valid JSON"},
        InvalidCase{"batch", R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", kInvalidRequest,
                    nullptr, "batches are not supported"},
        InvalidCase{"empty_batch", "[]", kInvalidRequest, nullptr, "batches are not supported"},
        InvalidCase{"string", R"("hello")", kInvalidRequest, nullptr, "got a string"},
        InvalidCase{"number", "42", kInvalidRequest, nullptr, "got an integer"},
        InvalidCase{"null", "null", kInvalidRequest, nullptr, "got null"},
        InvalidCase{"no_jsonrpc", R"({"id":1,"method":"ping"})", kInvalidRequest, json(1),
                    "jsonrpc: missing"},
        InvalidCase{"jsonrpc_1", R"({"jsonrpc":"1.0","id":"x","method":"ping"})", kInvalidRequest,
                    json("x"), "jsonrpc: expected \"2.0\""},
        InvalidCase{"jsonrpc_number", R"({"jsonrpc":2.0,"id":1,"method":"ping"})", kInvalidRequest,
                    json(1), "jsonrpc"},
        InvalidCase{"method_number", R"({"jsonrpc":"2.0","id":1,"method":5})", kInvalidRequest,
                    json(1), "method: expected a string, got an integer"},
        InvalidCase{"method_null_notification", R"({"jsonrpc":"2.0","method":null})",
                    kInvalidRequest, nullptr, "method: expected a string, got null"},
        InvalidCase{"id_null", R"({"jsonrpc":"2.0","id":null,"method":"ping"})", kInvalidRequest,
                    nullptr, "id: expected a string or an integer, got null"},
        InvalidCase{"id_float", R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", kInvalidRequest,
                    nullptr, "got a number"},
        InvalidCase{"id_bool", R"({"jsonrpc":"2.0","id":true,"method":"ping"})", kInvalidRequest,
                    nullptr, "got a boolean"},
        InvalidCase{"id_object", R"({"jsonrpc":"2.0","id":{},"method":"ping"})", kInvalidRequest,
                    nullptr, "got an object"},
        InvalidCase{"params_string", R"({"jsonrpc":"2.0","id":2,"method":"ping","params":"x"})",
                    kInvalidRequest, json(2), "params: expected an object or an array"},
        InvalidCase{"params_null", R"({"jsonrpc":"2.0","id":2,"method":"ping","params":null})",
                    kInvalidRequest, json(2), "params: expected an object or an array, got null"},
        InvalidCase{"nothing", R"({"jsonrpc":"2.0","id":3})", kInvalidRequest, json(3),
                    "expected \"method\""},
        InvalidCase{"result_and_error",
                    R"({"jsonrpc":"2.0","id":3,"result":{},"error":{"code":1,"message":""}})",
                    kInvalidRequest, json(3), "not both"},
        InvalidCase{"result_null_id", R"({"jsonrpc":"2.0","id":null,"result":{}})", kInvalidRequest,
                    nullptr, "id: expected"},
        InvalidCase{"result_no_id", R"({"jsonrpc":"2.0","result":{}})", kInvalidRequest, nullptr,
                    "got nothing"},
        InvalidCase{"error_not_object", R"({"jsonrpc":"2.0","id":4,"error":"bad"})",
                    kInvalidRequest, json(4), "error: expected an object"},
        InvalidCase{"error_code_string",
                    R"({"jsonrpc":"2.0","id":4,"error":{"code":"x","message":"m"}})",
                    kInvalidRequest, json(4), "error.code"},
        InvalidCase{"error_no_message", R"({"jsonrpc":"2.0","id":4,"error":{"code":1}})",
                    kInvalidRequest, json(4), "error.message"},
        InvalidCase{"too_deep",
                    R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"a":)" +
                        std::string(200, '[') + std::string(200, ']') + "}}",
                    kInvalidRequest, nullptr, "deeper than 128"}),
    [](const ::testing::TestParamInfo<InvalidCase>& info) { return std::string(info.param.name); });

TEST(JsonRpcParseTest, DepthAtTheLimitIsAccepted) {
  // params is depth 2 inside the message object (depth 1); fill up to exactly the limit.
  int inner = kMaxNestingDepth - 2;
  std::string text = R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"a":)" +
                     std::string(inner, '[') + std::string(inner, ']') + "}}";
  EXPECT_TRUE(std::holds_alternative<Request>(ParseMessage(text)));
  text = R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"a":)" + std::string(inner + 1, '[') +
         std::string(inner + 1, ']') + "}}";
  EXPECT_TRUE(std::holds_alternative<Invalid>(ParseMessage(text)));
}

TEST(JsonRpcParseTest, BracketsInsideStringsDoNotCountAsNesting) {
  std::string text = R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"a":")" +
                     std::string(1000, '[') + R"(\"{{"}})";
  Message m = ParseMessage(text);
  ASSERT_TRUE(std::holds_alternative<Request>(m));
}

TEST(JsonRpcParseTest, VeryDeepNestingNeitherCrashesNorPasses) {
  std::string text = std::string(500'000, '[') + std::string(500'000, ']');
  Message m = ParseMessage(text);
  auto* invalid = std::get_if<Invalid>(&m);
  ASSERT_NE(invalid, nullptr);
  EXPECT_EQ(invalid->error.code, kInvalidRequest);
  // Unbalanced deep junk is a parse error.
  m = ParseMessage(std::string(500'000, '{'));
  invalid = std::get_if<Invalid>(&m);
  ASSERT_NE(invalid, nullptr);
  EXPECT_EQ(invalid->error.code, kParseError);
}

TEST(JsonRpcParseTest, OversizeMessageIsRefused) {
  std::string text = R"({"jsonrpc":"2.0","method":"x","params":{"a":")" +
                     std::string(kMaxMessageBytes, 'a') + "\"}}";
  Message m = ParseMessage(text);
  auto* invalid = std::get_if<Invalid>(&m);
  ASSERT_NE(invalid, nullptr);
  EXPECT_EQ(invalid->error.code, kInvalidRequest);
  EXPECT_THAT(invalid->error.message, HasSubstr("the limit is 4194304 bytes"));
  EXPECT_TRUE(CheckMessageSize(kMaxMessageBytes).ok());
  EXPECT_EQ(CheckMessageSize(kMaxMessageBytes + 1).code(), StatusCode::kResourceExhausted);
}

TEST(JsonRpcParseTest, RandomJunkNeverThrows) {
  std::mt19937 rng(12345);
  const std::string alphabet = "{}[]\":,0123456789.-eE truefalsnul\\\x01\xc3\xa9\xff";
  const std::vector<std::string> seeds = {
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}})",
      R"({"jsonrpc":"2.0","id":"s","result":{}})",
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})",
  };
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    if (i % 2 == 0) {
      int len = static_cast<int>(rng() % 64);
      for (int k = 0; k < len; ++k) text += alphabet[rng() % alphabet.size()];
    } else {
      text = seeds[rng() % seeds.size()];
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < edits; ++k) {
        text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
      }
    }
    Message m = ParseMessage(text);
    if (auto* invalid = std::get_if<Invalid>(&m)) {
      EXPECT_TRUE(invalid->error.code == kParseError || invalid->error.code == kInvalidRequest);
      EXPECT_TRUE(invalid->id.is_null() || IsValidId(invalid->id));
      EXPECT_FALSE(invalid->error.message.empty());
    }
  }
}

TEST(JsonRpcBuildTest, ResultAndErrorResponses) {
  EXPECT_EQ(ResultResponse(json("a"), {{"x", 1}}),
            json({{"jsonrpc", "2.0"}, {"id", "a"}, {"result", {{"x", 1}}}}));
  EXPECT_EQ(
      ErrorResponse(json(3), kMethodNotFound, "nope"),
      json({{"jsonrpc", "2.0"}, {"id", 3}, {"error", {{"code", -32601}, {"message", "nope"}}}}));
  Error error;
  error.code = kInvalidParams;
  error.message = "m";
  error.data = {{"k", 1}};
  EXPECT_EQ(ErrorResponse(nullptr, error)["error"]["data"], json({{"k", 1}}));
  EXPECT_TRUE(ErrorResponse(nullptr, error)["id"].is_null());
}

TEST(JsonRpcBuildTest, Notifications) {
  EXPECT_EQ(MakeNotification("a", nullptr), json({{"jsonrpc", "2.0"}, {"method", "a"}}));
  EXPECT_EQ(MakeNotification("a", {{"p", 1}})["params"], json({{"p", 1}}));
}

TEST(JsonRpcBuildTest, SerializeReplacesInvalidUtf8) {
  json value = {{"s", std::string("a\xff")}};
  std::string text = Serialize(value);
  EXPECT_THAT(text, HasSubstr("\"s\":\"a"));
  EXPECT_FALSE(json::parse(text, nullptr, false).is_discarded());
}

TEST(JsonRpcIdTest, KeysTellTypesApart) {
  EXPECT_NE(IdKey(json(1)), IdKey(json("1")));
  EXPECT_EQ(IdKey(json(1)), IdKey(json(1)));
  EXPECT_NE(IdKey(json("n:1")), IdKey(json(1)));
  EXPECT_TRUE(IsValidId(json(0)));
  EXPECT_TRUE(IsValidId(json("")));
  EXPECT_FALSE(IsValidId(json(1.0)));
  EXPECT_FALSE(IsValidId(json(nullptr)));
}

}  // namespace
}  // namespace troupe::jsonrpc
