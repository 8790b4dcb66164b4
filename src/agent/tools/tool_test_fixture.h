// For tool tests: a real workspace under /tmp, an event loop with a LoopClock and a
// ThreadPoolExecutor, and RunTool, which starts a tool and drives the loop until it answers.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "agent/tool.h"
#include "agent/tool_executor.h"
#include "core/event_loop.h"
#include "core/testing/loop_runner.h"
#include "core/testing/test_dir.h"

namespace troupe::testing {

inline void WriteText(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// /proc/PID/stat of a process that may exit while it is read: the read then fails with ESRCH,
// which std::ifstream turns into an exception; "" instead.
inline std::string ReadProcFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  return n > 0 ? std::string(buf, size_t(n)) : "";
}

// Whether no process of group `pgid` is alive: the group is gone (kill says ESRCH), or only
// zombies waiting for init to reap them are left.
inline bool GroupGone(pid_t pgid) {
  if (kill(-pgid, 0) != 0 && errno == ESRCH) return true;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = ReadProcFile(entry.path().string() + "/stat");
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size()) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (sscanf(stat.c_str() + paren + 2, "%c %ld %ld", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') return false;
  }
  return true;
}

// Polls GroupGone for up to `limit`.
inline bool WaitGroupGone(pid_t pgid, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!GroupGone(pgid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Whether a live (not zombie) process has exactly `cmdline` (its arguments joined by NUL):
// finds processes that left their group or namespace.
inline bool ProcessRunning(const std::string& cmdline) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string line = ReadProcFile(entry.path().string() + "/cmdline");
    while (!line.empty() && line.back() == '\0') line.pop_back();
    if (line != cmdline) continue;
    const std::string stat = ReadProcFile(entry.path().string() + "/stat");
    const size_t paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() &&
        (stat[paren + 2] == 'Z' || stat[paren + 2] == 'X')) {
      continue;
    }
    return true;
  }
  return false;
}

// Polls ProcessRunning until it is false, for up to `limit`.
inline bool WaitNotRunning(const std::string& cmdline,
                           std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (ProcessRunning(cmdline)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class ToolTest : public ::testing::Test {
 protected:
  ToolTest() : clock_(io_), executor_(io_, 2) {
    context_.workspace_root = dir_.path().string();
    context_.session_id = "ses_test";
    context_.task_id = "bg_test";
    context_.clock = &clock_;
    context_.executor = &executor_;
  }

  std::string root() const { return dir_.path().string(); }
  std::string Abs(const std::string& relative) const { return root() + "/" + relative; }
  void Write(const std::string& relative, const std::string& text) {
    WriteText(Abs(relative), text);
  }
  std::string Read(const std::string& relative) const { return ReadText(Abs(relative)); }

  // Starts `tool`, checks that it does not answer inside Start, and runs the loop until it
  // answers (at most 10 s).
  ToolResult RunTool(Tool& tool, const nlohmann::json& arguments) {
    std::optional<ToolResult> result;
    bool starting = true;
    bool answered_in_start = false;
    std::unique_ptr<ToolRun> run = tool.Start(arguments, context_, [&](ToolResult r) {
      answered_in_start = answered_in_start || starting;
      result = std::move(r);
    });
    starting = false;
    EXPECT_FALSE(answered_in_start) << tool.spec().name << " answered inside Start";
    EXPECT_TRUE(RunLoopUntil(io_, [&] { return result.has_value(); }))
        << tool.spec().name << " did not answer";
    return result.value_or(ToolResult::Error("<no answer>"));
  }

  TestDir dir_;
  boost::asio::io_context io_;
  LoopClock clock_;
  ThreadPoolExecutor executor_;  // destroyed before the loop and the clock
  ToolContext context_;
};

}  // namespace troupe::testing
