#include "engine/scripted_runner.h"

namespace troupe {

struct ScriptedRunner::Run {
  explicit Run(Clock* clock) : timer(clock) {}
  std::string task_id;
  Script script;
  size_t next = 0;
  RunCallbacks callbacks;
  Timer timer;
  // Set while this run is alive; handles check it so a stale handle cannot touch a newer run.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

class ScriptedRunner::Handle : public RunHandle {
 public:
  Handle(ScriptedRunner* owner, std::string task_id, std::weak_ptr<bool> alive)
      : owner_(owner), task_id_(std::move(task_id)), alive_(std::move(alive)) {}
  void Cancel() override {
    auto alive = alive_.lock();
    if (!alive || !*alive) return;
    owner_->cancelled_.insert(task_id_);
    owner_->End(task_id_);
  }

 private:
  ScriptedRunner* owner_;
  std::string task_id_;
  std::weak_ptr<bool> alive_;
};

ScriptedRunner::ScriptedRunner(Clock* clock, ScriptChooser chooser)
    : clock_(clock), chooser_(std::move(chooser)) {}

ScriptedRunner::~ScriptedRunner() {
  for (auto& [id, run] : runs_) *run->alive = false;
}

std::unique_ptr<RunHandle> ScriptedRunner::Start(const RunRequest& request,
                                                 RunCallbacks callbacks) {
  ++started_;
  if (record_requests_) requests_.push_back(request);
  End(request.task_id);  // a previous attempt of the same task, if any, is over
  auto run = std::make_unique<Run>(clock_);
  run->task_id = request.task_id;
  run->script = chooser_
                    ? chooser_(request)
                    : Script{ScriptStep::Complete(ScriptStep::kNow, "done: " + request.prompt)};
  run->callbacks = std::move(callbacks);
  Run* raw = run.get();
  auto handle = std::make_unique<Handle>(this, request.task_id, raw->alive);
  runs_[request.task_id] = std::move(run);
  Step(raw);
  return handle;
}

void ScriptedRunner::Step(Run* run) {
  while (run->next < run->script.size()) {
    const ScriptStep step = run->script[run->next];  // a copy: End() below destroys the run
    if (step.delay_ms != ScriptStep::kNow) {
      const std::string id = run->task_id;
      std::weak_ptr<bool> alive = run->alive;
      run->timer.Start(step.delay_ms, [this, id, alive] {
        auto a = alive.lock();
        if (!a || !*a) return;
        Run* r = runs_.at(id).get();
        // Run the due step now, then continue with the rest of the script.
        const ScriptStep s = r->script[r->next];
        ++r->next;
        if (s.kind == ScriptStep::Kind::kProgress) {
          r->callbacks.progress(s.progress);
          if (*a) Step(r);
          return;
        }
        RunCallbacks cb = std::move(r->callbacks);
        End(id);
        cb.finish(s.kind == ScriptStep::Kind::kComplete ? RunOutcome::Completed(s.text)
                                                        : RunOutcome::Failed(s.text));
      });
      return;
    }
    ++run->next;
    if (step.kind == ScriptStep::Kind::kProgress) {
      std::weak_ptr<bool> alive = run->alive;
      run->callbacks.progress(step.progress);
      auto a = alive.lock();
      if (!a || !*a) return;  // cancelled from inside the callback
      continue;
    }
    RunCallbacks cb = std::move(run->callbacks);
    End(run->task_id);
    cb.finish(step.kind == ScriptStep::Kind::kComplete ? RunOutcome::Completed(step.text)
                                                       : RunOutcome::Failed(step.text));
    return;
  }
}

void ScriptedRunner::End(const std::string& task_id) {
  auto it = runs_.find(task_id);
  if (it == runs_.end()) return;
  *it->second->alive = false;
  runs_.erase(it);
}

bool ScriptedRunner::Finish(const std::string& task_id, RunOutcome outcome) {
  auto it = runs_.find(task_id);
  if (it == runs_.end()) return false;
  RunCallbacks cb = std::move(it->second->callbacks);
  End(task_id);
  cb.finish(std::move(outcome));
  return true;
}

bool ScriptedRunner::Progress(const std::string& task_id, const ProgressUpdate& update) {
  auto it = runs_.find(task_id);
  if (it == runs_.end()) return false;
  it->second->callbacks.progress(update);
  return true;
}

Result<int> ScriptedRunner::AdmitRequest(const std::string& task_id,
                                         int64_t estimated_prompt_tokens, int max_output_tokens) {
  auto it = runs_.find(task_id);
  if (it == runs_.end()) return Status::NotFound("no run of task " + task_id);
  if (!it->second->callbacks.admit_request) return max_output_tokens;
  return it->second->callbacks.admit_request(estimated_prompt_tokens, max_output_tokens);
}

std::vector<std::string> ScriptedRunner::running() const {
  std::vector<std::string> out;
  for (const auto& [id, run] : runs_) out.push_back(id);
  return out;
}

}  // namespace troupe
