#include "core/testing/threaded_http_test_server.h"

#include <boost/asio/post.hpp>
#include <future>

namespace troupe::testing {

Result<std::unique_ptr<ThreadedHttpTestServer>> ThreadedHttpTestServer::Start(
    HttpTestServer::Handler handler) {
  std::unique_ptr<ThreadedHttpTestServer> s(new ThreadedHttpTestServer());
  Result<std::unique_ptr<HttpTestServer>> server = HttpTestServer::Start(s->io_);
  if (!server.ok()) return server.status();
  s->server_ = std::move(server).value();
  s->server_->SetHandler(std::move(handler));
  s->port_ = s->server_->port();
  s->thread_ = std::thread([raw = s.get()] { raw->io_.run(); });
  return s;
}

ThreadedHttpTestServer::~ThreadedHttpTestServer() {
  boost::asio::post(io_, [this] { server_.reset(); });
  work_.reset();
  thread_.join();
}

int ThreadedHttpTestServer::OnServerThread(std::function<int(const HttpTestServer&)> read) {
  std::promise<int> result;
  boost::asio::post(io_, [&] { result.set_value(read(*server_)); });
  return result.get_future().get();
}

int ThreadedHttpTestServer::accepted_connections() {
  return OnServerThread([](const HttpTestServer& s) { return s.accepted_connections(); });
}

int ThreadedHttpTestServer::peer_closes() {
  return OnServerThread([](const HttpTestServer& s) { return s.peer_closes(); });
}

int ThreadedHttpTestServer::open_connections() {
  return OnServerThread([](const HttpTestServer& s) { return s.open_connections(); });
}

}  // namespace troupe::testing
