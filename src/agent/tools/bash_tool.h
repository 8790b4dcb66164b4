// `bash`: run a shell command in the workspace root, in its own process group, with a time limit;
// cancelling the call kills the whole group.
#pragma once

#include <memory>
#include <string>

#include "agent/tool.h"

namespace troupe {

class BashTool : public Tool {
 public:
  static constexpr int64_t kDefaultTimeoutMs = 120'000;
  static constexpr int64_t kMaxTimeoutMs = 600'000;
  static constexpr size_t kOutputHeadBytes = 15 * 1024;  // kept from the start of the output
  static constexpr size_t kOutputTailBytes = 15 * 1024;  // and from its end

  explicit BashTool(std::string bash = "bash");
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 private:
  std::string bash_;
  ToolSpec spec_;
};

}  // namespace troupe
