#include "cli/mock_llm_command.h"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <system_error>

#include "core/event_loop.h"
#include "core/status.h"
#include "llm/mock_model.h"
#include "mock_llm/mock_llm_server.h"

namespace troupe {
namespace {

// Writes `port` to `path` through a temporary file and a rename, so a reader polling for the file
// never sees it half written.
Status WritePortFile(const std::string& path, uint16_t port) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << '\n';
    if (!out.flush()) return Status::IoError("cannot write the port file " + temp);
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) return Status::IoError("cannot write the port file " + path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

int RunMockLlm(const MockLlmCommandOptions& options) {
  boost::asio::io_context io;
  LoopClock clock(io);
  MockModel model(MockModelOptions{});

  MockLlmServerOptions server_options;
  server_options.port = uint16_t(options.port);
  if (!options.models.empty()) server_options.models = options.models;
  server_options.log_path = options.log_path;
  server_options.log_conversations = options.log_conversations;
  server_options.log_bodies = options.log_bodies;
  server_options.require_auth = !options.no_auth;
  server_options.now_us = &LoopClock::SteadyNowUs;  // CLOCK_MONOTONIC, as other processes read it
  auto server = MockLlmServer::Start(
      io, &clock, [&model](const ChatRequest& request) { return model.Plan(request); },
      server_options);
  if (!server.ok()) {
    fmt::print(stderr, "troupe mock-llm: {}\n", server.status().ToString());
    return 1;
  }
  std::unique_ptr<MockLlmServer> running = std::move(server).value();
  if (!options.port_file.empty()) {
    if (Status s = WritePortFile(options.port_file, running->port()); !s.ok()) {
      fmt::print(stderr, "troupe mock-llm: {}\n", s.ToString());
      return 1;
    }
  }

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    running.reset();  // closes every connection; requests in progress are logged
    io.stop();
  });
  fmt::print("troupe mock-llm listening on {}\n", running->Url());
  std::fflush(stdout);
  io.run();
  return 0;
}

}  // namespace troupe
