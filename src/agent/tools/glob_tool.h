// `glob`: workspace files whose path matches a glob, newest first.
#pragma once

#include <memory>

#include "agent/ripgrep.h"
#include "agent/tool.h"

namespace troupe {

class GlobTool : public Tool {
 public:
  static constexpr size_t kMaxFiles = 200;

  explicit GlobTool(RipgrepOptions rg);
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 private:
  RipgrepOptions rg_;
  ToolSpec spec_;
};

}  // namespace troupe
