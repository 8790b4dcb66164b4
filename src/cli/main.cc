// The troupe command line.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/config_check.h"
#include "cli/demo.h"

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
  return 2;
}
