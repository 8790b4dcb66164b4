// A BlockingExecutor for the tests of git work off the loop: the latch that stands for a slow
// git. Its work waits, held, until the test lets it go; everything runs on the test's thread, in
// the order the test chooses.
#pragma once

#include <deque>
#include <functional>

#include "agent/tool.h"

namespace troupe::testing {

class HeldExecutor : public BlockingExecutor {
 public:
  void Run(std::function<ToolResult()> work, std::function<void(ToolResult)> done) override {
    held_.push_back({std::move(work), std::move(done)});
  }
  size_t held() const { return held_.size(); }
  // Lets the oldest held work run and delivers its result to the loop.
  void Release() {
    Job job = std::move(held_.front());
    held_.pop_front();
    job.done(job.work());
  }
  void ReleaseAll() {
    while (!held_.empty()) Release();
  }
  // Held work that never runs (the process died first).
  void Forget() { held_.clear(); }
  // The work runs but its result is never delivered (the process died in between).
  void RunWithoutDelivering() {
    Job job = std::move(held_.front());
    held_.pop_front();
    (void)job.work();
  }

 private:
  struct Job {
    std::function<ToolResult()> work;
    std::function<void(ToolResult)> done;
  };
  std::deque<Job> held_;
};

}  // namespace troupe::testing
