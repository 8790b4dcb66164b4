// What isolation costs, measured with the daemon's own code (issue 17's figures):
//  - a task worktree: `Worktrees::Create` (git rev-parse, worktree add on a new branch) and
//    `Worktrees::Finish` of a task that changed nothing (status, log, diff --stat, worktree
//    remove), on a clone of this repository so the measured repository gets no bench branches;
//  - a tool call in the sandbox: `bash -c true` and `rg TODO src` over the repository, plainly
//    and wrapped by `Sandbox::Wrap` (the same bwrap arguments, hidden paths and limits as a task's
//    tools get).
// Prints the median (and min/max) of N runs of each.
// Run: build/default/bench/worktree_sandbox_bench [--runs 21] [--repo DIR]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "agent/git_command.h"
#include "agent/sandbox.h"
#include "agent/worktrees.h"

namespace troupe {
namespace {

struct Figure {
  double median_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
};

Figure Summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front(), ms.back()};
}

void Print(const std::string& what, const Figure& f) {
  fmt::print("{:<34} median {:8.1f} ms   (min {:.1f}, max {:.1f})\n", what, f.median_ms, f.min_ms,
             f.max_ms);
}

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// The wall time of one run of `options` (which must succeed).
bool TimeProcess(const ProcessOptions& options, double* ms) {
  const auto start = std::chrono::steady_clock::now();
  Result<ProcessResult> run = RunProcess(options);
  *ms = MsSince(start);
  if (!run.ok() || run->exit_code != 0) {
    fmt::print(stderr, "{} failed: {}\n", options.argv.front(),
               run.ok() ? run->err.Text() : run.status().message());
    return false;
  }
  return true;
}

int BenchWorktrees(const std::string& source, const std::string& scratch, int runs) {
  const std::string repo = scratch + "/repo";
  Result<std::string> cloned = RunGitOk(scratch, {"clone", "--quiet", "--no-hardlinks", source, repo});
  if (!cloned.ok()) {
    fmt::print(stderr, "{}\n", cloned.status().message());
    return 1;
  }
  Result<std::string> files = RunGitOk(repo, {"ls-files"});
  const auto tracked = files.ok() ? std::count(files->begin(), files->end(), '\n') : 0;
  fmt::print("repository: a clone of {} ({} tracked files)\n", source, tracked);
  Worktrees worktrees(scratch + "/worktrees");
  std::vector<double> add_ms, remove_ms;
  for (int i = 0; i < runs; ++i) {
    const std::string task = fmt::format("bg_bench{:04d}", i);
    auto start = std::chrono::steady_clock::now();
    Result<TaskWorktree> w = worktrees.Create(repo, "", task);
    add_ms.push_back(MsSince(start));
    if (!w.ok()) {
      fmt::print(stderr, "{}\n", w.status().message());
      return 1;
    }
    start = std::chrono::steady_clock::now();
    worktrees.Finish(&*w, "bench");
    remove_ms.push_back(MsSince(start));
    if (!w->removed || !w->finish_error.empty()) {
      fmt::print(stderr, "finishing {} failed: {}\n", w->path, w->finish_error);
      return 1;
    }
  }
  Print("worktree set-up (Create)", Summarise(add_ms));
  Print("worktree clean-up (Finish)", Summarise(remove_ms));
  return 0;
}

int BenchSandbox(const std::string& workspace, int runs) {
  Sandbox sandbox = Sandbox::Create(SandboxPolicy{});
  fmt::print("sandbox: {}\n", sandbox.Describe());
  if (!sandbox.available()) return 1;
  struct Case {
    std::string name;
    std::vector<std::string> argv;
    SandboxView view;
  };
  const std::vector<Case> cases = {
      {"bash -c true", {FindExecutable("bash", kSystemPath), "-c", "true"}, SandboxView::kSystem},
      {"rg TODO src",
       {FindExecutable("rg", kSystemPath), "--no-config", "--no-require-git", "--color", "never",
        "--line-number", "TODO", "src"},
       SandboxView::kWorkspaceOnly}};
  for (const Case& c : cases) {
    ProcessOptions base;
    base.argv = c.argv;
    base.cwd = workspace;
    base.stdout_head = 1 << 20;
    const ProcessOptions plain = sandbox.Unconfined(base);
    Result<ProcessOptions> wrapped = sandbox.Wrap(base, workspace, std::nullopt, c.view);
    if (!wrapped.ok()) {
      fmt::print(stderr, "{}\n", wrapped.status().message());
      return 1;
    }
    std::vector<double> plain_ms, wrapped_ms;
    for (int i = 0; i < runs; ++i) {  // alternating, so load changes hit both alike
      double ms = 0;
      if (!TimeProcess(plain, &ms)) return 1;
      plain_ms.push_back(ms);
      if (!TimeProcess(*wrapped, &ms)) return 1;
      wrapped_ms.push_back(ms);
    }
    Print(c.name + " plain", Summarise(plain_ms));
    Print(c.name + " in the sandbox", Summarise(wrapped_ms));
  }
  return 0;
}

int Main(int argc, char** argv) {
  int runs = 21;
  std::string repo = TROUPE_SOURCE_DIR;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--runs") == 0) {
      runs = std::max(1, std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--repo") == 0) {
      repo = argv[i + 1];
    } else {
      fmt::print(stderr, "usage: {} [--runs N] [--repo DIR]\n", argv[0]);
      return 2;
    }
  }
  repo = std::filesystem::canonical(repo).string();
  std::string pattern = (std::filesystem::temp_directory_path() / "troupe-wt-bench-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    fmt::print(stderr, "cannot make a temporary directory: {}\n", std::strerror(errno));
    return 1;
  }
  const std::string scratch = pattern;
  std::FILE* load = std::fopen("/proc/loadavg", "r");
  char text[64] = {0};
  if (load != nullptr) {
    if (std::fgets(text, sizeof text, load) == nullptr) text[0] = 0;
    std::fclose(load);
  }
  fmt::print("load: {}, {} runs each\n", std::string(text, strcspn(text, "\n")), runs);
  int code = BenchWorktrees(repo, scratch, runs);
  if (code == 0) code = BenchSandbox(repo, runs);
  std::error_code ignored;
  std::filesystem::remove_all(scratch, ignored);
  return code;
}

}  // namespace
}  // namespace troupe

int main(int argc, char** argv) { return troupe::Main(argc, argv); }
