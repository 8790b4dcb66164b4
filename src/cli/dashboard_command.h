// `troupe dashboard`: asks the daemon (starting it if needed) for a one-time login link to the
// browser board (POST /v1/dashboard/session), prints it, and with --open hands it to $BROWSER or
// xdg-open.
#pragma once

#include <string>
#include <vector>

#include "cli/command_env.h"

namespace troupe {

struct DashboardCommandOptions {
  bool open = false;
  bool json = false;
};
int RunDashboardCommand(CommandEnv& env, const DashboardCommandOptions& options);

// The command line that opens `url`: $BROWSER's words (`browser_env`, split on blanks) then the
// URL, else `xdg_open` (a path, "" when not installed) and the URL; empty when neither.
std::vector<std::string> BrowserCommand(const std::string& browser_env, const std::string& xdg_open,
                                        const std::string& url);

}  // namespace troupe
