// `edit`: replace an exact string in a workspace file.
#pragma once

#include <memory>

#include "agent/tool.h"

namespace troupe {

class EditTool : public Tool {
 public:
  static constexpr size_t kMaxFileBytes = 16 * 1024 * 1024;

  EditTool();
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 private:
  ToolSpec spec_;
};

}  // namespace troupe
