#include "http/server_exchange.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <vector>

namespace troupe {
namespace {

// Records what an exchange asks of its connection.
class RecordingChannel : public ExchangeChannel {
 public:
  void Respond(uint64_t seq, ApiResponse response) override {
    calls.push_back("respond " + std::to_string(seq) + " " + std::to_string(response.status));
  }
  bool OpenStream(uint64_t seq, int, std::vector<std::pair<std::string, std::string>>) override {
    calls.push_back("open " + std::to_string(seq));
    return accept_stream;
  }
  bool StreamWrite(uint64_t seq, std::string bytes) override {
    calls.push_back("write " + bytes);
    return accept_writes;
  }
  size_t buffered(uint64_t) const override { return 7; }
  void EndStream(uint64_t seq) override { calls.push_back("end " + std::to_string(seq)); }
  void Drop(uint64_t seq) override { calls.push_back("drop " + std::to_string(seq)); }
  void Abandoned(uint64_t seq) override { calls.push_back("abandoned " + std::to_string(seq)); }
  void Abort(uint64_t seq) override { calls.push_back("abort " + std::to_string(seq)); }
  void ObserveWrites(uint64_t seq, std::function<void(WriteProgress)>) override {
    calls.push_back("observe " + std::to_string(seq));
  }

  std::vector<std::string> calls;
  bool accept_stream = true;
  bool accept_writes = true;
};

class ServerExchangeTest : public ::testing::Test {
 protected:
  std::shared_ptr<ServerExchange> Make(uint64_t seq = 3) {
    ApiRequest request;
    request.path = "/p";
    return std::make_shared<ServerExchange>(notifier, channel, seq, std::move(request));
  }

  boost::asio::io_context io;
  std::shared_ptr<ExchangeNotifier> notifier = std::make_shared<ExchangeNotifier>(io);
  std::shared_ptr<RecordingChannel> channel = std::make_shared<RecordingChannel>();
};

TEST_F(ServerExchangeTest, AnswersOnceAndNeverCallsOnCloseAfterARespond) {
  auto exchange = Make();
  EXPECT_EQ(exchange->request().path, "/p");
  bool closed = false;
  exchange->OnClose([&] { closed = true; });
  exchange->Respond(ApiResponse{.status = 201});
  exchange->Respond(ApiResponse{.status = 500});
  EXPECT_FALSE(exchange->OpenStream({}));
  exchange.reset();
  io.run();
  EXPECT_EQ(channel->calls, std::vector<std::string>{"respond 3 201"});
  EXPECT_FALSE(closed);
}

TEST_F(ServerExchangeTest, DroppedUnansweredIsAbandonedAndDroppedStreamingEnds) {
  Make(1).reset();
  auto streaming = Make(2);
  ASSERT_TRUE(streaming->OpenStream({}));
  EXPECT_EQ(streaming->buffered(), 7u);
  streaming.reset();
  EXPECT_EQ(channel->calls, (std::vector<std::string>{"abandoned 1", "open 2", "end 2"}));
}

TEST_F(ServerExchangeTest, OnCloseIsPostedNotRunInsideTheCall) {
  auto exchange = Make();
  int closes = 0;
  exchange->OnClose([&] { ++closes; });
  exchange->Close();
  EXPECT_TRUE(exchange->closed());
  EXPECT_EQ(closes, 0);
  EXPECT_EQ(notifier->pending(), 1u);
  io.run();
  EXPECT_EQ(closes, 1);
  EXPECT_EQ(notifier->pending(), 0u);
  EXPECT_EQ(channel->calls, std::vector<std::string>{"drop 3"});
  // Set after the end: still called, once.
  auto late = Make(4);
  late->Ended();
  late->OnClose([&] { ++closes; });
  io.restart();
  io.run();
  EXPECT_EQ(closes, 2);
}

TEST_F(ServerExchangeTest, AFailedWriteEndsTheExchange) {
  auto exchange = Make();
  ASSERT_TRUE(exchange->OpenStream({}));
  EXPECT_TRUE(exchange->Write("a"));
  channel->accept_writes = false;
  bool closed = false;
  exchange->OnClose([&] { closed = true; });
  EXPECT_FALSE(exchange->Write("b"));
  EXPECT_TRUE(exchange->closed());
  EXPECT_FALSE(exchange->Write("c"));
  io.run();
  EXPECT_TRUE(closed);
}

TEST_F(ServerExchangeTest, PendingCallbacksRunNowWhenTheServerGoesAway) {
  auto exchange = Make();
  bool closed = false;
  exchange->OnClose([&] { closed = true; });
  exchange->Ended();
  notifier->RunPendingNow();
  EXPECT_TRUE(closed);
  EXPECT_EQ(notifier->pending(), 0u);
  io.run();  // the posted run finds nothing left to do
}

}  // namespace
}  // namespace troupe
