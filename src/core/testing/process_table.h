// For tests that check which processes are alive: /proc read without exceptions, and a search
// by command line that finds processes wherever they went (another group, a new session).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>

namespace troupe::testing {

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

}  // namespace troupe::testing
