// For tool tests: a real workspace under /tmp, an event loop with a LoopClock and a
// ThreadPoolExecutor, and RunTool, which starts a tool and drives the loop until it answers.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
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
#include "core/testing/process_table.h"
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

// A directory outside the test's temporary directory (which the sandbox replaces by an empty
// /tmp anyway): next to the test binary. Removed with its contents.
class OutsideDir {
 public:
  // Next to the test binary — unless that is under /tmp (a clone built there, as CI does): the
  // tool sandbox gives its processes a private /tmp, so an outside directory there would be
  // hidden rather than read-only; /var/tmp is outside both.
  OutsideDir() {
    static int count = 0;
    std::filesystem::path base = std::filesystem::current_path();
    if (base == "/tmp" || base.string().starts_with("/tmp/")) base = "/var/tmp";
    path_ = (base / ("outside-" + std::to_string(getpid()) + "-" + std::to_string(++count)))
                .string();
    std::filesystem::create_directories(path_);
  }
  OutsideDir(const OutsideDir&) = delete;
  OutsideDir& operator=(const OutsideDir&) = delete;
  ~OutsideDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& relative, const std::string& text) const {
    WriteText(path_ + "/" + relative, text);
    return path_ + "/" + relative;
  }

 private:
  std::string path_;
};

// A hostile process inside the workspace: a thread that swaps two paths (a directory and a
// symbolic link to outside) back and forth, atomically, until it is destroyed.
class PathSwapper {
 public:
  PathSwapper(std::string a, std::string b)
      : thread_([this, a = std::move(a), b = std::move(b)] {
          while (!stop_.load()) {
            if (syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) ==
                0) {
              swaps_.fetch_add(1);
            }
          }
        }) {}
  ~PathSwapper() {
    stop_.store(true);
    thread_.join();
  }
  int swaps() const { return swaps_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> swaps_{0};
  std::thread thread_;
};

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
