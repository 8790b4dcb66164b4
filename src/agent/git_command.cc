#include "agent/git_command.h"

#include <fmt/format.h>

#include "agent/process_runner.h"
#include "agent/sandbox.h"

namespace troupe {

namespace {

// Settings no repository file may override when troupe itself runs git: repository hooks and
// the file-system monitor run programs, and a signing key would prompt.
const std::vector<std::string>& SafetyOptions() {
  static const std::vector<std::string> options = {
      "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
      "-c", "commit.gpgsign=false",     "-c", "tag.gpgsign=false"};
  return options;
}

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  return text;
}

}  // namespace

Result<GitOutput> RunGit(const std::string& cwd, const std::vector<std::string>& args,
                         int64_t timeout_ms) {
  const std::string git = FindExecutable("git", kSystemPath);
  if (git.empty()) {
    return Status::FailedPrecondition(
        fmt::format("git is not installed in any of {}; worktree isolation needs it", kSystemPath));
  }
  ProcessOptions options;
  options.argv = {git, "-C", cwd};
  options.argv.insert(options.argv.end(), SafetyOptions().begin(), SafetyOptions().end());
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.inherit_environment = false;
  options.env = {{"PATH", kSystemPath},
                 {"LANG", "C"},
                 {"LC_ALL", "C"},
                 {"GIT_CONFIG_NOSYSTEM", "1"},
                 {"GIT_CONFIG_GLOBAL", "/dev/null"},
                 {"GIT_TERMINAL_PROMPT", "0"},
                 {"GIT_AUTHOR_NAME", "troupe"},
                 {"GIT_AUTHOR_EMAIL", "troupe@localhost"},
                 {"GIT_COMMITTER_NAME", "troupe"},
                 {"GIT_COMMITTER_EMAIL", "troupe@localhost"}};
  options.timeout_ms = timeout_ms;
  options.stdout_head = 4 * 1024 * 1024;
  options.stderr_head = 16 * 1024;
  options.stderr_tail = 0;
  Result<ProcessResult> run = RunProcess(options);
  if (!run.ok()) return run.status().WithContext("running git in " + cwd);
  if (run->timed_out) {
    return Status::DeadlineExceeded(fmt::format("git {} in {} did not finish within {} ms",
                                                args.empty() ? "" : args[0], cwd, timeout_ms));
  }
  if (run->term_signal != 0) {
    return Status::Internal(fmt::format("git {} in {} was {}", args.empty() ? "" : args[0], cwd,
                                        DescribeSignal(run->term_signal)));
  }
  GitOutput output;
  output.exit_code = run->exit_code;
  output.out = run->out.Text();
  output.err = run->err.Text();
  return output;
}

Result<std::string> RunGitOk(const std::string& cwd, const std::vector<std::string>& args) {
  GitOutput output;
  TROUPE_ASSIGN_OR_RETURN(output, RunGit(cwd, args));
  if (output.exit_code != 0) {
    std::string said = Trimmed(output.err.empty() ? output.out : output.err);
    return Status::FailedPrecondition(fmt::format("git {} in {} failed (exit {}): {}",
                                                  args.empty() ? "" : args[0], cwd,
                                                  output.exit_code, said));
  }
  return output.out;
}

std::string GitFirstLine(const std::string& text) { return Trimmed(text.substr(0, text.find('\n'))); }

}  // namespace troupe
