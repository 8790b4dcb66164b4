// `bash`: run a shell command in the workspace root, inside the sandbox (agent/sandbox.h), with a
// time limit; the end of the command, its timeout or cancelling the call kills everything it
// started. Refused, saying why, when no sandbox can be had and the config did not turn it off.
#pragma once

#include <memory>
#include <string>

#include "agent/sandbox.h"
#include "agent/tool.h"

namespace troupe {

class BashTool : public Tool {
 public:
  static constexpr int64_t kDefaultTimeoutMs = 120'000;
  static constexpr int64_t kMaxTimeoutMs = 600'000;
  static constexpr size_t kOutputHeadBytes = 15 * 1024;  // kept from the start of the output
  static constexpr size_t kOutputTailBytes = 15 * 1024;  // and from its end

  // `sandbox` null = DefaultSandbox() (agent/ripgrep.h).
  explicit BashTool(std::string bash = "bash", std::shared_ptr<const Sandbox> sandbox = nullptr);
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 private:
  std::string bash_;
  std::shared_ptr<const Sandbox> sandbox_;
  ToolSpec spec_;
};

}  // namespace troupe
