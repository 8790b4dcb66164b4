#include "agent/tool_executor.h"

#include <boost/asio/post.hpp>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/fair_queue.h"

namespace troupe {

// A set of worker threads, at most `max_threads`, serving one FairQueue. A thread is started
// when work arrives that no idle thread is left to take; threads live until the lane stops.
class ThreadPoolExecutor::Lane {
 public:
  struct Item {
    std::function<ToolResult()> work;
    std::function<void(ToolResult)> done;
    std::shared_ptr<std::atomic<bool>> abandoned;
  };

  Lane(boost::asio::io_context& loop, std::shared_ptr<std::atomic<bool>> alive, int max_threads)
      : loop_(loop), alive_(std::move(alive)), max_threads_(max_threads < 1 ? 1 : max_threads) {}

  ~Lane() { Stop(); }

  void Push(const std::string& owner, Item item) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    queue_.Push(owner, std::move(item));
    // Idle threads each take one queued item; a new thread only for what they cannot take.
    if (queue_.size() > static_cast<size_t>(idle_) &&
        static_cast<int>(threads_.size()) < max_threads_) {
      threads_.emplace_back([this] { Serve(); });
    } else {
      wake_.notify_one();
    }
  }

  // Drops queued work and joins the threads (each finishes the item it is running).
  void Stop() {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      queue_.Clear();
      threads.swap(threads_);
    }
    wake_.notify_all();
    for (std::thread& t : threads) t.join();
  }

 private:
  void Serve() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ++idle_;
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      --idle_;
      if (stopping_) return;
      Item item = std::move(*queue_.Pop());
      lock.unlock();
      Execute(std::move(item));
      lock.lock();
    }
  }

  void Execute(Item item) {
    ToolResult result;
    if (item.abandoned != nullptr && item.abandoned->load()) {
      result = ToolResult::Error("cancelled before it started");
    } else {
      try {
        result = item.work();
      } catch (const std::exception& e) {
        result = ToolResult::Error(std::string("internal error in the tool: ") + e.what());
      } catch (...) {
        result = ToolResult::Error("internal error in the tool");
      }
    }
    // The work's captures are released here, on the worker, as before; `done` travels to the
    // loop thread.
    item.work = nullptr;
    boost::asio::post(loop_, [alive = alive_, done = std::move(item.done),
                              result = std::move(result)]() mutable {
      if (alive->load()) done(std::move(result));
    });
  }

  boost::asio::io_context& loop_;
  const std::shared_ptr<std::atomic<bool>> alive_;
  const int max_threads_;

  std::mutex mu_;
  std::condition_variable wake_;
  FairQueue<Item> queue_;
  std::vector<std::thread> threads_;
  int idle_ = 0;
  bool stopping_ = false;
};

ThreadPoolExecutor::ThreadPoolExecutor(boost::asio::io_context& loop, int threads,
                                       int waiting_threads)
    : alive_(std::make_shared<std::atomic<bool>>(true)),
      quick_(std::make_unique<Lane>(loop, alive_, threads)),
      waiting_(std::make_unique<Lane>(loop, alive_, waiting_threads)) {}

ThreadPoolExecutor::~ThreadPoolExecutor() {
  alive_->store(false);
  quick_->Stop();
  waiting_->Stop();
}

void ThreadPoolExecutor::Run(std::function<ToolResult()> work,
                             std::function<void(ToolResult)> done) {
  RunFor(BlockingWork{}, std::move(work), std::move(done));
}

void ThreadPoolExecutor::RunFor(const BlockingWork& what, std::function<ToolResult()> work,
                                std::function<void(ToolResult)> done) {
  (what.waits ? waiting_ : quick_)
      ->Push(what.owner, Lane::Item{std::move(work), std::move(done), what.abandoned});
}

}  // namespace troupe
