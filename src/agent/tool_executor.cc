#include "agent/tool_executor.h"

#include <boost/asio/post.hpp>
#include <exception>
#include <string>

namespace troupe {

ThreadPoolExecutor::ThreadPoolExecutor(boost::asio::io_context& loop, int threads)
    : loop_(loop),
      alive_(std::make_shared<std::atomic<bool>>(true)),
      pool_(static_cast<size_t>(threads < 1 ? 1 : threads)) {}

ThreadPoolExecutor::~ThreadPoolExecutor() {
  alive_->store(false);
  pool_.stop();
  pool_.join();
}

void ThreadPoolExecutor::Run(std::function<ToolResult()> work,
                             std::function<void(ToolResult)> done) {
  boost::asio::post(pool_, [work = std::move(work), done = std::move(done), alive = alive_,
                            &loop = loop_]() mutable {
    ToolResult result;
    try {
      result = work();
    } catch (const std::exception& e) {
      result = ToolResult::Error(std::string("internal error in the tool: ") + e.what());
    } catch (...) {
      result = ToolResult::Error("internal error in the tool");
    }
    // `done` travels to the loop thread; only a moved-from function is left here.
    boost::asio::post(loop, [alive = std::move(alive), done = std::move(done),
                             result = std::move(result)]() mutable {
      if (alive->load()) done(std::move(result));
    });
  });
}

}  // namespace troupe
