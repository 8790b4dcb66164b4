#include "cli/mcp_line_framer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace troupe {
namespace {

std::vector<McpStdinLine> FeedAll(McpLineFramer& framer, const std::vector<std::string>& chunks,
                                  bool finish = true) {
  std::vector<McpStdinLine> lines;
  for (const std::string& chunk : chunks) framer.Feed(chunk, &lines);
  if (finish) framer.Finish(&lines);
  return lines;
}

McpStdinLine Line(std::string text) { return McpStdinLine{std::move(text), 0}; }
McpStdinLine TooLong(size_t bytes) { return McpStdinLine{"", bytes}; }

TEST(McpLineFramerTest, SplitsLinesAndToleratesCrlf) {
  McpLineFramer framer;
  EXPECT_EQ(FeedAll(framer, {"{\"a\":1}\n{\"b\":2}\r\n{\"c\"", ":3}\n"}),
            (std::vector<McpStdinLine>{Line("{\"a\":1}"), Line("{\"b\":2}"), Line("{\"c\":3}")}));
}

TEST(McpLineFramerTest, SkipsBlankLines) {
  McpLineFramer framer;
  EXPECT_EQ(FeedAll(framer, {"\n\r\n  \t\n{}\n\n \r\n[]"}),
            (std::vector<McpStdinLine>{Line("{}"), Line("[]")}));
}

TEST(McpLineFramerTest, CrlfSplitBetweenChunks) {
  McpLineFramer framer;
  EXPECT_EQ(FeedAll(framer, {"one\r", "\ntwo\r", "\n"}),
            (std::vector<McpStdinLine>{Line("one"), Line("two")}));
}

TEST(McpLineFramerTest, OnlyTheLastCrIsALineEnding) {
  McpLineFramer framer;
  EXPECT_EQ(FeedAll(framer, {"a\rb\r\r\n"}), (std::vector<McpStdinLine>{Line("a\rb\r")}));
}

TEST(McpLineFramerTest, FinalLineWithoutNewlineComesAtFinish) {
  McpLineFramer framer;
  std::vector<McpStdinLine> lines;
  framer.Feed("{\"last\":true}", &lines);
  EXPECT_TRUE(lines.empty());
  framer.Finish(&lines);
  EXPECT_EQ(lines, (std::vector<McpStdinLine>{Line("{\"last\":true}")}));
  framer.Finish(&lines);          // idempotent
  framer.Feed("more\n", &lines);  // ignored after the end
  EXPECT_EQ(lines.size(), 1u);
}

TEST(McpLineFramerTest, FinalCrWithoutNewlineIsDropped) {
  McpLineFramer framer;
  EXPECT_EQ(FeedAll(framer, {"x\r"}), (std::vector<McpStdinLine>{Line("x")}));
}

TEST(McpLineFramerTest, TheSameLinesWhateverTheChunking) {
  std::string input;
  std::mt19937 random(7);
  std::vector<McpStdinLine> expected;
  for (int i = 0; i < 200; ++i) {
    std::string text(random() % 40 + 1, 'a' + static_cast<char>(i % 26));
    if (i % 17 == 0) text = std::string(30, 'z');  // above the limit of 20
    input += text;
    input += i % 3 == 0 ? "\r\n" : "\n";
    if (i % 11 == 0) input += "\r\n";  // a blank line
    expected.push_back(text.size() > 20 ? TooLong(text.size()) : Line(text));
  }
  for (int trial = 0; trial < 50; ++trial) {
    McpLineFramer framer(20);
    std::vector<std::string> chunks;
    for (size_t pos = 0; pos < input.size();) {
      const size_t n = std::min<size_t>(random() % 9 + 1, input.size() - pos);
      chunks.push_back(input.substr(pos, n));
      pos += n;
    }
    ASSERT_EQ(FeedAll(framer, chunks), expected) << "trial " << trial;
  }
}

TEST(McpLineFramerTest, OversizeLinesAreDroppedAndTheNextOneServed) {
  McpLineFramer framer(8);
  EXPECT_EQ(
      FeedAll(framer, {"12345678\n", "123456789\n", "12345678\r\n", "ok\n"}),
      (std::vector<McpStdinLine>{Line("12345678"), TooLong(9), Line("12345678"), Line("ok")}));
}

TEST(McpLineFramerTest, AnOversizeLineIsNeverBufferedWhole) {
  McpLineFramer framer(8);
  std::vector<McpStdinLine> lines;
  framer.Feed("0123456789", &lines);
  for (int i = 0; i < 1000; ++i) framer.Feed("abcdefghij", &lines);
  EXPECT_TRUE(lines.empty());
  framer.Feed("\r", &lines);
  framer.Feed("\nnext\n", &lines);
  EXPECT_EQ(lines, (std::vector<McpStdinLine>{TooLong(10010), Line("next")}));
}

TEST(McpLineFramerTest, AnOversizeLastLineAtTheEnd) {
  McpLineFramer framer(4);
  EXPECT_EQ(FeedAll(framer, {"ab\n", "abcdefg"}),
            (std::vector<McpStdinLine>{Line("ab"), TooLong(7)}));
}

TEST(McpLineFramerTest, TheDefaultLimitIsTheJsonRpcOne) {
  McpLineFramer framer;
  std::string big(jsonrpc::kMaxMessageBytes + 1, 'x');
  big += '\n';
  std::string ok(jsonrpc::kMaxMessageBytes, 'y');
  ok += "\r\n";
  EXPECT_EQ(FeedAll(framer, {big, ok}),
            (std::vector<McpStdinLine>{TooLong(jsonrpc::kMaxMessageBytes + 1),
                                       Line(std::string(jsonrpc::kMaxMessageBytes, 'y'))}));
}

}  // namespace
}  // namespace troupe
