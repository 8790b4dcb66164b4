// `write`: create a workspace file or replace its whole content.
#pragma once

#include <memory>

#include "agent/tool.h"

namespace troupe {

class WriteTool : public Tool {
 public:
  WriteTool();
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 private:
  ToolSpec spec_;
};

}  // namespace troupe
