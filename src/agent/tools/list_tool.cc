#include "agent/tools/list_tool.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "agent/pending_tool_run.h"
#include "agent/tool_args.h"
#include "agent/tool_output.h"
#include "agent/workspace.h"

namespace troupe {
namespace {

constexpr size_t kStdoutCap = 16 * 1024 * 1024;

struct DirNode {
  std::map<std::string, DirNode> dirs;
  std::vector<std::string> files;
  size_t total_files = 0;  // files anywhere below
};

void Insert(DirNode& root, const std::string& path) {
  DirNode* node = &root;
  size_t start = 0;
  while (true) {
    ++node->total_files;
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) {
      node->files.push_back(path.substr(start));
      return;
    }
    node = &node->dirs[path.substr(start, slash - start)];
    start = slash + 1;
  }
}

// Appends the lines of `node`'s entries at `depth` (1 = direct children) to `out`.
void Render(const DirNode& node, int depth, int max_depth, std::vector<std::string>& out) {
  const std::string indent(static_cast<size_t>(depth) * 2, ' ');
  for (const auto& [name, child] : node.dirs) {
    if (depth >= max_depth) {
      out.push_back(indent + name + "/ (" + CountOf(child.total_files, "file", "files") + ")");
    } else {
      out.push_back(indent + name + "/");
      Render(child, depth + 1, max_depth, out);
    }
  }
  std::vector<std::string> files = node.files;
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) out.push_back(indent + f);
}

ToolResult ListDirectory(const RipgrepOptions& rg, const std::string& root, const std::string& path,
                         ProcessHandle* handle) {
  Result<Workspace> workspace = Workspace::Open(root);
  if (!workspace.ok()) return ToolResult::Error("list: " + workspace.status().message());
  Result<std::string> resolved = workspace->Resolve(path);
  if (!resolved.ok()) return ToolResult::Error("list: " + resolved.status().message());
  const std::string shown = workspace->Relative(*resolved);
  struct stat st;
  if (stat(resolved->c_str(), &st) != 0) {
    return ToolResult::Error("list: " + shown + " does not exist" +
                             (errno == ENOENT ? "" : std::string(": ") + std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return ToolResult::Error("list: " + shown + " is a file, not a directory; use read to see it");
  }

  std::vector<std::string> args = RipgrepBaseArgs();
  for (const char* a : {"--files", "--null", "--hidden", "--glob=!.git/", "--", "."}) {
    args.push_back(a);
  }
  Result<ProcessResult> run = RunRipgrep(rg, std::move(args), root, *resolved, kStdoutCap, handle);
  if (!run.ok()) return ToolResult::Error("list: " + run.status().message());
  if (run->timed_out) return ToolResult::Error("list: ripgrep timed out listing " + shown);
  std::vector<std::string> files = SplitNulPaths(run->out.head());
  if (files.empty() && run->exit_code == 2) {
    return ToolResult::Error("list: " + RipgrepMessage(*run));
  }
  if (files.empty()) {
    return ToolResult::Ok(shown + "/ has no files (or all of them are ignored by .gitignore)");
  }
  std::string out =
      shown + "/\n" + RenderFileTree(files, ListTool::kMaxEntries, ListTool::kMaxDepth);
  if (run->out.truncated()) {
    out += TruncationMarker("the listing was too long to read whole; list a subdirectory") + "\n";
  }
  return ToolResult::Ok(ToValidUtf8(out));
}

}  // namespace

std::string RenderFileTree(const std::vector<std::string>& files, size_t max_entries,
                           int max_depth) {
  DirNode root;
  for (const std::string& f : files) Insert(root, f);
  std::vector<std::string> lines;
  for (int depth = std::max(1, max_depth); depth >= 1; --depth) {
    lines.clear();
    Render(root, 1, depth, lines);
    if (lines.size() <= max_entries) break;
  }
  std::string out;
  const size_t shown = std::min(lines.size(), max_entries);
  for (size_t i = 0; i < shown; ++i) {
    out += lines[i].substr(2);  // depth 1 is not indented
    out += '\n';
  }
  if (lines.size() > shown) {
    out += TruncationMarker(CountOf(lines.size() - shown, "more entry", "more entries") +
                            "; list a subdirectory to see them") +
           "\n";
  }
  return out;
}

ListTool::ListTool(RipgrepOptions rg) : rg_(std::move(rg)) {
  spec_.name = "list";
  spec_.description =
      "List the files under a directory of the workspace as an indented tree (directories end "
      "with '/'). Shows as many levels as fit in 300 lines; deeper directories are summarised as "
      "`name/ (N files)` — list them to see inside. Files ignored by .gitignore (build output, "
      "dependencies) and the .git directory are left out; empty directories are not shown. Use "
      "it to get oriented; use glob to find files by name and grep to search contents.";
  spec_.input_schema = {
      {"type", "object"},
      {"properties",
       {{"path",
         {{"type", "string"},
          {"description",
           "Directory to list, relative to the workspace root (default: the root, \".\")"}}}}},
      {"required", nlohmann::json::array()},
      {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> ListTool::Start(const nlohmann::json& arguments,
                                         const ToolContext& context,
                                         std::function<void(ToolResult)> done) {
  ToolArgs args("list", arguments);
  auto fail = [&](const Status& s) {
    return PendingToolRun::Answer(context, ToolResult::Error(s.message()), std::move(done));
  };
  if (Status s = args.CheckObject({"path"}); !s.ok()) return fail(s);
  Result<std::optional<std::string>> path = args.OptionalString("path", "a directory path");
  if (!path.ok()) return fail(path.status());
  auto handle = std::make_shared<ProcessHandle>();
  std::string dir = path->value_or(".");
  if (dir.empty()) dir = ".";
  return PendingToolRun::Blocking(
      context,
      [rg = rg_, root = context.workspace_root, dir, handle] {
        return ListDirectory(rg, root, dir, handle.get());
      },
      std::move(done), handle);
}

}  // namespace troupe
