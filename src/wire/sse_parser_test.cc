#include "wire/sse_parser.h"

#include <gtest/gtest.h>

#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "wire/sse_test_streams.h"

namespace troupe {

void PrintTo(const SseEvent& e, std::ostream* os) {
  *os << "{event=\"" << e.event << "\" data=\"" << e.data << "\" id=\"" << e.id << "\"}";
}

namespace {

// Everything a parser exposes after a whole stream.
struct Parsed {
  std::vector<SseEvent> events;
  bool partial = false;
  std::string last_event_id;
  std::optional<int64_t> retry_ms;
  Status status;

  friend bool operator==(const Parsed&, const Parsed&) = default;
};

Parsed ParseChunks(const std::vector<std::string_view>& chunks, SseParserOptions options = {}) {
  SseParser parser(options);
  Parsed p;
  for (std::string_view chunk : chunks) parser.Feed(chunk, &p.events);
  parser.Finish(&p.events);
  p.partial = parser.has_partial_event();
  p.last_event_id = parser.last_event_id();
  p.retry_ms = parser.retry_ms();
  p.status = parser.status();
  return p;
}

Parsed Parse(std::string_view stream, SseParserOptions options = {}) {
  return ParseChunks({stream}, options);
}

std::vector<SseEvent> Events(std::string_view stream) { return Parse(stream).events; }

SseEvent Message(std::string data, std::string id = "") {
  return SseEvent{"message", std::move(data), std::move(id)};
}

TEST(SseParserTest, DataLineDispatchesOnBlankLine) {
  EXPECT_EQ(Events("data: hello\n\n"), std::vector<SseEvent>{Message("hello")});
  EXPECT_EQ(Events("data: hello\n"), std::vector<SseEvent>{});  // no blank line yet
}

TEST(SseParserTest, RemovesOnlyOneSpaceAfterColon) {
  EXPECT_EQ(Events("data:x\n\n"), std::vector<SseEvent>{Message("x")});
  EXPECT_EQ(Events("data:  x \n\n"), std::vector<SseEvent>{Message(" x ")});
  EXPECT_EQ(Events("data:\tx\n\n"), std::vector<SseEvent>{Message("\tx")});
  EXPECT_EQ(Events("data: a:b: c\n\n"), std::vector<SseEvent>{Message("a:b: c")});
}

TEST(SseParserTest, JoinsDataLinesWithLineFeed) {
  EXPECT_EQ(Events("data: one\ndata: two\ndata:\ndata: four\n\n"),
            std::vector<SseEvent>{Message("one\ntwo\n\nfour")});
}

TEST(SseParserTest, EventFieldSetsTypeForOneEvent) {
  EXPECT_EQ(Events("event: delta\ndata: 1\n\ndata: 2\n\n"),
            (std::vector<SseEvent>{{"delta", "1", ""}, Message("2")}));
  EXPECT_EQ(Events("event: a\nevent: b\ndata: x\n\n"), (std::vector<SseEvent>{{"b", "x", ""}}));
  // An empty event type is "message".
  EXPECT_EQ(Events("event:\ndata: x\n\n"), std::vector<SseEvent>{Message("x")});
}

TEST(SseParserTest, IgnoresComments) {
  EXPECT_EQ(Events(": ping\n\n:\n\n"), std::vector<SseEvent>{});
  EXPECT_EQ(Events("data: a\n: in between\ndata: b\n\n"), std::vector<SseEvent>{Message("a\nb")});
}

TEST(SseParserTest, LineWithoutColonIsFieldNameWithEmptyValue) {
  EXPECT_EQ(Events("data\n\n"), std::vector<SseEvent>{Message("")});
  EXPECT_EQ(Events("data\ndata\n\n"), std::vector<SseEvent>{Message("\n")});
  EXPECT_EQ(Events("event: x\nevent\ndata: y\n\n"), std::vector<SseEvent>{Message("y")});
}

TEST(SseParserTest, IgnoresUnknownFieldsAndFieldNamesAreCaseSensitive) {
  EXPECT_EQ(Events("Data: x\nfoo: bar\ndata : y\n\n"), std::vector<SseEvent>{});
  EXPECT_EQ(Events("foo: bar\ndata: x\n\n"), std::vector<SseEvent>{Message("x")});
}

TEST(SseParserTest, EventWithoutDataIsNotDispatched) {
  EXPECT_EQ(Events("event: foo\n\n"), std::vector<SseEvent>{});
  // ... and its type does not leak into the next event.
  EXPECT_EQ(Events("event: foo\n\ndata: x\n\n"), std::vector<SseEvent>{Message("x")});
  // An empty data line is data, though.
  EXPECT_EQ(Events("data:\n\n"), std::vector<SseEvent>{Message("")});
}

TEST(SseParserTest, AcceptsLfCrAndCrlfLineEnds) {
  const std::vector<SseEvent> expected = {{"e", "a\nb", ""}, Message("c")};
  EXPECT_EQ(Events("event: e\ndata: a\ndata: b\n\ndata: c\n\n"), expected);
  EXPECT_EQ(Events("event: e\rdata: a\rdata: b\r\rdata: c\r\r"), expected);
  EXPECT_EQ(Events("event: e\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n"), expected);
  EXPECT_EQ(Events("event: e\r\ndata: a\rdata: b\n\r\ndata: c\r\r\n"), expected);
}

TEST(SseParserTest, CrlfSplitAcrossChunksIsOneLineEnd) {
  // Were the LF a second line end, "a" and "b" would be two events.
  EXPECT_EQ(ParseChunks({"data: a\r", "\ndata: b\r", "\n\r", "\n"}).events,
            std::vector<SseEvent>{Message("a\nb")});
  // A CR then a CR is two line ends, whatever the chunking.
  EXPECT_EQ(ParseChunks({"data: a\r", "\r", "\n"}).events, std::vector<SseEvent>{Message("a")});
  // An LF that does not follow a CR still ends a line after a chunk boundary.
  EXPECT_EQ(ParseChunks({"data: a\n", "\n"}).events, std::vector<SseEvent>{Message("a")});
  // Empty chunks between CR and LF change nothing.
  EXPECT_EQ(ParseChunks({"data: a\r", "", "\n", "", "\r", "", "\n"}).events,
            std::vector<SseEvent>{Message("a")});
}

TEST(SseParserTest, EventsSplitAcrossChunks) {
  EXPECT_EQ(ParseChunks({"ev", "ent: up", "date\nda", "ta", ":", " ", "x", "\n", "\n"}).events,
            (std::vector<SseEvent>{{"update", "x", ""}}));
}

TEST(SseParserTest, PassesUtf8ThroughUnchangedAcrossChunks) {
  const std::string text = "日本語 — é 🎉";
  const std::string stream = "data: " + text + "\n\n";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    const std::string_view s = stream;
    EXPECT_EQ(ParseChunks({s.substr(0, cut), s.substr(cut)}).events,
              std::vector<SseEvent>{Message(text)})
        << "cut at " << cut;
  }
  // Bytes that are not UTF-8 are not replaced either.
  EXPECT_EQ(Events("data: \xff\xfe\xc3\n\n"), std::vector<SseEvent>{Message("\xff\xfe\xc3")});
}

TEST(SseParserTest, DropsOneLeadingByteOrderMark) {
  EXPECT_EQ(Events("\xEF\xBB\xBF"
                   "data: x\n\n"),
            std::vector<SseEvent>{Message("x")});
  EXPECT_EQ(ParseChunks({"\xEF", "\xBB",
                         "\xBF"
                         "da",
                         "ta: x\n\n"})
                .events,
            std::vector<SseEvent>{Message("x")});
  // A second mark is part of the first field name, so that line is an unknown field.
  EXPECT_EQ(Events("\xEF\xBB\xBF\xEF\xBB\xBF"
                   "data: x\n\n"),
            std::vector<SseEvent>{});
  // Not at the start of the stream, the bytes are data.
  EXPECT_EQ(Events("data: \xEF\xBB\xBF\n\n"), std::vector<SseEvent>{Message("\xEF\xBB\xBF")});
  // A stream cut inside the mark is cut inside a line.
  EXPECT_TRUE(ParseChunks({"\xEF", "\xBB"}).partial);
  EXPECT_FALSE(ParseChunks({"\xEF\xBB", "\xBF"}).partial);
  // Bytes that only began like a mark are the start of a line.
  EXPECT_EQ(ParseChunks({"\xEF\xBB", "data: x\n\n", "data: y\n\n"}).events,
            std::vector<SseEvent>{Message("y")});
}

TEST(SseParserTest, TracksLastEventId) {
  const Parsed p = Parse("id: 7\ndata: a\n\ndata: b\n\nid: 8\ndata: c\n\n");
  EXPECT_EQ(p.events,
            (std::vector<SseEvent>{Message("a", "7"), Message("b", "7"), Message("c", "8")}));
  EXPECT_EQ(p.last_event_id, "8");

  // An empty id resets it; a frame without data still sets it (but dispatches nothing).
  EXPECT_EQ(Parse("id: 7\ndata: a\n\nid\ndata: b\n\n").events,
            (std::vector<SseEvent>{Message("a", "7"), Message("b", "")}));
  const Parsed id_only = Parse("id: 9\n\n");
  EXPECT_TRUE(id_only.events.empty());
  EXPECT_EQ(id_only.last_event_id, "9");

  // The id is only in force once its event is dispatched.
  EXPECT_EQ(Parse("id: 1\ndata: a\n\nid: 2\ndata: b\n").last_event_id, "1");
}

TEST(SseParserTest, IgnoresIdContainingNul) {
  const std::string stream = std::string("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n", 32);
  EXPECT_EQ(Parse(stream).events, (std::vector<SseEvent>{Message("a", "1"), Message("b", "1")}));
}

TEST(SseParserTest, ReadsRetryWhenOnlyDigits) {
  EXPECT_EQ(Parse("retry: 1500\n").retry_ms, 1500);
  EXPECT_EQ(Parse("retry: 1500\nretry: 20\n").retry_ms, 20);
  EXPECT_EQ(Parse("retry: 1500\nretry: 2s\nretry: -1\nretry:\nretry: 1.5\n").retry_ms, 1500);
  EXPECT_EQ(Parse("retry: 99999999999999999999999\n").retry_ms, std::nullopt);
  EXPECT_EQ(Parse("retry: 0\n").retry_ms, 0);
  EXPECT_TRUE(Parse("retry: 10\n\n").events.empty());
}

TEST(SseParserTest, FinishDiscardsAnUnterminatedEvent) {
  Parsed p = Parse("data: a\n\ndata: b");
  EXPECT_EQ(p.events, std::vector<SseEvent>{Message("a")});
  EXPECT_TRUE(p.partial);

  p = Parse("data: a\n\ndata: b\n");  // line complete, blank line missing
  EXPECT_EQ(p.events, std::vector<SseEvent>{Message("a")});
  EXPECT_TRUE(p.partial);

  EXPECT_FALSE(Parse("data: a\n\n").partial);
  EXPECT_FALSE(Parse("").partial);
  EXPECT_FALSE(Parse("data: a\n\n: ping\n").partial);  // comments are not events
  EXPECT_FALSE(Parse("data: a\n\n: pi").partial);
  EXPECT_TRUE(Parse("data: a\n\nid: 4\n").partial);
  EXPECT_TRUE(Parse("data: a\n\nda").partial);
}

TEST(SseParserTest, HasPartialEventIsLiveAndFinishIsFinal) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.Feed("data: a", &events);
  EXPECT_TRUE(parser.has_partial_event());
  parser.Feed("\n\n", &events);
  EXPECT_FALSE(parser.has_partial_event());
  parser.Finish(&events);
  parser.Feed("data: b\n\n", &events);  // ignored after Finish
  parser.Finish(&events);
  EXPECT_EQ(events, std::vector<SseEvent>{Message("a")});
}

TEST(SseParserTest, LineLongerThanLimitIsAnError) {
  SseParserOptions options;
  options.max_line_bytes = 16;
  const std::string ok_line = "data: 0123456789";  // exactly 16 bytes
  EXPECT_EQ(Parse(ok_line + "\n\n", options).events, std::vector<SseEvent>{Message("0123456789")});

  const std::string long_line = "data: 0123456789A";
  for (const std::string& stream :
       {"data: a\n\n" + long_line + "\n\ndata: b\n\n", "data: a\n\n" + long_line}) {
    const Parsed whole = Parse(stream, options);
    EXPECT_EQ(whole.events, std::vector<SseEvent>{Message("a")});
    EXPECT_EQ(whole.status.code(), StatusCode::kResourceExhausted);
    EXPECT_NE(whole.status.message().find("longer than 16 bytes"), std::string::npos);
    EXPECT_NE(whole.status.message().find("max_line_bytes"), std::string::npos);
    // The same error however the stream is chunked.
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < stream.size(); ++i)
      bytes.push_back(std::string_view(stream).substr(i, 1));
    EXPECT_EQ(ParseChunks(bytes, options), whole);
  }
}

TEST(SseParserTest, EventDataLongerThanLimitIsAnError) {
  SseParserOptions options;
  options.max_event_bytes = 10;
  EXPECT_EQ(Parse("data: 01234\ndata: 5678\n\n", options).events,
            std::vector<SseEvent>{Message("01234\n5678")});
  const Parsed p = Parse("data: 01234\ndata: 56789\n\ndata: x\n\n", options);
  EXPECT_TRUE(p.events.empty());
  EXPECT_EQ(p.status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(p.status.message().find("max_event_bytes"), std::string::npos);
}

TEST(SseParserTest, DefaultLimitsAreGenerous) {
  const std::string big(1 << 20, 'x');
  const Parsed p = Parse("data: " + big + "\n\n");
  EXPECT_TRUE(p.status.ok());
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].data.size(), big.size());
}

// --- Recorded-style streams -------------------------------------------------------------------

struct Fixture {
  const char* name;
  std::string_view stream;
  int events;
};

const Fixture kFixtures[] = {
    {"openai", sse_test::kOpenAiChatStream, sse_test::kOpenAiChatStreamEvents},
    {"anthropic", sse_test::kAnthropicMessagesStream, sse_test::kAnthropicMessagesStreamEvents},
    {"crlf", sse_test::kCrlfStream, sse_test::kCrlfStreamEvents},
};

TEST(SseParserStreamsTest, ParseAsTheProvidersMeanThem) {
  const Parsed openai = Parse(sse_test::kOpenAiChatStream);
  ASSERT_EQ(openai.events.size(), size_t{sse_test::kOpenAiChatStreamEvents});
  for (const SseEvent& e : openai.events) EXPECT_EQ(e.event, "message");
  EXPECT_NE(openai.events[1].data.find(R"("arguments":"{\"pa")"), std::string::npos);
  EXPECT_NE(openai.events[3].data.find("日本語 🎉"), std::string::npos);
  EXPECT_NE(openai.events[5].data.find(R"("total_tokens":99)"), std::string::npos);
  EXPECT_EQ(openai.events.back().data, "[DONE]");
  EXPECT_FALSE(openai.partial);

  const Parsed anthropic = Parse(sse_test::kAnthropicMessagesStream);
  std::vector<std::string> types;
  for (const SseEvent& e : anthropic.events) types.push_back(e.event);
  EXPECT_EQ(types, (std::vector<std::string>{
                       "message_start", "content_block_start", "ping", "content_block_delta",
                       "content_block_delta", "content_block_stop", "content_block_start",
                       "content_block_delta", "content_block_stop", "content_block_start",
                       "content_block_delta", "content_block_delta", "content_block_delta",
                       "content_block_stop", "message_delta", "message_stop", "error"}));
  EXPECT_EQ(anthropic.events.back().data,
            R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");

  const Parsed crlf = Parse(sse_test::kCrlfStream);
  EXPECT_EQ(crlf.events, (std::vector<SseEvent>{
                             {"task.updated", "{\"task\":\"bg_1\",\n \"status\":\"running\"}", "1"},
                             Message("line one\n\nline three — ☃", "2"),
                             Message("", "3"),
                             {"done", "bye", "3"}}));
  EXPECT_EQ(crlf.retry_ms, 3000);
  EXPECT_EQ(crlf.last_event_id, "3");
}

TEST(SseParserStreamsTest, SameResultWhateverTheSplitPoint) {
  for (const Fixture& f : kFixtures) {
    for (const std::string& stream :
         {std::string(f.stream), "\xEF\xBB\xBF" + std::string(f.stream)}) {
      const std::string_view s = stream;
      const Parsed whole = Parse(s);
      ASSERT_EQ(whole.events.size(), size_t(f.events)) << f.name;
      for (size_t cut = 0; cut <= s.size(); ++cut) {
        ASSERT_EQ(ParseChunks({s.substr(0, cut), s.substr(cut)}), whole)
            << f.name << ": split at byte " << cut;
      }
    }
  }
}

TEST(SseParserStreamsTest, SameResultInOneByteChunks) {
  for (const Fixture& f : kFixtures) {
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < f.stream.size(); ++i) bytes.push_back(f.stream.substr(i, 1));
    EXPECT_EQ(ParseChunks(bytes), Parse(f.stream)) << f.name;
  }
}

TEST(SseParserStreamsTest, SameResultInRandomChunks) {
  std::mt19937 rng(20240611);
  for (const Fixture& f : kFixtures) {
    const Parsed whole = Parse(f.stream);
    for (int round = 0; round < 200; ++round) {
      std::vector<std::string_view> chunks;
      for (size_t pos = 0; pos < f.stream.size();) {
        const size_t len = std::uniform_int_distribution<size_t>(0, 40)(rng);
        chunks.push_back(f.stream.substr(pos, len));
        pos += len;
      }
      ASSERT_EQ(ParseChunks(chunks), whole) << f.name << " round " << round;
    }
  }
}

TEST(SseParserStreamsTest, CutStreamsReportAPartialEvent) {
  for (const Fixture& f : kFixtures) {
    // Cut right after a "data: " prefix: the event in progress is incomplete.
    const size_t data_at = f.stream.rfind("data: ");
    const Parsed cut = Parse(f.stream.substr(0, data_at + 6));
    EXPECT_TRUE(cut.partial) << f.name;
    EXPECT_EQ(cut.events.size(), size_t(f.events - 1)) << f.name;
  }
}

}  // namespace
}  // namespace troupe
