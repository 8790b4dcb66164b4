#include "http/listener.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>

#include "core/testing/loop_runner.h"
#include "core/testing/test_dir.h"

namespace troupe {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using testing::RunLoopUntil;
using testing::TestDir;

TEST(LoopbackEndpointTest, AcceptsLoopbackNamesOnly) {
  auto v4 = LoopbackEndpoint("localhost", 8080);
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->address().to_string(), "127.0.0.1");
  EXPECT_EQ(v4->port(), 8080);
  auto v6 = LoopbackEndpoint("[::1]", 0);
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->address().is_v6());

  auto remote = LoopbackEndpoint("0.0.0.0", 80);
  ASSERT_FALSE(remote.ok());
  EXPECT_NE(remote.status().message().find("not a loopback address"), std::string::npos);
  EXPECT_FALSE(LoopbackEndpoint("example.com", 80).ok());
  auto port = LoopbackEndpoint("127.0.0.1", 70000);
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.status().message().find("not a TCP port"), std::string::npos);
}

TEST(ListenerTest, UnixSocketIsPrivateReplacedWhenStaleAndRemovedOnClose) {
  asio::io_context io;
  TestDir dir;
  const std::string path = dir.File("api.sock");
  {  // a socket file left behind, the way a killed daemon leaves it

    asio::local::stream_protocol::acceptor leftover(io);
    leftover.open();
    leftover.bind(asio::local::stream_protocol::endpoint(path));
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  auto listener = std::make_shared<Listener>(io);
  ASSERT_TRUE(listener->ListenUnix(path).ok());
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  listener->Close();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ListenerTest, NeverReplacesOrRemovesAFileThatIsNotItsSocket) {
  asio::io_context io;
  TestDir dir;
  const std::string path = dir.Write("api.sock", "not a socket");
  auto listener = std::make_shared<Listener>(io);
  Status status = listener->ListenUnix(path);
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(status.message().find("is not a socket"), std::string::npos);
  EXPECT_EQ(testing::ReadFileBytes(path), "not a socket");

  // A file put in place of our socket after binding is left alone on Close.
  const std::string other = dir.File("other.sock");
  ASSERT_TRUE(listener->ListenUnix(other).ok());
  std::filesystem::remove(other);
  dir.Write("other.sock", "someone else's");
  listener->Close();
  EXPECT_EQ(testing::ReadFileBytes(other), "someone else's");
}

TEST(ListenerTest, RefusesAPathTooLongForASocket) {
  asio::io_context io;
  auto listener = std::make_shared<Listener>(io);
  Status status = listener->ListenUnix("/tmp/" + std::string(200, 'x'));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("at most"), std::string::npos);
}

TEST(ListenerTest, HandsOnAcceptedSocketsAndStopsAfterClose) {
  asio::io_context io;
  TestDir dir;
  auto listener = std::make_shared<Listener>(io);
  ASSERT_TRUE(listener->ListenTcp(*LoopbackEndpoint("127.0.0.1", 0)).ok());
  ASSERT_TRUE(listener->ListenUnix(dir.File("s")).ok());
  ASSERT_GT(listener->tcp_port(), 0);
  int tcp_accepted = 0;
  int unix_accepted = 0;
  listener->Start([&](StreamSocket socket, bool is_tcp) {
    EXPECT_TRUE(socket.is_open());
    ++(is_tcp ? tcp_accepted : unix_accepted);
  });
  tcp::socket tcp_client(io);
  tcp_client.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                   static_cast<uint16_t>(listener->tcp_port())));
  asio::local::stream_protocol::socket unix_client(io);
  unix_client.connect(asio::local::stream_protocol::endpoint(dir.File("s")));
  EXPECT_TRUE(RunLoopUntil(io, [&] { return tcp_accepted == 1 && unix_accepted == 1; }));

  const int port = listener->tcp_port();
  listener->Close();
  io.run_for(std::chrono::milliseconds(20));
  tcp::socket late(io);
  boost::system::error_code ec;
  late.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)), ec);
  EXPECT_TRUE(ec);  // refused: nothing listens any more
  EXPECT_EQ(tcp_accepted, 1);
}

TEST(ListenerTest, ReportsAnAddressInUse) {
  asio::io_context io;
  auto first = std::make_shared<Listener>(io);
  ASSERT_TRUE(first->ListenTcp(*LoopbackEndpoint("127.0.0.1", 0)).ok());
  auto second = std::make_shared<Listener>(io);
  Status status = second->ListenTcp(*LoopbackEndpoint("127.0.0.1", first->tcp_port()));
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_NE(status.message().find("address in use"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace troupe
