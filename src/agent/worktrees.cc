#include "agent/worktrees.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "agent/git_command.h"

namespace troupe {

namespace fs = std::filesystem;

namespace {

// git options that make a command act on the worktree through the git directory troupe
// recorded, whatever the worktree's `.git` file says now.
std::vector<std::string> OnWorktree(const TaskWorktree& w, std::vector<std::string> args) {
  args.insert(args.begin(), {"--git-dir=" + w.git_dir, "--work-tree=" + w.path});
  return args;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// The files git lists (tab-indented) after "error: Your local changes to the following files
// would be overwritten by merge:" and its untracked-files twin.
std::vector<std::string> IndentedFiles(const std::string& text) {
  std::vector<std::string> files;
  for (const std::string& line : Lines(text)) {
    if (line[0] == '\t') files.push_back(line.substr(1));
  }
  return files;
}

std::string Joined(const std::vector<std::string>& items) {
  return fmt::format("{}", fmt::join(items, ", "));
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

// The repository's git directory shared by all its worktrees: <common>/worktrees/<name>.
std::string CommonDirOf(const std::string& worktree_git_dir) {
  return fs::path(worktree_git_dir).parent_path().parent_path().string();
}

std::string ReadSmallFile(const fs::path& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

// NotFound when the task's branch was deleted since.
Status CheckBranch(const TaskWorktree& w) {
  GitOutput branch;
  TROUPE_ASSIGN_OR_RETURN(branch, RunGit(w.repo, {"rev-parse", "--verify", "--quiet", w.branch}));
  if (branch.exit_code != 0) {
    return Status::NotFound(
        fmt::format("branch {} is no longer in repository {}", w.branch, w.repo));
  }
  return Status::Ok();
}

}  // namespace

Result<TaskWorktree> Worktrees::Create(const std::string& workspace, const std::string& base_ref,
                                       const std::string& task_id) {
  GitOutput top;
  TROUPE_ASSIGN_OR_RETURN(top,
                          RunGit(workspace, {"rev-parse", "--show-toplevel", "--show-prefix"}));
  if (top.exit_code != 0) {
    return Status::InvalidArgument(
               fmt::format("workspace {} is not in a git repository ({}); isolation \"worktree\" "
                           "needs one: run `git init` and commit, or launch without isolation",
                           workspace, GitFirstLine(top.err)))
        .WithField("isolation");
  }
  std::vector<std::string> lines = Lines(top.out);
  TaskWorktree w;
  w.repo = lines.empty() ? workspace : lines[0];
  if (lines.size() > 1) {
    w.subdir = lines[1];
    while (!w.subdir.empty() && w.subdir.back() == '/') w.subdir.pop_back();
  }
  const std::string ref = base_ref.empty() ? "HEAD" : base_ref;
  GitOutput base;
  TROUPE_ASSIGN_OR_RETURN(base,
                          RunGit(w.repo, {"rev-parse", "--verify", "--quiet", ref + "^{commit}"}));
  if (base.exit_code != 0) {
    if (base_ref.empty()) {
      return Status::InvalidArgument(
                 fmt::format("repository {} has no commit yet; isolation \"worktree\" starts from "
                             "a commit: commit something first",
                             w.repo))
          .WithField("isolation");
    }
    return Status::InvalidArgument(
               fmt::format("base \"{}\" names no commit in repository {}", base_ref, w.repo))
        .WithField("base");
  }
  w.base = GitFirstLine(base.out);
  w.branch = "troupe/" + task_id;
  w.path = (fs::path(root_) / task_id).string();
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) {
    return Status::IoError(
        fmt::format("cannot make the worktree directory {}: {}", root_, ec.message()));
  }
  TROUPE_RETURN_IF_ERROR(
      RunGitOk(w.repo, {"worktree", "add", "--quiet", "-b", w.branch, w.path, w.base}).status());
  Result<std::string> git_dir = RunGitOk(w.path, {"rev-parse", "--absolute-git-dir"});
  if (!git_dir.ok()) {
    (void)Remove(w);
    return git_dir.status();
  }
  w.git_dir = GitFirstLine(*git_dir);
  return w;
}

bool Worktrees::Present(const TaskWorktree& w) const { return Exists(w.path) && Exists(w.git_dir); }

Status Worktrees::Ensure(TaskWorktree* w) {
  if (Present(*w)) {
    w->removed = false;
    return Status::Ok();
  }
  if (!Exists(w->repo)) {
    return Status::FailedPrecondition(
        fmt::format("the repository {} of worktree branch {} is gone", w->repo, w->branch));
  }
  (void)RunGit(w->repo, {"worktree", "prune"});
  std::error_code ec;
  fs::create_directories(root_, ec);
  TROUPE_RETURN_IF_ERROR(
      RunGitOk(w->repo, {"worktree", "add", "--quiet", w->path, w->branch}).status());
  std::string git_dir;
  TROUPE_ASSIGN_OR_RETURN(git_dir, RunGitOk(w->path, {"rev-parse", "--absolute-git-dir"}));
  w->git_dir = GitFirstLine(git_dir);
  w->removed = false;
  w->finish_error.clear();
  return Status::Ok();
}

void Worktrees::Finish(TaskWorktree* w, const std::string& commit_message) {
  std::vector<std::string> problems;
  if (Exists(w->path) && Exists(w->git_dir)) {
    Status added = RunGitOk(w->path, OnWorktree(*w, {"add", "--all"})).status();
    if (!added.ok()) problems.push_back(added.message());
    Result<GitOutput> staged = RunGit(w->path, OnWorktree(*w, {"diff", "--cached", "--quiet"}));
    if (added.ok() && staged.ok() && staged->exit_code == 1) {
      Status committed =
          RunGitOk(w->path,
                   OnWorktree(*w, {"commit", "--quiet", "--no-verify", "-m", commit_message}))
              .status();
      if (committed.ok()) {
        w->auto_committed = true;
      } else {
        problems.push_back(committed.message());
      }
    }
  }
  Result<std::string> log =
      RunGitOk(w->repo, {"log", "--reverse", "--format=%h %s", w->base + ".." + w->branch, "--"});
  if (log.ok()) {
    w->commits = Lines(*log);
  } else {
    problems.push_back(log.status().message());
  }
  Result<std::string> stat = RunGitOk(w->repo, {"diff", "--stat", w->base, w->branch, "--"});
  if (stat.ok()) {
    w->diff_stat = *stat;
    while (!w->diff_stat.empty() && w->diff_stat.back() == '\n') w->diff_stat.pop_back();
  }
  Status removed = Remove(*w);
  if (removed.ok()) {
    w->removed = true;
  } else {
    problems.push_back(removed.message());
  }
  w->finish_error = fmt::format("{}", fmt::join(problems, "; "));
}

Status Worktrees::Remove(const TaskWorktree& w) {
  if (!Exists(w.path)) {
    (void)RunGit(w.repo, {"worktree", "prune"});
    return Status::Ok();
  }
  Result<GitOutput> removed = RunGit(w.repo, {"worktree", "remove", "--force", w.path});
  if (removed.ok() && removed->exit_code == 0 && !Exists(w.path)) return Status::Ok();
  // git refused (the worktree's .git file was changed, the repository moved...): delete the
  // directory itself and let git forget it.
  std::error_code ec;
  fs::remove_all(w.path, ec);
  if (ec) {
    return Status::IoError(fmt::format("cannot remove worktree {}: {}", w.path, ec.message()));
  }
  (void)RunGit(w.repo, {"worktree", "prune"});
  return Status::Ok();
}

Status Worktrees::Discard(const TaskWorktree& w) {
  TROUPE_RETURN_IF_ERROR(Remove(w));
  return RunGitOk(w.repo, {"branch", "-D", "--quiet", w.branch}).status();
}

Result<std::string> Worktrees::Diff(const TaskWorktree& w) {
  if (!w.removed && Exists(w.path) && Exists(w.git_dir)) {
    std::string diff;
    TROUPE_ASSIGN_OR_RETURN(diff, RunGitOk(w.path, OnWorktree(w, {"diff", w.base, "--"})));
    std::string untracked;
    TROUPE_ASSIGN_OR_RETURN(
        untracked, RunGitOk(w.path, OnWorktree(w, {"ls-files", "--others", "--exclude-standard"})));
    for (const std::string& file : Lines(untracked)) {
      Result<GitOutput> added =
          RunGit(w.path, OnWorktree(w, {"diff", "--no-index", "--", "/dev/null", file}));
      if (added.ok()) diff += added->out;
    }
    return diff;
  }
  TROUPE_RETURN_IF_ERROR(CheckBranch(w));
  return RunGitOk(w.repo, {"diff", w.base, w.branch, "--"});
}

Result<ApplyReport> Worktrees::Apply(const TaskWorktree& w, const std::string& message) {
  ApplyReport report;
  TROUPE_RETURN_IF_ERROR(CheckBranch(w));
  std::string count;
  TROUPE_ASSIGN_OR_RETURN(count,
                          RunGitOk(w.repo, {"rev-list", "--count", w.base + ".." + w.branch}));
  if (GitFirstLine(count) == "0") {
    report.message = fmt::format("nothing to apply: branch {} has no commit since {}", w.branch,
                                 w.base.substr(0, 12));
    return report;
  }
  GitOutput ancestor;
  TROUPE_ASSIGN_OR_RETURN(ancestor,
                          RunGit(w.repo, {"merge-base", "--is-ancestor", w.branch, "HEAD"}));
  if (ancestor.exit_code == 0) {
    report.already_applied = true;
    report.message = fmt::format("{} already holds branch {}: nothing to apply", w.repo, w.branch);
    return report;
  }
  // Conflicts are found without touching the user's files (git >= 2.38).
  GitOutput trial;
  TROUPE_ASSIGN_OR_RETURN(trial, RunGit(w.repo, {"merge-tree", "--write-tree", "--name-only",
                                                 "--no-messages", "HEAD", w.branch}));
  if (trial.exit_code == 1) {
    std::vector<std::string> lines = Lines(trial.out);
    for (size_t i = 1; i < lines.size(); ++i) {
      if (std::find(report.conflicts.begin(), report.conflicts.end(), lines[i]) ==
          report.conflicts.end())
        report.conflicts.push_back(lines[i]);
    }
    report.message = fmt::format(
        "branch {} conflicts with {} in {}; nothing was changed: merge it yourself (git merge {}) "
        "or continue the task to rebase its change",
        w.branch, w.repo, Joined(report.conflicts), w.branch);
    return report;
  }
  if (trial.exit_code != 0) {
    return Status::FailedPrecondition(
        fmt::format("git merge-tree in {} failed (exit {}): {}; applying needs git 2.38 or newer",
                    w.repo, trial.exit_code, GitFirstLine(trial.err)));
  }
  GitOutput merge;
  TROUPE_ASSIGN_OR_RETURN(merge, RunGit(w.repo, {"merge", "--no-ff", "--no-edit", "--no-verify",
                                                 "-m", message, w.branch}));
  if (merge.exit_code != 0) {
    // git refused before changing anything (uncommitted changes in the files the branch changes)
    // or stopped in a conflict: either way the workspace goes back to what it was.
    GitOutput merging;
    TROUPE_ASSIGN_OR_RETURN(merging,
                            RunGit(w.repo, {"rev-parse", "--verify", "--quiet", "MERGE_HEAD"}));
    if (merging.exit_code == 0) (void)RunGit(w.repo, {"merge", "--abort"});
    report.conflicts = IndentedFiles(merge.err + merge.out);
    report.message =
        fmt::format("branch {} was not applied to {}: {}{}; nothing was changed", w.branch, w.repo,
                    GitFirstLine(merge.err.empty() ? merge.out : merge.err),
                    report.conflicts.empty() ? "" : " (" + Joined(report.conflicts) + ")");
    if (report.conflicts.empty()) report.conflicts.push_back("(see message)");
    return report;
  }
  std::string head;
  TROUPE_ASSIGN_OR_RETURN(head, RunGitOk(w.repo, {"rev-parse", "HEAD"}));
  report.applied = true;
  report.merge_commit = GitFirstLine(head);
  report.message =
      fmt::format("merged {} into {} as {}", w.branch, w.repo, report.merge_commit.substr(0, 12));
  return report;
}

Result<std::vector<std::string>> Worktrees::RemoveOrphans(const std::set<std::string>& keep) {
  std::vector<std::string> removed;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return removed;
  for (const fs::directory_entry& entry : fs::directory_iterator(root_, ec)) {
    const std::string path = entry.path().string();
    if (keep.count(path) > 0) continue;
    // Read where its git directory is before deleting; used only to let that repository
    // forget the worktree, and only if that git directory points back here.
    std::string gitdir_line = ReadSmallFile(entry.path() / ".git");
    std::string admin;
    if (gitdir_line.rfind("gitdir: ", 0) == 0) admin = gitdir_line.substr(8);
    std::error_code rm;
    fs::remove_all(entry.path(), rm);
    if (rm) {
      return Status::IoError(
          fmt::format("cannot remove orphaned worktree {}: {}", path, rm.message()));
    }
    removed.push_back(path);
    if (!admin.empty() && ReadSmallFile(fs::path(admin) / "gitdir") == path + "/.git") {
      (void)RunGit(root_, {"--git-dir=" + CommonDirOf(admin), "worktree", "prune"});
    }
  }
  if (ec) return Status::IoError(fmt::format("cannot list {}: {}", root_, ec.message()));
  std::sort(removed.begin(), removed.end());
  return removed;
}

}  // namespace troupe
