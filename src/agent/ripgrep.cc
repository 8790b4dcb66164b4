#include "agent/ripgrep.h"

namespace troupe {

std::vector<std::string> RipgrepBaseArgs() {
  return {"--no-config", "--no-require-git", "--color", "never"};
}

bool GlobNamesHidden(std::string_view glob) {
  size_t start = 0;
  while (start <= glob.size()) {
    size_t end = glob.find('/', start);
    if (end == std::string_view::npos) end = glob.size();
    std::string_view part = glob.substr(start, end - start);
    if (!part.empty() && part[0] == '!') part.remove_prefix(1);
    if (part.size() > 1 && part[0] == '.' && part != "..") return true;
    start = end + 1;
  }
  return false;
}

void AddHiddenFlags(std::string_view glob, std::vector<std::string>& args) {
  if (!GlobNamesHidden(glob)) return;
  args.push_back("--hidden");
  args.push_back("--glob=!.git/");
}

std::shared_ptr<const Sandbox> DefaultSandbox() {
  static const std::shared_ptr<const Sandbox>* const sandbox =
      new std::shared_ptr<const Sandbox>(std::make_shared<Sandbox>(Sandbox::Create({})));
  return *sandbox;
}

Result<ProcessResult> RunRipgrep(const RipgrepOptions& options, std::vector<std::string> args,
                                 const std::string& workspace, const std::string& cwd,
                                 size_t stdout_cap, ProcessHandle* handle) {
  ProcessOptions process;
  process.argv.push_back(options.program);
  for (std::string& a : args) process.argv.push_back(std::move(a));
  process.cwd = cwd;
  process.timeout_ms = options.timeout_ms;
  process.stdout_head = stdout_cap;
  process.stdout_tail = 0;
  process.stderr_head = 4 * 1024;
  process.stderr_tail = 0;
  std::shared_ptr<const Sandbox> sandbox = options.sandbox ? options.sandbox : DefaultSandbox();
  auto cannot_run = [&](const Status& why) {
    return Status::Unavailable("cannot run ripgrep (" + options.program + "): " + why.message() +
                               "; it must be installed in one of " + kSystemPath);
  };
  if (sandbox->available()) {
    Result<ProcessOptions> wrapped = sandbox->Wrap(std::move(process), workspace, /*network=*/false,
                                                   SandboxView::kWorkspaceOnly);
    if (!wrapped.ok()) return cannot_run(wrapped.status());
    process = std::move(wrapped).value();
  } else {
    process = sandbox->Unconfined(std::move(process));
  }
  Result<ProcessResult> result = RunProcess(process, handle);
  if (!result.ok() && result.status().code() != StatusCode::kCancelled) {
    return cannot_run(result.status());
  }
  return result;
}

std::vector<std::string> SplitNulPaths(std::string_view output) {
  std::vector<std::string> paths;
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\0', start);
    if (end == std::string_view::npos) break;  // a path cut by the output cap
    std::string_view path = output.substr(start, end - start);
    if (path.substr(0, 2) == "./") path.remove_prefix(2);
    if (!path.empty()) paths.emplace_back(path);
    start = end + 1;
  }
  return paths;
}

std::string JoinRelative(std::string_view prefix, std::string_view path) {
  if (prefix.empty() || prefix == ".") return std::string(path);
  return std::string(prefix) + "/" + std::string(path);
}

std::string RipgrepMessage(const ProcessResult& result) {
  std::string text = result.err.Text();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty()) text = "ripgrep exited with status " + std::to_string(result.exit_code);
  return text;
}

}  // namespace troupe
