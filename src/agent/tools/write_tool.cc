#include "agent/tools/write_tool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

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
  // The parent is opened (and missing directories made) beneath the root, and the file is
  // examined, created and renamed relative to it: a directory swapped for a link to outside
  // meanwhile cannot redirect the write.
  Result<FileInDirectory> file = workspace->OpenFileParent(path, /*create_missing=*/true);
  if (!file.ok()) return ToolResult::Error("write: " + file.status().message());
  const int dir_fd = file->parent.get();
  const std::string& name = file->name;
  const std::string& shown = file->shown;

  std::optional<mode_t> mode;
  struct stat st;
  const bool exists = fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  std::string refused;
  if (exists && S_ISDIR(st.st_mode)) refused = " is a directory; give a file path";
  if (exists && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) refused = " is not a regular file";
  if (!refused.empty()) return ToolResult::Error("write: " + shown + refused);
  if (exists) mode = st.st_mode & 07777;
  Status written = WriteFileAtomicallyAt(dir_fd, name, content, mode, shown);
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
