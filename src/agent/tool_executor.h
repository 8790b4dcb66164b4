// The production BlockingExecutor: a fixed Boost.Asio thread pool whose results are posted back
// to the engine's event loop.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>

#include "agent/tool.h"

namespace troupe {

class ThreadPoolExecutor : public BlockingExecutor {
 public:
  // `loop` must outlive the executor. `threads` < 1 counts as 1.
  ThreadPoolExecutor(boost::asio::io_context& loop, int threads);
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
  // Drops work that has not started, waits for work that has (cancel tool runs first so their
  // child processes are killed and this does not wait for them), and drops every result not yet
  // delivered: no `done` runs after this returns. Call on the loop thread.
  ~ThreadPoolExecutor() override;

  // Thread-safe. `work` runs on a pool thread; an exception escaping it becomes a tool error.
  // `done` runs on the loop thread, later, unless the executor was destroyed first. `done` is
  // destroyed on the loop thread (or on the thread destroying the executor).
  void Run(std::function<ToolResult()> work, std::function<void(ToolResult)> done) override;

 private:
  boost::asio::io_context& loop_;
  // Read by result handlers on the loop; false once the destructor started.
  std::shared_ptr<std::atomic<bool>> alive_;
  boost::asio::thread_pool pool_;
};

}  // namespace troupe
