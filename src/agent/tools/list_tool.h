// `list`: the files under a workspace directory as an indented tree, a few levels deep, with
// what .gitignore excludes left out (ripgrep decides).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/ripgrep.h"
#include "agent/tool.h"

namespace troupe {

class ListTool : public Tool {
 public:
  static constexpr size_t kMaxEntries = 300;  // lines of tree shown
  static constexpr int kMaxDepth = 4;         // levels shown when they fit in kMaxEntries

  explicit ListTool(RipgrepOptions rg);
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 private:
  RipgrepOptions rg_;
  ToolSpec spec_;
};

// The tree `list` prints for `files` (paths relative to the listed directory, '/'-separated):
// directories first, then files, each sorted; as many levels as fit in `max_entries` lines (at
// most `max_depth`, at least 1); a directory below the last level shown reads "name/ (N files)".
// Past `max_entries` lines a truncation marker. Pure; exposed for tests.
std::string RenderFileTree(const std::vector<std::string>& files, size_t max_entries,
                           int max_depth);

}  // namespace troupe
