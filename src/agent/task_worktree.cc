#include "agent/task_worktree.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace troupe {

std::string TaskWorktree::workspace() const { return subdir.empty() ? path : path + "/" + subdir; }

std::string TaskWorktreeJson(const TaskWorktree& w) {
  nlohmann::json j = {{"repo", w.repo},     {"gitDir", w.git_dir}, {"path", w.path},
                      {"branch", w.branch}, {"base", w.base},      {"removed", w.removed}};
  if (!w.subdir.empty()) j["subdir"] = w.subdir;
  if (w.auto_committed) j["autoCommitted"] = true;
  if (!w.commits.empty()) j["commits"] = w.commits;
  if (!w.diff_stat.empty()) j["diffStat"] = w.diff_stat;
  if (!w.finish_error.empty()) j["finishError"] = w.finish_error;
  if (!w.finishing.empty()) j["finishing"] = w.finishing;
  return j.dump();
}

Result<TaskWorktree> ParseTaskWorktree(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::Corruption("a task's stored worktree is not a JSON object");
  TaskWorktree w;
  auto text_of = [&](const char* key, std::string* out, bool required) -> Status {
    auto it = j.find(key);
    if (it == j.end()) {
      return required
                 ? Status::Corruption(fmt::format("a task's stored worktree has no \"{}\"", key))
                 : Status::Ok();
    }
    if (!it->is_string())
      return Status::Corruption(fmt::format("a task's stored worktree \"{}\" is not text", key));
    *out = it->get<std::string>();
    return Status::Ok();
  };
  TROUPE_RETURN_IF_ERROR(text_of("repo", &w.repo, true));
  TROUPE_RETURN_IF_ERROR(text_of("gitDir", &w.git_dir, true));
  TROUPE_RETURN_IF_ERROR(text_of("path", &w.path, true));
  TROUPE_RETURN_IF_ERROR(text_of("branch", &w.branch, true));
  TROUPE_RETURN_IF_ERROR(text_of("base", &w.base, true));
  TROUPE_RETURN_IF_ERROR(text_of("subdir", &w.subdir, false));
  TROUPE_RETURN_IF_ERROR(text_of("diffStat", &w.diff_stat, false));
  TROUPE_RETURN_IF_ERROR(text_of("finishError", &w.finish_error, false));
  TROUPE_RETURN_IF_ERROR(text_of("finishing", &w.finishing, false));
  w.removed = j.value("removed", false);
  w.auto_committed = j.value("autoCommitted", false);
  if (auto it = j.find("commits"); it != j.end() && it->is_array()) {
    for (const auto& c : *it)
      if (c.is_string()) w.commits.push_back(c.get<std::string>());
  }
  return w;
}

std::string WorktreeSummary(const TaskWorktree& w) {
  std::string text = fmt::format("Worktree: branch {} from {}", w.branch, w.base.substr(0, 12));
  if (w.commits.empty()) {
    text += ": no changes";
  } else {
    text +=
        fmt::format(", {} commit{}{}:", w.commits.size(), w.commits.size() == 1 ? "" : "s",
                    w.auto_committed ? " (the last one troupe's, of the uncommitted changes)" : "");
    for (const std::string& c : w.commits) text += "\n  " + c;
  }
  if (!w.diff_stat.empty()) text += "\n" + w.diff_stat;
  if (!w.finish_error.empty()) text += "\nWorktree clean-up failed: " + w.finish_error;
  text += fmt::format(
      "\n`troupe diff <task id>` shows the change; `troupe apply <task id>` merges {} into {}.",
      w.branch, w.repo);
  return text;
}

}  // namespace troupe
