#include "config/jsonc.h"

#include <gtest/gtest.h>

#include <string>

namespace troupe {
namespace {

using nlohmann::json;

// Positions as "line:col" strings, so failures read well.
std::string Pos(TextPosition p) { return std::to_string(p.line) + ":" + std::to_string(p.column); }

std::string ErrorOf(std::string_view text) {
  const JsoncDocument doc = ParseJsonc(text);
  if (doc.ok()) return "no error";
  return Pos(doc.scan.error->position) + ": " + doc.scan.error->message;
}

// Checks the invariants every successful pre-pass keeps: same length, same line ends.
void ExpectSameShape(std::string_view in, const std::string& out) {
  ASSERT_EQ(in.size(), out.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\n' || in[i] == '\r') {
      EXPECT_EQ(out[i], in[i]) << "line end moved at " << i;
    }
  }
}

TEST(JsoncScanTest, EmptyAndBlankInputsHaveNoValue) {
  for (std::string_view text : {"", "   \n\t\r\n", "// only a comment", "/* a */ // b\n/* c */",
                                "\xEF\xBB\xBF", "\xEF\xBB\xBF // bom and comment\n"}) {
    const JsoncDocument doc = ParseJsonc(text);
    EXPECT_TRUE(doc.ok()) << text;
    EXPECT_TRUE(doc.scan.empty) << text;
    EXPECT_TRUE(doc.value.is_null()) << text;
  }
}

TEST(JsoncScanTest, LineCommentsAreBlankedAndLineEndsKept) {
  const std::string text = "{ // first\n  \"a\": 1 // second\n}\n";
  const JsoncScan scan = ScanJsonc(text);
  ASSERT_FALSE(scan.error);
  EXPECT_EQ(scan.json, "{         \n  \"a\": 1          \n}\n");
  ExpectSameShape(text, scan.json);
  EXPECT_EQ(Pos(scan.keys.at("/a")), "2:3");
  EXPECT_EQ(Pos(scan.values.at("/a")), "2:8");
}

TEST(JsoncScanTest, BlockCommentsKeepTheirNewlines) {
  const std::string text = "/* one\n two */ {\"a\": /* x */ true}";
  const JsoncScan scan = ScanJsonc(text);
  ASSERT_FALSE(scan.error);
  EXPECT_EQ(scan.json, "      \n        {\"a\":         true}");
  EXPECT_EQ(Pos(scan.values.at("")), "2:9");
  EXPECT_EQ(Pos(scan.values.at("/a")), "2:23");
  EXPECT_EQ(ParseJsonc(text).value, json({{"a", true}}));
}

TEST(JsoncScanTest, CommentMarkersInsideStringsAreText) {
  const std::string text = R"({"url": "http://x/*y*/", "c": "// no", "d": "/* no */"} // yes)";
  const JsoncDocument doc = ParseJsonc(text);
  ASSERT_TRUE(doc.ok()) << doc.scan.error->message;
  EXPECT_EQ(doc.value, json({{"url", "http://x/*y*/"}, {"c", "// no"}, {"d", "/* no */"}}));
  EXPECT_EQ(doc.scan.json.substr(0, text.size() - 6), text.substr(0, text.size() - 6));
}

TEST(JsoncScanTest, EscapedQuotesAndBackslashesEndStringsCorrectly) {
  // "a\"//b" is one string; "c\\" ends at its second quote, so the // after it is a comment.
  const std::string text = R"({"k": "a\"//b", "m": "c\\"} // comment with "quote)";
  const JsoncDocument doc = ParseJsonc(text);
  ASSERT_TRUE(doc.ok()) << doc.scan.error->message;
  EXPECT_EQ(doc.value, json({{"k", "a\"//b"}, {"m", "c\\"}}));
  EXPECT_EQ(Pos(doc.scan.values.at("/m")), "1:22");
}

TEST(JsoncScanTest, CommentDelimitersNextToStrings) {
  const std::string text = "{\"a\"/*c*/:/*c*/\"b\"//c\n,\"c\":\"/\"}";
  const JsoncDocument doc = ParseJsonc(text);
  ASSERT_TRUE(doc.ok()) << doc.scan.error->message;
  EXPECT_EQ(doc.value, json({{"a", "b"}, {"c", "/"}}));
}

TEST(JsoncScanTest, TrailingCommasAreRemovedAtEveryLevel) {
  const std::string text =
      "{\n"
      "  \"a\": [1, 2, [3,], {\"x\": {\"y\": 1,},},],\n"
      "  \"b\": {\"c\": true, /* before */ },  // after\n"
      "}";
  const JsoncDocument doc = ParseJsonc(text);
  ASSERT_TRUE(doc.ok()) << doc.scan.error->message;
  EXPECT_EQ(doc.value, json::parse(R"({"a": [1, 2, [3], {"x": {"y": 1}}], "b": {"c": true}})"));
  ExpectSameShape(text, doc.scan.json);
  // Only the trailing commas went: the four separating ones stay.
  EXPECT_EQ(std::count(doc.scan.json.begin(), doc.scan.json.end(), ','), 4);
}

TEST(JsoncScanTest, CommasThatAreNotTrailingAreErrors) {
  EXPECT_EQ(ErrorOf("[,]"), "1:2: expected a value or ']', found ','");
  EXPECT_EQ(ErrorOf("{,}"), "1:2: expected a key in double quotes or '}', found ','");
  EXPECT_EQ(ErrorOf("[1,,]"), "1:4: expected a value or ']', found ','");
  EXPECT_EQ(ErrorOf("{\"a\": 1,,}"), "1:9: expected a key in double quotes or '}', found ','");
  EXPECT_EQ(ErrorOf("{\"a\": ,}"), "1:7: expected a value for \"a\", found ','");
  EXPECT_EQ(ErrorOf("{},"),
            "1:3: expected the end of the file after the top-level value, found ','");
}

TEST(JsoncScanTest, CrlfLineEnds) {
  const std::string text = "{\r\n  \"a\": 1, // note\r\n  \"b\": /* x\r\n */ 2,\r\n}\r\n";
  const JsoncDocument doc = ParseJsonc(text);
  ASSERT_TRUE(doc.ok()) << doc.scan.error->message;
  EXPECT_EQ(doc.value, json({{"a", 1}, {"b", 2}}));
  ExpectSameShape(text, doc.scan.json);
  EXPECT_EQ(Pos(doc.scan.keys.at("/a")), "2:3");
  EXPECT_EQ(Pos(doc.scan.keys.at("/b")), "3:3");
  EXPECT_EQ(Pos(doc.scan.values.at("/b")), "4:5");
  EXPECT_EQ(ErrorOf("{\r\n  \"a\": 1\r\n  \"b\": 2}"),
            "3:3: expected ',' or '}' after the value of \"a\", found the string \"b\" (is a ',' "
            "missing before it?)");
}

TEST(JsoncScanTest, Utf8ColumnsCountCharacters) {
  // "é" and "ü" are two bytes each, "日本" three each; columns count characters.
  const std::string text = "{\"é\": \"ü\", /* 日本 */ \"k\": 1}";
  const JsoncDocument doc = ParseJsonc(text);
  ASSERT_TRUE(doc.ok()) << doc.scan.error->message;
  EXPECT_EQ(doc.value, json({{"é", "ü"}, {"k", 1}}));
  EXPECT_EQ(Pos(doc.scan.keys.at("/é")), "1:2");
  EXPECT_EQ(Pos(doc.scan.values.at("/é")), "1:7");
  EXPECT_EQ(Pos(doc.scan.keys.at("/k")), "1:21");
  EXPECT_EQ(Pos(PositionInText(text, text.find("\"k\""))), "1:21");
}

TEST(JsoncScanTest, ByteOrderMarkIsIgnored) {
  const std::string text = "\xEF\xBB\xBF{\"a\": 1}";
  const JsoncDocument doc = ParseJsonc(text);
  ASSERT_TRUE(doc.ok()) << doc.scan.error->message;
  EXPECT_EQ(doc.value, json({{"a", 1}}));
  EXPECT_EQ(doc.scan.json.substr(0, 3), "   ");
  EXPECT_EQ(Pos(doc.scan.values.at("")), "1:1");
  EXPECT_EQ(Pos(doc.scan.keys.at("/a")), "1:2");
  EXPECT_EQ(ErrorOf("\xEF\xBB\xBF{\"a\" 1}"), "1:6: expected ':' after the key \"a\", found '1'");
  // A byte order mark anywhere else is not whitespace.
  EXPECT_EQ(ErrorOf("{\"a\": \xEF\xBB\xBF 1}"),
            "1:7: invalid value '\xEF\xBB\xBF' (expected a string in double quotes, a number, "
            "true, false, null, an object or an array)");
}

TEST(JsoncScanTest, UnterminatedCommentsAndStringsPointAtTheirStart) {
  EXPECT_EQ(ErrorOf("{\"a\": 1,\n  /* never closed\n}"),
            "2:3: unterminated comment: '/*' has no matching '*/'");
  EXPECT_EQ(ErrorOf("/*/"), "1:1: unterminated comment: '/*' has no matching '*/'");
  EXPECT_EQ(ErrorOf("{\"a\": \"open"), "1:7: unterminated string: the closing '\"' is missing");
  EXPECT_EQ(ErrorOf("{\"a\": \"ends with escape\\"),
            "1:7: unterminated string: the closing '\"' is missing");
  EXPECT_EQ(ErrorOf("{\"a\": \"line\n\"}"),
            "1:7: unterminated string: a string must end on the line it starts (write \\n for a "
            "line break)");
  EXPECT_EQ(ErrorOf("{\n \"key\r\n\": 1}"),
            "2:2: unterminated string: a string must end on the line it starts (write \\n for a "
            "line break)");
}

TEST(JsoncScanTest, StructuralErrorsSayWhatWasExpectedAndFound) {
  EXPECT_EQ(ErrorOf("{\n  \"a\": 1\n  \"b\": 2\n}"),
            "3:3: expected ',' or '}' after the value of \"a\", found the string \"b\" (is a ',' "
            "missing before it?)");
  EXPECT_EQ(ErrorOf("{\"a\" 1}"), "1:6: expected ':' after the key \"a\", found '1'");
  EXPECT_EQ(ErrorOf("{foo: 1}"),
            "1:2: expected a key in double quotes or '}', found 'foo' (keys must be in double "
            "quotes: \"foo\")");
  EXPECT_EQ(ErrorOf("{\"a\": [1, 2}"),
            "1:12: expected ',' or ']' after an array element, found '}' (the '[' at 1:7 is not "
            "closed)");
  EXPECT_EQ(ErrorOf("{\"a\": {\n\"b\": 1}"),
            "2:8: unexpected end of file: the '{' at 1:1 is not closed");
  EXPECT_EQ(ErrorOf("]"), "1:1: expected a value, found ']'");
  EXPECT_EQ(ErrorOf("{} {}"),
            "1:4: expected the end of the file after the top-level value, found '{'");
  EXPECT_EQ(ErrorOf("{\"a\": 'x'}"),
            "1:7: invalid value ''x'' (expected a string in double quotes, a number, true, "
            "false, null, an object or an array); strings must be in double quotes");
  EXPECT_EQ(ErrorOf("{\"a\": True}"),
            "1:7: invalid value 'True' (expected a string in double quotes, a number, true, "
            "false, null, an object or an array); true, false and null are written in lowercase");
  EXPECT_EQ(ErrorOf("[01]"),
            "1:2: invalid value '01' (expected a string in double quotes, a number, true, false, "
            "null, an object or an array)");
  EXPECT_EQ(ErrorOf("[1 2]"),
            "1:4: expected ',' or ']' after an array element, found '2' (is a ',' missing before "
            "it?)");
  EXPECT_EQ(ErrorOf("{\"a\": 1 : 2}"),
            "1:9: expected ',' or '}' after the value of \"a\", found ':'");
}

TEST(JsoncScanTest, ValidNumbersAndLiterals) {
  const JsoncDocument doc =
      ParseJsonc("[0, -0, 12, -3.5, 1e3, 2E-2, 6.02e+23, true, false, null, 18446744073709551615]");
  ASSERT_TRUE(doc.ok()) << doc.scan.error->message;
  ASSERT_EQ(doc.value.size(), 11u);
  EXPECT_EQ(doc.value[3], -3.5);
  EXPECT_TRUE(doc.value[9].is_null());
  EXPECT_EQ(doc.value[10].get<uint64_t>(), 18446744073709551615u);
  for (std::string_view bad :
       {"[1.]", "[.5]", "[-]", "[1e]", "[+1]", "[0x10]", "[NaN]", "[1_000]"}) {
    EXPECT_NE(ErrorOf(bad).find("invalid value"), std::string::npos) << bad;
  }
}

TEST(JsoncScanTest, PointersEscapeSlashAndTildeAndDecodeEscapes) {
  const JsoncScan scan = ScanJsonc(
      R"({"m": {"openai/gpt-4o": 1, "a~b": 2, "\u0041\n": 3, "\ud83d\ude00": [true, {"z": 0}]}})");
  ASSERT_FALSE(scan.error);
  EXPECT_EQ(Pos(scan.keys.at("/m/openai~1gpt-4o")), "1:8");
  EXPECT_EQ(Pos(scan.values.at("/m/openai~1gpt-4o")), "1:25");
  EXPECT_TRUE(scan.keys.count("/m/a~0b"));
  EXPECT_TRUE(scan.keys.count("/m/A\n"));
  EXPECT_TRUE(scan.values.count("/m/\xF0\x9F\x98\x80/0"));
  EXPECT_TRUE(scan.values.count("/m/\xF0\x9F\x98\x80/1/z"));
  EXPECT_EQ(AppendJsonPointer("/a", "b/c~d"), "/a/b~1c~0d");
}

TEST(JsoncScanTest, DuplicateKeysAreRecordedAndTheLastWins) {
  const JsoncDocument doc = ParseJsonc("{\"a\": 1,\n \"b\": {\"c\": 1, \"c\": 2},\n \"a\": 3}");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc.value, json({{"a", 3}, {"b", {{"c", 2}}}}));
  EXPECT_EQ(doc.scan.duplicate_keys, (std::vector<std::string>{"/b/c", "/a"}));
  EXPECT_EQ(Pos(doc.KeyPosition("/a")), "3:2");
  EXPECT_EQ(Pos(doc.ValuePosition("/b/c")), "2:21");
  EXPECT_EQ(Pos(doc.KeyPosition("/nope")), "0:0");
}

TEST(JsoncScanTest, NestingIsLimited) {
  const std::string ok = std::string(kMaxJsoncDepth, '[') + std::string(kMaxJsoncDepth, ']');
  EXPECT_TRUE(ParseJsonc(ok).ok());
  const std::string deep = std::string(kMaxJsoncDepth + 1, '[');
  EXPECT_EQ(ErrorOf(deep), "1:129: nested too deeply: more than 128 levels of objects and arrays");
}

TEST(JsoncParseTest, StringContentErrorsComeFromTheParserWithPositions) {
  EXPECT_EQ(ErrorOf("{\n  \"a\": \"x\\qy\"\n}"),
            "2:11: invalid string: forbidden character after backslash");
  EXPECT_EQ(ErrorOf("{\"a\": \"tab\there\"}"),
            "1:11: invalid string: control character U+0009 (HT) must be escaped to \\u0009 or "
            "\\t");
  EXPECT_EQ(ErrorOf("{\"a\": \"bad \xFF byte\"}"), "1:12: invalid string: ill-formed UTF-8 byte");
  EXPECT_EQ(ErrorOf("[\"\\ud800\"]"),
            "1:9: invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF");
  EXPECT_EQ(ErrorOf("{\"k\": 1,\n \"big\": 1e999 }"), "2:9: the number 1e999 is too large");
  EXPECT_EQ(ErrorOf("[-1e999]"), "1:2: the number -1e999 is too large");
}

TEST(JsoncParseTest, InvalidBytesInCommentsAreIgnored) {
  const JsoncDocument doc = ParseJsonc("// \xFF\xFE\n{\"a\": /* \x80 */ 1}");
  ASSERT_TRUE(doc.ok()) << doc.scan.error->message;
  EXPECT_EQ(doc.value, json({{"a", 1}}));
}

TEST(JsoncParseTest, MessagesNeverEchoInvalidBytes) {
  const std::string error = ErrorOf("{\"a\": tr\xFFue}");
  EXPECT_EQ(error,
            "1:7: invalid value 'tr\\xffue' (expected a string in double quotes, a number, true, "
            "false, null, an object or an array)");
}

TEST(PositionInTextTest, CountsLinesAndCharacters) {
  const std::string text = "ab\n\xC3\xA9x\r\nz";
  EXPECT_EQ(Pos(PositionInText(text, 0)), "1:1");
  EXPECT_EQ(Pos(PositionInText(text, 2)), "1:3");
  EXPECT_EQ(Pos(PositionInText(text, 3)), "2:1");
  EXPECT_EQ(Pos(PositionInText(text, 5)), "2:2");  // the 'x' after a 2-byte character
  EXPECT_EQ(Pos(PositionInText(text, 8)), "3:1");
  EXPECT_EQ(Pos(PositionInText(text, 100)), "3:2");  // clamped to the end
  EXPECT_EQ(Pos(PositionInText("\xEF\xBB\xBFq", 3)), "1:1");
}

}  // namespace
}  // namespace troupe
