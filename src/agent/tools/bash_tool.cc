#include "agent/tools/bash_tool.h"

#include "agent/pending_tool_run.h"
#include "agent/process_runner.h"
#include "agent/ripgrep.h"
#include "agent/tool_args.h"

namespace troupe {
namespace {

struct BashRequest {
  std::string command;
  int64_t timeout_ms = BashTool::kDefaultTimeoutMs;
};

// "200 ms", "1.5 s", "120 s".
std::string TimeoutText(int64_t ms) {
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + " s";
}

ToolResult RunCommand(const Sandbox& sandbox, const std::string& bash, const std::string& root,
                      const BashRequest& r, const std::optional<NetworkAccess>& network,
                      const std::string& task_id,
                      const std::vector<std::pair<std::string, std::string>>& env,
                      ProcessHandle* handle) {
  ProcessOptions options;
  options.argv = {bash, "-c", r.command};
  options.cwd = root;
  options.env = env;
  options.merge_stderr = true;
  options.timeout_ms = r.timeout_ms;
  options.stdout_head = BashTool::kOutputHeadBytes;
  options.stdout_tail = BashTool::kOutputTailBytes;
  Result<ProcessOptions> sandboxed =
      sandbox.Wrap(std::move(options), root, network, SandboxView::kSystem, task_id);
  if (!sandboxed.ok()) return ToolResult::Error("bash: refused: " + sandboxed.status().message());
  Result<ProcessResult> run = RunProcess(*sandboxed, handle);
  if (!run.ok()) return ToolResult::Error("bash: " + run.status().message());
  if (run->killed) return ToolResult::Error("bash: cancelled; the process group was killed");
  std::string out = run->out.Text();
  if (run->timed_out) {
    if (!out.empty() && out.back() != '\n') out += '\n';
    return ToolResult::Error(out + "bash: timed out after " + TimeoutText(r.timeout_ms) +
                             "; the process group was killed");
  }
  std::string status;
  if (run->term_signal != 0) {
    status = DescribeSignal(run->term_signal);
  } else if (run->exit_code != 0) {
    status = "exit code " + std::to_string(run->exit_code);
  }
  if (out.empty() && status.empty()) return ToolResult::Ok("(no output)");
  if (!status.empty()) {
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += status;
  }
  return ToolResult::Ok(std::move(out));
}

}  // namespace

BashTool::BashTool(std::string bash, std::shared_ptr<const Sandbox> sandbox)
    : bash_(std::move(bash)), sandbox_(sandbox ? std::move(sandbox) : DefaultSandbox()) {
  spec_.name = "bash";
  spec_.description =
      "Run a command with `bash -c` in the workspace root and return its output (stdout and "
      "stderr together). A non-zero exit appends `exit code N` to the output; that is a normal "
      "result for you to read, not a failure of the tool. stdin is empty, so interactive "
      "commands cannot prompt; pagers are off. The command is killed with everything it started "
      "when it exceeds `timeout_ms` (default 120000 = 2 minutes, at most 600000), and background "
      "processes (`&`) are killed when it finishes. Output longer than 30 KiB keeps its first and "
      "last 15 KiB with a marker in between, so filter noisy commands (`| tail -50`, `| grep`). "
      "The command runs in a sandbox: only the workspace is writable, /tmp is private and "
      "empty, the network may be off, and other processes are not visible. Prefer read, list, "
      "glob, grep, edit and write for files.";
  spec_.input_schema = {
      {"type", "object"},
      {"properties",
       {{"command", {{"type", "string"}, {"description", "The command line to run"}}},
        {"timeout_ms",
         {{"type", "integer"},
          {"minimum", 1},
          {"maximum", kMaxTimeoutMs},
          {"description", "Time limit in milliseconds (default 120000, at most 600000)"}}},
        {"description",
         {{"type", "string"},
          {"description", "A few words saying what the command does, shown to the user"}}}}},
      {"required", {"command"}},
      {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> BashTool::Start(const nlohmann::json& arguments,
                                         const ToolContext& context,
                                         std::function<void(ToolResult)> done) {
  ToolArgs args("bash", arguments);
  auto fail = [&](const Status& s) {
    return PendingToolRun::Answer(context, ToolResult::Error(s.message()), std::move(done));
  };
  if (Status s = args.CheckObject({"command", "timeout_ms", "description"}); !s.ok()) {
    return fail(s);
  }
  BashRequest r;
  Result<std::string> command = args.RequiredString("command", "a shell command line");
  if (!command.ok()) return fail(command.status());
  r.command = *command;
  if (r.command.find('\0') != std::string::npos) {
    return fail(args.Error("`command` must not contain a NUL byte"));
  }
  Result<int64_t> timeout = args.OptionalInt("timeout_ms", kDefaultTimeoutMs, 1, kMaxTimeoutMs);
  if (!timeout.ok()) return fail(timeout.status());
  r.timeout_ms = *timeout;
  Result<std::optional<std::string>> description =
      args.OptionalString("description", "a short description");
  if (!description.ok()) return fail(description.status());

  std::vector<std::pair<std::string, std::string>> env = {
      {"PAGER", "cat"}, {"GIT_PAGER", "cat"}, {"GIT_TERMINAL_PROMPT", "0"}};
  if (!context.session_id.empty()) env.emplace_back("TROUPE_SESSION_ID", context.session_id);
  if (!context.task_id.empty()) env.emplace_back("TROUPE_TASK_ID", context.task_id);
  auto handle = std::make_shared<ProcessHandle>();
  return PendingToolRun::Blocking(
      context,
      [bash = bash_, root = context.workspace_root, r = std::move(r), env = std::move(env),
       sandbox = sandbox_, network = context.network, task_id = context.task_id,
       handle] { return RunCommand(*sandbox, bash, root, r, network, task_id, env, handle.get()); },
      std::move(done), handle);
}

}  // namespace troupe
