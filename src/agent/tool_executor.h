// The production BlockingExecutor: two lanes of worker threads whose results are posted back to
// the engine's event loop.
//
// Quick work (reading, writing and editing files) runs on a small fixed number of threads.
// Waiting work (a command, a ripgrep search, anything that waits on a child process or the
// network, possibly for minutes) runs on a lane of its own that grows on demand up to a larger
// cap: its threads only wait, and a task running two slow test suites must not leave every other
// task's file reads queued behind them. In each lane, tasks take turns (FairQueue): a task that
// starts a hundred calls at once delays another task's next call by at most one of its own.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>

#include "agent/tool.h"

namespace troupe {

class ThreadPoolExecutor : public BlockingExecutor {
 public:
  // The cap of the waiting lane unless told otherwise.
  static constexpr int kDefaultWaitingThreads = 64;

  // `loop` must outlive the executor. `threads` (the quick lane) and `waiting_threads` < 1 count
  // as 1. Threads start when work first needs them.
  ThreadPoolExecutor(boost::asio::io_context& loop, int threads,
                     int waiting_threads = kDefaultWaitingThreads);
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
  // Drops work that has not started, waits for work that has (cancel tool runs first so their
  // child processes are killed and this does not wait for them), and drops every result not yet
  // delivered: no `done` runs after this returns. Call on the loop thread.
  ~ThreadPoolExecutor() override;

  // Thread-safe. `work` runs on a worker thread; an exception escaping it becomes a tool error.
  // `done` runs on the loop thread, later, unless the executor was destroyed first. `done` is
  // destroyed on the loop thread (or on the thread destroying the executor). Run is RunFor with
  // quick work of nobody in particular.
  void Run(std::function<ToolResult()> work, std::function<void(ToolResult)> done) override;
  // Abandoned work that has not started is skipped: its `done` gets a tool error saying so.
  void RunFor(const BlockingWork& what, std::function<ToolResult()> work,
              std::function<void(ToolResult)> done) override;

 private:
  class Lane;

  // Read by result handlers on the loop; false once the destructor started.
  std::shared_ptr<std::atomic<bool>> alive_;
  std::unique_ptr<Lane> quick_;
  std::unique_ptr<Lane> waiting_;
};

}  // namespace troupe
