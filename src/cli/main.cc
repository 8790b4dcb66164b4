// The troupe command line.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/config_check.h"
#include "cli/demo.h"
#include "cli/mock_llm_command.h"

namespace {
constexpr const char* kVersion = "0.1.0";
}

int main(int argc, char** argv) {
  CLI::App app{"troupe: a team of AI agents working in parallel, in the background"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  troupe::DemoOptions demo;
  auto* demo_cmd = app.add_subcommand(
      "demo", "Run three agents in parallel on this repository with the offline model");
  demo_cmd->add_option("--workspace", demo.workspace, "Repository the agents look at")
      ->capture_default_str();
  demo_cmd->add_option("--data-dir", demo.data_dir,
                       "Keep the demo's database here (default: a temporary directory)");
  demo_cmd->add_option("--speed", demo.speed, "Run the scripted latencies N times faster")
      ->check(CLI::Range(0.01, 1000.0))
      ->capture_default_str();

  troupe::ConfigCheckOptions check;
  auto* config_cmd = app.add_subcommand("config", "Inspect configuration");
  config_cmd->require_subcommand(1);
  auto* check_cmd = config_cmd->add_subcommand(
      "check", "Validate the user and project config files and show the effective settings");
  check_cmd
      ->add_option("--workspace", check.workspace, "Project directory (reads .troupe/troupe.jsonc)")
      ->capture_default_str();
  check_cmd->add_option("--file", check.files, "Check these files instead (merged in order)");
  check_cmd->add_flag("--json", check.json, "Machine-readable output");

  troupe::MockLlmCommandOptions mock_llm;
  auto* mock_llm_cmd = app.add_subcommand(
      "mock-llm", "Serve the scripted mock model over the OpenAI and Anthropic HTTP APIs");
  mock_llm_cmd->add_option("--port", mock_llm.port, "Port on 127.0.0.1 (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  mock_llm_cmd->add_option("--models", mock_llm.models, "Model names for /v1/models (a,b,...)")
      ->delimiter(',');
  mock_llm_cmd->add_option("--log", mock_llm.log_path, "Append each request as a JSON line here");
  mock_llm_cmd->add_flag("--no-auth", mock_llm.no_auth, "Accept requests without an API key");
  mock_llm_cmd->add_option("--port-file", mock_llm.port_file,
                           "Write the bound port to this file once listening");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;  // usage error
  }

  if (*demo_cmd) {
    demo.color = isatty(STDOUT_FILENO) != 0;
    return troupe::RunDemo(demo);
  }
  if (*check_cmd) return troupe::RunConfigCheck(check);
  if (*mock_llm_cmd) return troupe::RunMockLlm(mock_llm);
  return 2;
}
