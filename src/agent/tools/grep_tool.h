// `grep`: search file contents with a regular expression (ripgrep), `path:line:text` per match.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "agent/ripgrep.h"
#include "agent/tool.h"

namespace troupe {

class GrepTool : public Tool {
 public:
  static constexpr size_t kMaxMatches = 200;
  static constexpr size_t kMaxOutputBytes = 50 * 1024;
  static constexpr int64_t kMaxContext = 10;

  explicit GrepTool(RipgrepOptions rg);
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 private:
  RipgrepOptions rg_;
  ToolSpec spec_;
};

// How many matches `FormatGrepOutput` found and what it printed.
struct GrepListing {
  std::string text;
  size_t matches = 0;        // match lines in `output`
  size_t shown_matches = 0;  // of which printed
};

// Turns rg's `--null --line-number --with-filename --no-heading` output into
// `prefix/path:12:text` match lines and `prefix/path-13-text` context lines ("--" between
// groups), keeping at most `max_matches` matches and `max_bytes` bytes. Pure; for tests.
GrepListing FormatGrepOutput(std::string_view output, std::string_view prefix, size_t max_matches,
                             size_t max_bytes);

}  // namespace troupe
