// `todo_write` and `todo_read`: the session's todo list, through ToolContext::todos. The agent
// loop will not finish a task while the list has unfinished items, so these are how an agent
// plans multi-step work and shows its progress.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/tool.h"

namespace troupe {

class TodoWriteTool : public Tool {
 public:
  static constexpr size_t kMaxItems = 100;

  TodoWriteTool();
  const ToolSpec& spec() const override { return spec_; }
  // Replaces the list on the loop thread (TodoList is loop-owned), answers on a later turn.
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 private:
  ToolSpec spec_;
};

class TodoReadTool : public Tool {
 public:
  TodoReadTool();
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 private:
  ToolSpec spec_;
};

// The list as the todo tools print it:
//   Todo list: 3 items (1 completed, 1 in progress, 1 pending)
//   - [completed] Read the config loader (id 1, high)
std::string RenderTodoList(const std::vector<TodoItem>& items);

}  // namespace troupe
