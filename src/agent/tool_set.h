// The tools an agent can be given: the built-in ones (read, list, glob, grep, edit, write, bash,
// todo_write, todo_read) and any added later (the delegation tools). Lookup by name, the specs
// for a request, and which tools only read — so read-only agents (explore, librarian, oracle)
// can be held to them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/ripgrep.h"
#include "agent/tool.h"
#include "core/status.h"

namespace troupe {

// What a tool may do to the workspace and the machine.
enum class ToolAccess {
  kReadOnly,  // reads files or session state only (read, list, glob, grep, todo_*)
  kWrites,    // changes files or runs arbitrary commands (edit, write, bash)
};

struct BuiltInToolOptions {
  RipgrepOptions rg;          // for list, glob, grep
  std::string bash = "bash";  // for bash; without a '/': found in the system directories
  // Where bash runs; null = DefaultSandbox(). rg.sandbox null = this one.
  std::shared_ptr<const Sandbox> sandbox;
};

// Built once, then read-only: safe to share between sessions (tools keep no per-call state).
class ToolSet {
 public:
  ToolSet() = default;
  ToolSet(ToolSet&&) = default;
  ToolSet& operator=(ToolSet&&) = default;

  // The nine built-in tools.
  static ToolSet BuiltIn(const BuiltInToolOptions& options);
  // With rg and bash from PATH. (An overload, not a `= {}` default: GCC 12 warns falsely about
  // the temporary's strings at every call site.)
  static ToolSet BuiltIn();

  // Adds `tool`; AlreadyExists when its name is taken.
  Status Add(std::unique_ptr<Tool> tool, ToolAccess access);

  // The tool named `name`, or nullptr.
  Tool* Find(std::string_view name) const;
  // The tool named `name`, or NotFound: "unknown tool `x`; available tools: read, list, …".
  Result<Tool*> Lookup(std::string_view name) const;
  // kWrites for unknown names (the safe answer).
  ToolAccess AccessOf(std::string_view name) const;
  bool IsReadOnly(std::string_view name) const { return AccessOf(name) == ToolAccess::kReadOnly; }

  // Names in the order added.
  std::vector<std::string> Names() const;
  std::vector<std::string> ReadOnlyNames() const;
  // Specs of `names`, in the order given; NotFound naming the unknown ones and what exists.
  Result<std::vector<ToolSpec>> Specs(const std::vector<std::string>& names) const;
  std::vector<ToolSpec> AllSpecs() const;

 private:
  struct Entry {
    std::unique_ptr<Tool> tool;
    ToolAccess access;
  };
  std::string Available() const;

  std::vector<Entry> entries_;
};

}  // namespace troupe
