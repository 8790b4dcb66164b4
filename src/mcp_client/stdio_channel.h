// An MCP server as a child process: newline-delimited JSON-RPC on its stdin and stdout, its
// stderr kept (the last 4 KiB) for the message when it fails.
//
// The process is the user's configured program and runs as the user, outside the tool sandbox
// (it needs what it was written for: its network, its caches, npx's downloads — as in Claude
// Code and every other MCP client). It gets its own process group, SIGKILL when the daemon dies
// (PR_SET_PDEATHSIG), stdin closed and the whole group killed on Close, so nothing of it outlives
// the channel.
//
// Ends as defined: a line of stdout over `max_line_bytes` (a flood), or a line that is not
// JSON, closes the channel and kills the group; so does the process exiting (on_closed says its
// exit code or signal and the tail of its stderr).
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <array>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "mcp_client/mcp_channel.h"

namespace troupe {

struct StdioServerSpec {
  std::string program;  // looked up in `env`'s PATH when it has no '/'
  std::vector<std::string> args;
  std::vector<std::string> env;  // "NAME=value", the child's whole environment
  std::string cwd;               // "" = ours
  size_t max_line_bytes = 4 * 1024 * 1024;
};

class StdioChannel : public McpChannel {
 public:
  StdioChannel(boost::asio::io_context& io, StdioServerSpec spec);
  ~StdioChannel() override;

  Status Open(McpChannelCallbacks callbacks) override;
  void Send(const nlohmann::json& message) override;
  void Abandon(const nlohmann::json& id) override { (void)id; }
  void Close() override;
  std::string Describe() const override;

  pid_t pid() const { return pid_; }

 private:
  void ReadStdout();
  void ReadStderr();
  void WriteNext();
  // Reads what is left in the stderr pipe into stderr_tail_, without blocking.
  void DrainStderr();
  void Fail(Status why);
  // Waits up to `grace_polls` × 5 ms for the child to exit, then kills the group and reaps the
  // child; the exit text ("exited with code 1").
  std::string Reap(int grace_polls);

  boost::asio::io_context& io_;
  StdioServerSpec spec_;
  McpChannelCallbacks callbacks_;
  pid_t pid_ = 0;
  std::unique_ptr<boost::asio::posix::stream_descriptor> in_, out_, err_;
  std::string line_;                 // stdout bytes since the last newline
  std::string stderr_tail_;          // the last 4 KiB of stderr
  std::array<char, 65536> out_buf_;
  std::array<char, 4096> err_buf_;
  std::deque<std::string> writes_;   // queued lines; the front is being written
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The first `name` in the directories of a PATH value (skipping empty and relative entries);
// `name` itself when it has a '/'; "" when none is executable.
std::string FindProgram(const std::string& name, const std::string& path);

}  // namespace troupe
