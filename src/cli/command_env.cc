#include "cli/command_env.h"

#include <fmt/format.h>

#include <iostream>
#include <iterator>

#include "cli/exit_codes.h"

namespace troupe {

Result<DaemonClient*> CommandEnv::Client() {
  if (!client_) {
    TROUPE_ASSIGN_OR_RETURN(client_, DaemonClient::Connect(options_));
    if (client_->started_daemon() && io_.err_tty) {
      err() << fmt::format("troupe: started the daemon (data in {}, log {})\n",
                           client_->paths().data_dir, client_->paths().log);
    }
  }
  return client_.get();
}

int CommandEnv::Error(int exit_code, const std::string& what, const std::string& hint) {
  std::string line = fmt::format("troupe {}: {}", name_, what);
  if (!hint.empty() && what.find("(hint:") == std::string::npos) {
    line += fmt::format(" (hint: {})", hint);
  }
  err() << line << "\n";
  err().flush();
  return exit_code;
}

int CommandEnv::Fail(const Status& status, const std::string& hint) {
  return Error(ExitCodeForStatus(status), status.message(), hint);
}

int CommandEnv::FailRequest(const Status& status) {
  std::string hint;
  if (client_) {
    const ApiErrorInfo& e = client_->last_error();
    if (e.code == "not_found") {
      hint = "`troupe ps --all` lists the tasks";
    } else if (e.code == "conflict") {
      hint = "wait for the session's current task, e.g. with `troupe wait`";
    } else if (e.code == "unauthorized") {
      hint = "pass the token of <data dir>/token with --token or TROUPE_TOKEN";
    } else if (e.code == "store_unavailable") {
      hint =
          "the daemon cannot write to its data directory (is the disk full?); running tasks "
          "go on and are saved once it can";
    } else if (e.code == "unavailable") {
      hint = "the daemon is stopping; run the command again to start a new one";
    } else if (e.code == "invalid_argument" && e.field == "agent") {
      hint = "`troupe agents` lists the agents";
    } else if (e.code == "invalid_argument" && e.field == "model") {
      hint = "`troupe pools` and `troupe config check` show the models";
    }
  }
  return Fail(status, hint);
}

int CommandEnv::Usage(const std::string& what, const std::string& hint) {
  return Error(kExitUsage, what, hint.empty() ? fmt::format("troupe {} --help", name_) : hint);
}

void CommandEnv::PrintJson(const nlohmann::json& value) {
  out() << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  out().flush();
}

TableOptions CommandEnv::Table() const {
  TableOptions options;
  options.max_width = io_.Width();
  options.color = io_.OutColor();
  return options;
}

Result<std::string> ReadPrompt(const std::vector<std::string>& words, CliIo& io) {
  const bool from_stdin = words.empty() || (words.size() == 1 && words[0] == "-");
  std::string prompt;
  if (from_stdin) {
    if (io.in == nullptr || io.in_tty) {
      return Status::InvalidArgument(
          "no prompt (hint: give it as an argument, or on stdin: `echo PROMPT | troupe run`)");
    }
    prompt.assign(std::istreambuf_iterator<char>(*io.in), std::istreambuf_iterator<char>());
  } else {
    for (const std::string& w : words) {
      if (!prompt.empty()) prompt += ' ';
      prompt += w;
    }
  }
  // A trailing newline from `echo` is not part of the prompt.
  while (!prompt.empty() && (prompt.back() == '\n' || prompt.back() == '\r')) prompt.pop_back();
  if (prompt.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::InvalidArgument(from_stdin ? "the prompt read from stdin is empty"
                                              : "the prompt is empty");
  }
  return prompt;
}

}  // namespace troupe
