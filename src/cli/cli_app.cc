#include "cli/cli_app.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <list>
#include <map>
#include <vector>

#include "cli/command_env.h"
#include "cli/config_check.h"
#include "cli/daemon_client.h"
#include "cli/demo.h"
#include "cli/exit_codes.h"
#include "cli/dashboard_command.h"
#include "cli/info_commands.h"
#include "cli/mcp_command.h"
#include "cli/mock_llm_command.h"
#include "cli/task_commands.h"
#include "cli/worktree_commands.h"
#include "daemon/daemon.h"

namespace troupe {
namespace {

// --data-dir, --socket, --url, --token: on every command that talks to the daemon.
struct ConnectionFlags {
  std::string data_dir;
  std::string socket;
  std::string url;
  std::string token;

  ClientOptions ToOptions() const {
    ClientOptions options = ClientOptionsFromEnv();
    if (!data_dir.empty()) options.data_dir = data_dir;
    if (!socket.empty()) options.socket = socket;
    if (!url.empty()) options.url = url;
    if (!token.empty()) options.token = token;
    return options;
  }
};

void AddConnectionFlags(CLI::App* command, ConnectionFlags* flags) {
  const char* group = "Daemon connection";
  command
      ->add_option("--data-dir", flags->data_dir,
                   "Daemon state directory (default: ~/.local/share/troupe)")
      ->envname("TROUPE_DATA_DIR")
      ->group(group);
  command
      ->add_option("--socket", flags->socket,
                   "Daemon Unix socket (default: the one of the data directory)")
      ->envname("TROUPE_SOCKET")
      ->group(group);
  command
      ->add_option("--url", flags->url,
                   "Talk to the daemon over TCP instead, e.g. http://127.0.0.1:7077")
      ->envname("TROUPE_URL")
      ->group(group);
  command->add_option("--token", flags->token, "Bearer token for --url (default: <data dir>/token)")
      ->envname("TROUPE_TOKEN")
      ->group(group);
}

// A count or a duration in milliseconds: a whole number >= 0.
const CLI::Validator kWholeNumber(
    [](std::string& value) -> std::string {
      const bool digits = !value.empty() && value.size() <= 18 &&
                          value.find_first_not_of("0123456789") == std::string::npos;
      return digits ? std::string() : "expected a whole number >= 0, got \"" + value + "\"";
    },
    "N");

// A client command: its CLI11 node and what runs when it was chosen.
struct ClientCommand {
  CLI::App* app;
  std::function<int(CommandEnv&)> run;
};

// "troupe <cmd>: <what> (hint: troupe <cmd> --help)" for CLI11's parse errors.
std::string FailureMessage(const CLI::App* app, const CLI::Error& e) {
  std::string name;
  for (const CLI::App* sub = app; sub != nullptr;) {
    const std::vector<CLI::App*> chosen = sub->get_subcommands();
    if (chosen.empty()) break;
    sub = chosen.front();
    name += " " + sub->get_name();
  }
  std::string what = e.what();
  while (!what.empty() && what.back() == '\n') what.pop_back();
  return fmt::format("troupe{}: {} (hint: troupe{} --help)\n", name, what, name);
}

}  // namespace

int RunTroupeCli(int argc, const char* const* argv, CliIo& io, const BuildInfo& build) {
  CLI::App app{"troupe: a team of AI agents working in parallel, in the background"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "troupe " + DescribeBuild(build),
                       "Print the version and the git commit troupe was built from");
  app.footer(kExitCodesHelp);
  app.failure_message(FailureMessage);

  // One set of connection flags per command: CLI11 reads the environment variables of every
  // command, so shared flags would let another command's TROUPE_SOCKET overwrite --socket.
  std::list<ConnectionFlags> connections;
  std::map<const CLI::App*, const ConnectionFlags*> connection_of;
  std::vector<ClientCommand> client_commands;
  auto add_client = [&](const char* name, const char* description) {
    CLI::App* command = app.add_subcommand(name, description);
    command->footer(kExitCodesHelp);
    AddConnectionFlags(command, &connections.emplace_back());
    connection_of[command] = &connections.back();
    return command;
  };

  // ---- Tasks ----
  RunCommandOptions run;
  {
    CLI::App* c = add_client("run", "Start a task in the background and print its id");
    c->add_option("prompt", run.prompt, "What the agent should do (none or -: read stdin)");
    c->add_option("--agent", run.agent, "Agent to run (default: general; see `troupe agents`)");
    c->add_option("--model", run.model,
                  "Model as provider/model (default: the agent's); a,b,...: then fall back to "
                  "b, ... when a fails after its retries");
    c->add_option("--description", run.description, "Short title (default: the prompt's start)");
    c->add_option("--workspace", run.workspace, "Directory the agent works in (default: here)");
    c->add_flag("--wait", run.wait, "Show progress on stderr, then print the result");
    c->add_option("--timeout", run.timeout_ms,
                  "With --wait: give up after MS milliseconds (exit 4)")
        ->check(kWholeNumber);
    c->add_option("--max-tokens", run.max_tokens,
                  "Budget: tokens (in + out) the task may use; lowers the configured one")
        ->check(CLI::PositiveNumber);
    c->add_option("--max-cost", run.max_cost_usd, "Budget: USD the task may spend")
        ->check(CLI::PositiveNumber);
    c->add_option("--tree-max-cost", run.tree_max_cost_usd,
                  "Budget: USD the task and all it delegates may spend together")
        ->check(CLI::PositiveNumber);
    c->add_option("--tree-max-tasks", run.tree_max_tasks,
                  "Budget: tasks it may delegate in all (its whole tree); 0 = the config's")
        ->check(CLI::NonNegativeNumber);
    c->add_option("--isolation", run.isolation,
                  "worktree: run in a fresh git worktree on branch troupe/<id>; none: here")
        ->check(CLI::IsMember({"none", "worktree"}));
    c->add_option("--base", run.base, "With --isolation worktree: start from this commit/branch");
    c->add_flag("--json", run.json, "Print the task as JSON");
    client_commands.push_back({c, [&](CommandEnv& env) { return RunRunCommand(env, run); }});
  }
  ContinueCommandOptions cont;
  {
    CLI::App* c = add_client("continue", "Send a follow-up prompt to a session (a new task)");
    c->add_option("session", cont.session, "Session id (ses_…), or a task id whose session")
        ->required();
    c->add_option("prompt", cont.prompt, "The follow-up (none or -: read stdin)");
    c->add_option("--description", cont.description, "Short title of the new task");
    c->add_flag("--wait", cont.wait, "Show progress on stderr, then print the result");
    c->add_option("--timeout", cont.timeout_ms, "With --wait: give up after MS ms (exit 4)")
        ->check(kWholeNumber);
    c->add_flag("--json", cont.json, "Print the task as JSON");
    client_commands.push_back({c, [&](CommandEnv& env) { return RunContinueCommand(env, cont); }});
  }
  PsCommandOptions ps;
  {
    CLI::App* c = add_client(
        "ps", "List tasks: the active ones and the last 10 finished (--all: every task)");
    c->add_flag("--all,-a", ps.all, "Every task, finished ones included");
    c->add_flag("--watch,-w", ps.watch, "Redraw on every change until Ctrl-C");
    c->add_option("--parent", ps.parent, "Only the tasks delegated by this session");
    c->add_flag("--json", ps.json, "Print the tasks as JSON");
    client_commands.push_back({c, [&](CommandEnv& env) { return RunPsCommand(env, ps); }});
  }
  ShowCommandOptions show;
  {
    CLI::App* c = add_client("show", "Every field of a task, its session and todos");
    c->add_option("id", show.id, "Task id (bg_…) or session id (ses_…)")->required();
    c->add_flag("--json", show.json, "Print as JSON");
    client_commands.push_back({c, [&](CommandEnv& env) { return RunShowCommand(env, show); }});
  }
  OutputCommandOptions output;
  {
    CLI::App* c = add_client("output", "Print a task's result (or its error)");
    c->add_option("id", output.id, "Task id")->required();
    c->add_flag("--wait", output.wait, "Wait until the task has ended");
    c->add_option("--timeout", output.timeout_ms, "With --wait: give up after MS ms (exit 4)")
        ->check(kWholeNumber);
    c->add_flag("--full", output.full, "The session's whole transcript, with tool calls");
    c->add_flag("--json", output.json, "Print as JSON");
    client_commands.push_back({c, [&](CommandEnv& env) { return RunOutputCommand(env, output); }});
  }
  WaitCommandOptions wait;
  {
    CLI::App* c = add_client("wait", "Wait for tasks to end (default: every active task)");
    c->add_option("ids", wait.ids, "Task ids");
    c->add_flag("--any", wait.any, "Return when the first one ends");
    c->add_option("--timeout", wait.timeout_ms, "Give up after MS milliseconds (exit 4)")
        ->check(kWholeNumber);
    c->add_flag("--quiet,-q", wait.quiet, "No progress lines on stderr");
    c->add_flag("--json", wait.json, "Print the tasks as JSON");
    client_commands.push_back({c, [&](CommandEnv& env) { return RunWaitCommand(env, wait); }});
  }
  WorktreeCommandOptions diff;
  {
    CLI::App* c = add_client("diff", "The change an isolated task made on its worktree branch");
    c->add_option("id", diff.id, "Task id (bg_…)")->required();
    c->add_flag("--json", diff.json, "Print as JSON");
    client_commands.push_back({c, [&](CommandEnv& env) { return RunDiffCommand(env, diff); }});
  }
  WorktreeCommandOptions apply;
  {
    CLI::App* c = add_client(
        "apply", "Merge an isolated task's branch into its workspace (conflicts: nothing changes)");
    c->add_option("id", apply.id, "Task id (bg_…)")->required();
    c->add_flag("--json", apply.json, "Print as JSON");
    client_commands.push_back({c, [&](CommandEnv& env) { return RunApplyCommand(env, apply); }});
  }
  CancelCommandOptions cancel;
  {
    CLI::App* c = add_client("cancel", "Cancel tasks; their sessions can be continued");
    c->add_option("ids", cancel.ids, "Task ids");
    c->add_flag("--all", cancel.all, "Cancel every pending and running task");
    c->add_option("--reason", cancel.reason, "Why (kept as the task's error; with ids)");
    c->add_flag("--json", cancel.json, "Print as JSON");
    client_commands.push_back({c, [&](CommandEnv& env) { return RunCancelCommand(env, cancel); }});
  }

  // ---- The daemon's state ----
  ListCommandOptions pools;
  {
    CLI::App* c = add_client("pools", "Concurrency pools: limits, slots in use, queues");
    c->add_flag("--json", pools.json, "Print as JSON");
    client_commands.push_back({c, [&](CommandEnv& env) { return RunPoolsCommand(env, pools); }});
  }
  ListCommandOptions budgets;
  {
    CLI::App* c = add_client("budgets", "Spend today, budgets, and the trees of tasks at work");
    c->add_flag("--json", budgets.json, "Print as JSON");
    client_commands.push_back(
        {c, [&](CommandEnv& env) { return RunBudgetsCommand(env, budgets); }});
  }
  ListCommandOptions agents;
  {
    CLI::App* c = add_client("agents", "The agents tasks can run");
    c->add_flag("--json", agents.json, "Print as JSON");
    client_commands.push_back({c, [&](CommandEnv& env) { return RunAgentsCommand(env, agents); }});
  }
  ListCommandOptions mcp_servers;
  {
    CLI::App* c = add_client("mcp-servers", "The MCP servers agents' tools come from: state, tools");
    c->add_flag("--json", mcp_servers.json, "Print as JSON");
    client_commands.push_back(
        {c, [&](CommandEnv& env) { return RunMcpServersCommand(env, mcp_servers); }});
  }
  EventsCommandOptions events;
  {
    CLI::App* c = add_client("events", "Follow the daemon's events (state changes, progress)");
    c->add_option("--after", events.after, "Replay the stored events after this id first (0: all)")
        ->check(kWholeNumber);
    c->add_option("--task", events.tasks, "Only these tasks (repeat, or a,b)")->delimiter(',');
    c->add_flag("--no-progress", events.no_progress, "State changes only");
    c->add_option("--count", events.count, "Stop after N events")->check(kWholeNumber);
    c->add_option("--duration", events.duration_ms, "Stop after MS milliseconds (exit 0)")
        ->check(kWholeNumber);
    c->add_flag("--json", events.json, "One JSON object per line: {id, event, data}");
    client_commands.push_back({c, [&](CommandEnv& env) { return RunEventsCommand(env, events); }});
  }
  DashboardCommandOptions dashboard;
  {
    CLI::App* c = add_client("dashboard", "Print a one-time login link to the board in the browser");
    c->add_flag("--open", dashboard.open, "Open it with $BROWSER or xdg-open");
    c->add_flag("--json", dashboard.json, "Print as JSON: {url, port, expires_at_ms}");
    client_commands.push_back(
        {c, [&](CommandEnv& env) { return RunDashboardCommand(env, dashboard); }});
  }
  StopCommandOptions stop;
  {
    CLI::App* c = add_client("stop", "Stop the daemon (running tasks resume when it starts again)");
    c->add_option("--timeout", stop.timeout_ms, "Wait at most MS milliseconds for it to exit")
        ->check(kWholeNumber)
        ->capture_default_str();
    client_commands.push_back({c, [&](CommandEnv& env) { return RunStopCommand(env, stop); }});
  }
  {
    CLI::App* c = add_client(
        "mcp", "Serve MCP on stdin/stdout for an AI tool, forwarding to the daemon's /mcp");
    c->footer(
        "Reads one JSON-RPC message per line on stdin and writes one per line on stdout; logs go\n"
        "to stderr. Starts the daemon when none runs, and survives its restarts. Exits 0 when\n"
        "stdin ends (after the answers), on SIGTERM/SIGINT/SIGHUP, or when stdout closes.\n"
        "Example (an MCP client's config): {\"command\": \"troupe\", \"args\": [\"mcp\"]}\n");
    client_commands.push_back({c, [](CommandEnv& env) { return RunMcpCommand(env); }});
  }
  CompletionCommandOptions completion;
  CLI::App* completion_cmd = app.add_subcommand(
      "completion", "Print the shell completion script: source <(troupe completion bash)");
  completion_cmd->add_option("shell", completion.shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));

  // ---- Running things in this process ----
  DemoOptions demo;
  auto* demo_cmd = app.add_subcommand(
      "demo",
      "Run three agents in parallel on a private daemon (offline model unless an API key is set)");
  demo_cmd->add_option("--workspace", demo.workspace, "Repository the agents look at")
      ->capture_default_str();
  demo_cmd->add_option("--data-dir", demo.data_dir,
                       "Keep the demo's database here (default: a temporary directory)");
  demo_cmd->add_option("--model", demo.model,
                       "Model as provider/model (default: from the API keys set, else the "
                       "offline mock model)");
  demo_cmd->add_option("--speed", demo.speed, "Pace the offline model N times faster")
      ->check(CLI::Range(0.01, 1000.0))
      ->capture_default_str();
  demo_cmd->add_option("--timeout", demo.timeout_ms, "Give up after MS milliseconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  ConfigCheckOptions check;
  auto* config_cmd = app.add_subcommand("config", "Inspect configuration");
  config_cmd->require_subcommand(1);
  auto* check_cmd = config_cmd->add_subcommand(
      "check", "Validate the user and project config files and show the effective settings");
  check_cmd
      ->add_option("--workspace", check.workspace, "Project directory (reads .troupe/troupe.jsonc)")
      ->capture_default_str();
  check_cmd->add_option("--file", check.files, "Check these files instead (merged in order)");
  check_cmd->add_flag("--json", check.json, "Machine-readable output");

  MockLlmCommandOptions mock_llm;
  auto* mock_llm_cmd = app.add_subcommand(
      "mock-llm", "Serve the scripted mock model over the OpenAI and Anthropic HTTP APIs");
  mock_llm_cmd->add_option("--port", mock_llm.port, "Port on 127.0.0.1 (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  mock_llm_cmd->add_option("--models", mock_llm.models, "Model names for /v1/models (a,b,...)")
      ->delimiter(',');
  mock_llm_cmd->add_option("--log", mock_llm.log_path, "Append each request as a JSON line here");
  mock_llm_cmd->add_flag("--log-conversations", mock_llm.log_conversations,
                         "Keep each request's system prompt and messages in the request log");
  mock_llm_cmd->add_flag("--log-bodies", mock_llm.log_bodies,
                         "Keep each request's body as sent in the request log");
  mock_llm_cmd->add_flag("--no-auth", mock_llm.no_auth, "Accept requests without an API key");
  mock_llm_cmd->add_option("--port-file", mock_llm.port_file,
                           "Write the bound port to this file once listening");

  ServeOptions serve;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Run the troupe daemon: it owns the tasks and serves the CLI and HTTP clients");
  serve_cmd->add_option("--data-dir", serve.data_dir,
                        "State directory (default $TROUPE_DATA_DIR, else ~/.local/share/troupe)");
  serve_cmd->add_option("--socket", serve.socket, "Unix socket path (default: see docs/CONFIG.md)");
  serve_cmd->add_option("--listen", serve.listen,
                        "Also serve loopback TCP, e.g. 127.0.0.1:7077 (requires the bearer token)");
  serve_cmd
      ->add_option("--workspace", serve.workspace,
                   "Default workspace of tasks; its .troupe/troupe.jsonc is read")
      ->capture_default_str();
  serve_cmd->add_option("--config", serve.config_files,
                        "Read these config files instead of the default ones (merged in order)");
  serve_cmd->add_flag("--detach", serve.detach,
                      "Run in the background, logging to <data dir>/troupe.log");
  serve_cmd->add_option("--log-level", serve.log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  serve_cmd
      ->add_option("--tool-threads", serve.tool_threads,
                   "Threads for quick tool work (read, write, edit); commands and searches, which wait on a child process, have a lane of their own of up to 64")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, *io.out, *io.err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, *io.out, *io.err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, *io.out, *io.err);
  } catch (const CLI::ParseError& e) {
    app.exit(e, *io.out, *io.err);
    return kExitUsage;
  }

  for (const ClientCommand& command : client_commands) {
    if (*command.app) {
      CommandEnv env(command.app->get_name(), io, connection_of.at(command.app)->ToOptions());
      return command.run(env);
    }
  }
  if (*completion_cmd) {
    CommandEnv env("completion", io, ClientOptions{});
    return RunCompletionCommand(env, completion);
  }
  if (*demo_cmd) {
    demo.color = io.OutColor();
    return RunDemo(demo);
  }
  if (*serve_cmd) {
    serve.build = build;
    return RunServe(serve);
  }
  if (*check_cmd) return RunConfigCheck(check);
  if (*mock_llm_cmd) return RunMockLlm(mock_llm);
  return kExitUsage;
}

}  // namespace troupe
