#include "agent/tools/todo_tools.h"

#include <set>

#include "agent/pending_tool_run.h"
#include "agent/tool_args.h"
#include "agent/tool_output.h"

namespace troupe {
namespace {

constexpr const char* kStatuses[] = {"pending", "in_progress", "completed", "cancelled"};
constexpr const char* kPriorities[] = {"high", "medium", "low"};

template <size_t N>
bool OneOf(const std::string& value, const char* const (&options)[N]) {
  for (const char* o : options) {
    if (value == o) return true;
  }
  return false;
}

// The items of `arguments.todos`, or the first problem found, named by its position.
Result<std::vector<TodoItem>> ParseTodos(const ToolArgs& args) {
  const nlohmann::json* todos = args.Find("todos");
  if (todos == nullptr) {
    return args.Error("`todos` is required (the complete list: an array of {content, status})");
  }
  if (!todos->is_array()) {
    return args.Error("`todos` must be an array of {content, status} objects (got " +
                      DescribeArgumentValue(*todos) + ")");
  }
  if (todos->size() > TodoWriteTool::kMaxItems) {
    return args.Error("`todos` has " + std::to_string(todos->size()) + " items; at most " +
                      std::to_string(TodoWriteTool::kMaxItems) + " are allowed");
  }
  std::vector<TodoItem> items;
  std::set<std::string> ids;
  for (size_t i = 0; i < todos->size(); ++i) {
    const std::string where = "todos[" + std::to_string(i) + "]";
    const nlohmann::json& entry = (*todos)[i];
    ToolArgs item_args("todo_write", entry, where);
    if (!entry.is_object()) {
      return args.Error("`" + where + "` must be an object {content, status} (got " +
                        DescribeArgumentValue(entry) + ")");
    }
    TROUPE_RETURN_IF_ERROR(item_args.CheckObject({"id", "content", "status", "priority"}));
    TodoItem item;
    if (const nlohmann::json* id = item_args.Find("id")) {
      if (id->is_string()) {
        item.id = id->get<std::string>();
      } else if (id->is_number_integer() || id->is_number_unsigned()) {
        item.id = id->dump();
      } else {
        return args.Error("`" + where + ".id` must be a string (got " + DescribeArgumentValue(*id) +
                          ")");
      }
    }
    if (item.id.empty()) item.id = std::to_string(i + 1);
    if (!ids.insert(item.id).second) {
      return args.Error("`" + where + ".id` \"" + ToValidUtf8(item.id) +
                        "\" is used by another item; ids must be unique");
    }
    const nlohmann::json* content = item_args.Find("content");
    if (content == nullptr || !content->is_string() ||
        content->get_ref<const std::string&>().empty()) {
      return args.Error("`" + where + ".content` must be a non-empty string (got " +
                        (content ? DescribeArgumentValue(*content) : std::string("nothing")) + ")");
    }
    item.content = content->get<std::string>();
    const nlohmann::json* status = item_args.Find("status");
    if (status == nullptr || !status->is_string() ||
        !OneOf(status->get<std::string>(), kStatuses)) {
      return args.Error("`" + where +
                        ".status` must be one of pending, in_progress, completed, cancelled (got " +
                        (status ? DescribeArgumentValue(*status) : std::string("nothing")) + ")");
    }
    item.status = status->get<std::string>();
    item.priority = "medium";
    if (const nlohmann::json* priority = item_args.Find("priority")) {
      if (!priority->is_string() || !OneOf(priority->get<std::string>(), kPriorities)) {
        return args.Error("`" + where + ".priority` must be one of high, medium, low (got " +
                          DescribeArgumentValue(*priority) + ")");
      }
      item.priority = priority->get<std::string>();
    }
    items.push_back(std::move(item));
  }
  return items;
}

nlohmann::json TodoItemSchema() {
  return {{"type", "object"},
          {"properties",
           {{"id",
             {{"type", "string"},
              {"description", "Stable id of the item (default: its position, 1-based)"}}},
            {"content", {{"type", "string"}, {"description", "What to do, imperative"}}},
            {"status",
             {{"type", "string"}, {"enum", {"pending", "in_progress", "completed", "cancelled"}}}},
            {"priority", {{"type", "string"}, {"enum", {"high", "medium", "low"}}}}}},
          {"required", {"content", "status"}},
          {"additionalProperties", false}};
}

}  // namespace

std::string RenderTodoList(const std::vector<TodoItem>& items) {
  if (items.empty()) return "The todo list is empty.";
  size_t counts[4] = {0, 0, 0, 0};
  for (const TodoItem& item : items) {
    for (size_t k = 0; k < 4; ++k) {
      if (item.status == kStatuses[k]) ++counts[k];
    }
  }
  std::string summary;
  const char* names[4] = {"pending", "in progress", "completed", "cancelled"};
  for (size_t k : {size_t{2}, size_t{1}, size_t{0}, size_t{3}}) {
    if (counts[k] == 0) continue;
    if (!summary.empty()) summary += ", ";
    summary += std::to_string(counts[k]) + " " + names[k];
  }
  std::string out = "Todo list: " + CountOf(items.size(), "item", "items") + " (" + summary + ")\n";
  for (const TodoItem& item : items) {
    out += "- [" + item.status + "] " + ToValidUtf8(item.content) + " (id " + ToValidUtf8(item.id) +
           (item.priority.empty() ? "" : ", " + item.priority) + ")\n";
  }
  return out;
}

TodoWriteTool::TodoWriteTool() {
  spec_.name = "todo_write";
  spec_.description =
      "Replace your todo list with `todos` (always send the complete list). Use it for work with "
      "several steps: write the steps down first, mark one `in_progress` when you start it and "
      "`completed` as soon as it is done, add steps you discover, and mark steps you drop "
      "`cancelled`. Your task does not finish while items are pending or in progress. Returns "
      "the list as stored. Skip it for a single simple step.";
  spec_.input_schema = {{"type", "object"},
                        {"properties",
                         {{"todos",
                           {{"type", "array"},
                            {"items", TodoItemSchema()},
                            {"maxItems", kMaxItems},
                            {"description", "The complete new list, in order"}}}}},
                        {"required", {"todos"}},
                        {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> TodoWriteTool::Start(const nlohmann::json& arguments,
                                              const ToolContext& context,
                                              std::function<void(ToolResult)> done) {
  ToolArgs args("todo_write", arguments);
  auto answer = [&](ToolResult r) {
    return PendingToolRun::Answer(context, std::move(r), std::move(done));
  };
  if (Status s = args.CheckObject({"todos"}); !s.ok())
    return answer(ToolResult::Error(s.message()));
  if (context.todos == nullptr) {
    return answer(ToolResult::Error("todo_write: this session has no todo list"));
  }
  Result<std::vector<TodoItem>> items = ParseTodos(args);
  if (!items.ok()) return answer(ToolResult::Error(items.status().message()));
  if (Status s = context.todos->Replace(*items); !s.ok()) {
    return answer(ToolResult::Error("todo_write: could not save the todo list: " + s.message()));
  }
  Result<std::vector<TodoItem>> stored = context.todos->Get();
  return answer(ToolResult::Ok(RenderTodoList(stored.ok() ? *stored : *items)));
}

TodoReadTool::TodoReadTool() {
  spec_.name = "todo_read";
  spec_.description =
      "Show your current todo list: each item's status, content, id and priority. Takes no "
      "arguments.";
  spec_.input_schema = {{"type", "object"},
                        {"properties", nlohmann::json::object()},
                        {"required", nlohmann::json::array()},
                        {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> TodoReadTool::Start(const nlohmann::json& arguments,
                                             const ToolContext& context,
                                             std::function<void(ToolResult)> done) {
  ToolArgs args("todo_read", arguments);
  auto answer = [&](ToolResult r) {
    return PendingToolRun::Answer(context, std::move(r), std::move(done));
  };
  if (Status s = args.CheckObject({}); !s.ok()) return answer(ToolResult::Error(s.message()));
  if (context.todos == nullptr) {
    return answer(ToolResult::Error("todo_read: this session has no todo list"));
  }
  Result<std::vector<TodoItem>> items = context.todos->Get();
  if (!items.ok()) {
    return answer(
        ToolResult::Error("todo_read: could not load the todo list: " + items.status().message()));
  }
  return answer(ToolResult::Ok(RenderTodoList(*items)));
}

}  // namespace troupe
