#include "agent/tool_set.h"

#include "agent/tools/bash_tool.h"
#include "agent/tools/edit_tool.h"
#include "agent/tools/glob_tool.h"
#include "agent/tools/grep_tool.h"
#include "agent/tools/list_tool.h"
#include "agent/tools/read_tool.h"
#include "agent/tools/todo_tools.h"
#include "agent/tools/write_tool.h"

namespace troupe {

ToolSet ToolSet::BuiltIn() {
  const BuiltInToolOptions defaults;
  return BuiltIn(defaults);
}

ToolSet ToolSet::BuiltIn(const BuiltInToolOptions& given) {
  BuiltInToolOptions options = given;
  if (!options.sandbox) options.sandbox = DefaultSandbox();
  if (!options.rg.sandbox) options.rg.sandbox = options.sandbox;
  ToolSet set;
  auto add = [&set](std::unique_ptr<Tool> tool, ToolAccess access) {
    Status s = set.Add(std::move(tool), access);
    (void)s;  // built-in names are distinct
  };
  add(std::make_unique<ReadTool>(), ToolAccess::kReadOnly);
  add(std::make_unique<ListTool>(options.rg), ToolAccess::kReadOnly);
  add(std::make_unique<GlobTool>(options.rg), ToolAccess::kReadOnly);
  add(std::make_unique<GrepTool>(options.rg), ToolAccess::kReadOnly);
  add(std::make_unique<EditTool>(), ToolAccess::kWrites);
  add(std::make_unique<WriteTool>(), ToolAccess::kWrites);
  add(std::make_unique<BashTool>(options.bash, options.sandbox), ToolAccess::kWrites);
  add(std::make_unique<TodoWriteTool>(), ToolAccess::kReadOnly);
  add(std::make_unique<TodoReadTool>(), ToolAccess::kReadOnly);
  return set;
}

Status ToolSet::Add(std::unique_ptr<Tool> tool, ToolAccess access) {
  const std::string& name = tool->spec().name;
  if (Find(name) != nullptr) {
    return Status::AlreadyExists("a tool named `" + name + "` is already in the set");
  }
  entries_.push_back({std::move(tool), access});
  return Status::Ok();
}

Tool* ToolSet::Find(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (e.tool->spec().name == name) return e.tool.get();
  }
  return nullptr;
}

std::string ToolSet::Available() const {
  std::string out;
  for (const Entry& e : entries_) {
    if (!out.empty()) out += ", ";
    out += e.tool->spec().name;
  }
  return out.empty() ? "none" : out;
}

Result<Tool*> ToolSet::Lookup(std::string_view name) const {
  if (Tool* tool = Find(name)) return tool;
  return Status::NotFound("unknown tool `" + std::string(name) +
                          "`; available tools: " + Available());
}

ToolAccess ToolSet::AccessOf(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (e.tool->spec().name == name) return e.access;
  }
  return ToolAccess::kWrites;
}

std::vector<std::string> ToolSet::Names() const {
  std::vector<std::string> names;
  for (const Entry& e : entries_) names.push_back(e.tool->spec().name);
  return names;
}

std::vector<std::string> ToolSet::ReadOnlyNames() const {
  std::vector<std::string> names;
  for (const Entry& e : entries_) {
    if (e.access == ToolAccess::kReadOnly) names.push_back(e.tool->spec().name);
  }
  return names;
}

Result<std::vector<ToolSpec>> ToolSet::Specs(const std::vector<std::string>& names) const {
  std::vector<ToolSpec> specs;
  std::string unknown;
  for (const std::string& name : names) {
    if (Tool* tool = Find(name)) {
      specs.push_back(tool->spec());
    } else {
      unknown += (unknown.empty() ? "`" : ", `") + name + "`";
    }
  }
  if (!unknown.empty()) {
    return Status::NotFound("unknown tool " + unknown + "; available tools: " + Available());
  }
  return specs;
}

std::vector<ToolSpec> ToolSet::AllSpecs() const {
  std::vector<ToolSpec> specs;
  for (const Entry& e : entries_) specs.push_back(e.tool->spec());
  return specs;
}

}  // namespace troupe
