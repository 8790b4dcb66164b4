// `read`: a text file of the workspace, line-numbered, a window of lines at a time.
#pragma once

#include <memory>

#include "agent/tool.h"

namespace troupe {

class ReadTool : public Tool {
 public:
  static constexpr int64_t kDefaultLimit = 2000;  // lines per call
  static constexpr size_t kMaxLineBytes = 2000;   // longer lines are cut, with a marker
  static constexpr size_t kMaxOutputBytes = 64 * 1024;

  ReadTool();
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 private:
  ToolSpec spec_;
};

}  // namespace troupe
