#include "agent/tools/write_tool.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "agent/atomic_file.h"
#include "agent/pending_tool_run.h"
#include "agent/tool_args.h"
#include "agent/tool_output.h"
#include "agent/workspace.h"

namespace troupe {
namespace {

ToolResult WriteFile(const std::string& root, const std::string& path, const std::string& content) {
  Result<Workspace> workspace = Workspace::Open(root);
  if (!workspace.ok()) return ToolResult::Error("write: " + workspace.status().message());
  Result<std::string> resolved = workspace->Resolve(path);
  if (!resolved.ok()) return ToolResult::Error("write: " + resolved.status().message());
  const std::string shown = workspace->Relative(*resolved);

  std::optional<mode_t> mode;
  struct stat st;
  const bool exists = stat(resolved->c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) {
    return ToolResult::Error("write: " + shown + " is a directory; give a file path");
  }
  if (exists && !S_ISREG(st.st_mode)) {
    return ToolResult::Error("write: " + shown + " is not a regular file");
  }
  if (exists) mode = st.st_mode & 07777;
  // Resolve put every missing component inside the workspace, so creating them stays inside.
  std::filesystem::path parent = std::filesystem::path(*resolved).parent_path();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    return ToolResult::Error("write: cannot create the directory " +
                             workspace->Relative(parent.string()) + ": " + ec.message());
  }
  Status written = WriteFileAtomically(*resolved, content, mode);
  if (!written.ok()) return ToolResult::Error("write: " + written.message());
  uint64_t lines = static_cast<uint64_t>(std::count(content.begin(), content.end(), '\n'));
  if (!content.empty() && content.back() != '\n') ++lines;
  return ToolResult::Ok(std::string(exists ? "Overwrote " : "Created ") + shown + " (" +
                        CountOf(lines, "line", "lines") + ", " +
                        CountOf(content.size(), "byte", "bytes") + ").");
}

}  // namespace

WriteTool::WriteTool() {
  spec_.name = "write";
  spec_.description =
      "Create a file in the workspace, or replace the whole content of an existing one. Missing "
      "parent directories are created. The file is written atomically; an existing file keeps "
      "its permissions. Prefer edit for changing part of an existing file, and read a file "
      "before overwriting it. Paths outside the workspace are refused.";
  spec_.input_schema = {
      {"type", "object"},
      {"properties",
       {{"path",
         {{"type", "string"}, {"description", "File to write, relative to the workspace root"}}},
        {"content",
         {{"type", "string"}, {"description", "The complete new content of the file"}}}}},
      {"required", {"path", "content"}},
      {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> WriteTool::Start(const nlohmann::json& arguments,
                                          const ToolContext& context,
                                          std::function<void(ToolResult)> done) {
  ToolArgs args("write", arguments);
  auto fail = [&](const Status& s) {
    return PendingToolRun::Answer(context, ToolResult::Error(s.message()), std::move(done));
  };
  if (Status s = args.CheckObject({"path", "content"}); !s.ok()) return fail(s);
  Result<std::string> path = args.RequiredString("path", "a file path relative to the workspace");
  if (!path.ok()) return fail(path.status());
  Result<std::string> content =
      args.RequiredString("content", "the file's complete text", /*allow_empty=*/true);
  if (!content.ok()) return fail(content.status());
  return PendingToolRun::Blocking(
      context,
      [root = context.workspace_root, path = *path, content = *content] {
        return WriteFile(root, path, content);
      },
      std::move(done));
}

}  // namespace troupe
