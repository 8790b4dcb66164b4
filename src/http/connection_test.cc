// The connection alone: over a socket pair, with a fake host and handler — no listener, no server.
#include "http/connection.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <string>
#include <vector>

#include "core/testing/loop_runner.h"

namespace troupe {
namespace {

namespace asio = boost::asio;
using testing::RunLoopUntil;

class EchoHandler : public HttpHandler {
 public:
  void Handle(std::shared_ptr<HttpExchange> exchange) override {
    paths.push_back(exchange->request().path);
    exchange->Respond(ApiResponse{.status = 200, .content_type = "text/plain", .body = "ok"});
  }
  std::vector<std::string> paths;
};

class FakeHost : public ConnectionHost {
 public:
  explicit FakeHost(asio::io_context& io) : notifier_(std::make_shared<ExchangeNotifier>(io)) {
    options_.bearer_token = "tok";
  }
  const HttpServerOptions& options() const override { return options_; }
  HttpHandler* handler() const override { return const_cast<EchoHandler*>(&handler_); }
  bool stopping() const override { return false; }
  const std::shared_ptr<ExchangeNotifier>& notifier() const override { return notifier_; }
  void ReportResponse(int status) override { statuses.push_back(status); }
  void Authenticated(uint64_t) override {}
  void Remove(uint64_t id) override { removed.push_back(id); }

  EchoHandler handler_;
  std::vector<int> statuses;
  std::vector<uint64_t> removed;

 private:
  HttpServerOptions options_;
  std::shared_ptr<ExchangeNotifier> notifier_;
};

class ConnectionTest : public ::testing::Test {
 protected:
  std::shared_ptr<Connection> Open(bool is_tcp) {
    asio::local::stream_protocol::socket server(io);
    asio::local::connect_pair(client, server);
    StreamSocket socket(io, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), server.release());
    auto connection = std::make_shared<Connection>(host, std::move(socket), 7, is_tcp);
    connection->Start();
    return connection;
  }
  void Send(const std::string& bytes) { asio::write(client, asio::buffer(bytes)); }
  // Runs the loop until `text` has arrived; returns everything read so far.
  std::string ReadUntil(const std::string& text) {
    RunLoopUntil(io, [&] {
      char chunk[4096];
      boost::system::error_code ec;
      client.non_blocking(true);
      const size_t n = client.read_some(asio::buffer(chunk), ec);
      if (!ec) received.append(chunk, n);
      return received.find(text) != std::string::npos || (ec && ec != asio::error::would_block);
    });
    return received;
  }

  asio::io_context io;
  std::shared_ptr<FakeHost> host = std::make_shared<FakeHost>(io);
  asio::local::stream_protocol::socket client{io};
  std::string received;
};

TEST_F(ConnectionTest, AnswersRequestsOneAfterAnotherOnAKeptConnection) {
  auto connection = Open(/*is_tcp=*/false);
  Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string one =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
  EXPECT_EQ(ReadUntil(one + one), one + one);
  EXPECT_EQ(host->handler_.paths, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(host->statuses, (std::vector<int>{200, 200}));
  EXPECT_TRUE(host->removed.empty());
}

TEST_F(ConnectionTest, ClosesAfterAnAnswerTheClientAskedToEndWith) {
  auto connection = Open(/*is_tcp=*/false);
  Send("GET /a HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_NE(ReadUntil("ok").find("Connection: close\r\n"), std::string::npos);
  client.shutdown(asio::socket_base::shutdown_send);  // the client is done: lingering ends
  EXPECT_TRUE(RunLoopUntil(io, [&] { return !host->removed.empty(); }));
  EXPECT_EQ(host->removed, std::vector<uint64_t>{7});
}

TEST_F(ConnectionTest, RefusesATcpRequestWithoutTheTokenBeforeItsBody) {
  auto connection = Open(/*is_tcp=*/true);
  Send("POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\n");
  const std::string answer = ReadUntil("}");
  EXPECT_EQ(answer.rfind("HTTP/1.1 401 Unauthorized\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("WWW-Authenticate: Bearer\r\n"), std::string::npos);
  EXPECT_TRUE(host->handler_.paths.empty());
}

TEST_F(ConnectionTest, AnswersABadTargetWithoutTheHandler) {
  auto connection = Open(/*is_tcp=*/false);
  Send("GET /a%zz HTTP/1.1\r\n\r\n");
  const std::string answer = ReadUntil("}");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("bad %-escape"), std::string::npos);
  EXPECT_TRUE(host->handler_.paths.empty());
}

}  // namespace
}  // namespace troupe
