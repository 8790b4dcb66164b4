// Child processes, the clock and /proc readings of the end-to-end benchmarks.
//
// Clock: every time these benchmarks compare is CLOCK_MONOTONIC in microseconds — NowUs() here,
// std::chrono::steady_clock, and the *_us fields of `troupe mock-llm`'s request log
// (LoopClock::SteadyNowUs) — so readings taken in different processes on one machine compare.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace troupe::bench {

// CLOCK_MONOTONIC, microseconds.
int64_t NowUs();

// Starts `argv` with the environment plus `extra_env` ("NAME=value"), stdout and stderr appended
// to `output_path` ("" = /dev/null). Returns the pid, or -1 when it cannot start.
pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {},
            const std::string& output_path = "");
// Runs `argv` to its end with stdout and stderr to /dev/null; its exit code (127: not started,
// 128: killed by a signal).
int RunToExit(const std::vector<std::string>& argv);
// Waits for `pid` up to `timeout_ms`, then kills it (SIGKILL) and reaps it. Its exit code, or
// -1 when it had to be killed.
int WaitOrKill(pid_t pid, int64_t timeout_ms);

// Raises this process's soft RLIMIT_NOFILE to its hard limit (children inherit it); the new
// soft limit.
int64_t RaiseFileLimit();

struct ProcessUsage {
  double rss_mib = 0;  // VmRSS
  double cpu_s = 0;    // time on a CPU so far, all its (living) threads
  int64_t fds = 0;     // open file descriptors
  // Time its main thread (the daemon's and mock-llm's event loop) was ready to run but waited
  // for a CPU (/proc/PID/schedstat): what a busy machine adds to every latency.
  double run_queue_s = 0;
};
// What /proc says about `pid` now (zeros when it is gone).
ProcessUsage ReadUsage(int64_t pid);

// One line about the machine: CPU model, nproc, kernel, memory, load average.
std::string MachineSummary();

}  // namespace troupe::bench
