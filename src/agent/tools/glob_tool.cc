#include "agent/tools/glob_tool.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent/pending_tool_run.h"
#include "agent/tool_args.h"
#include "agent/tool_output.h"
#include "agent/workspace.h"

namespace troupe {
namespace {

constexpr size_t kStdoutCap = 16 * 1024 * 1024;

struct FoundFile {
  std::string path;  // relative to the workspace root
  int64_t mtime_ns = 0;
};

ToolResult FindFiles(const RipgrepOptions& rg, const std::string& root, const std::string& pattern,
                     const std::string& path, ProcessHandle* handle) {
  Result<Workspace> workspace = Workspace::Open(root);
  if (!workspace.ok()) return ToolResult::Error("glob: " + workspace.status().message());
  Result<std::string> resolved = workspace->Resolve(path);
  if (!resolved.ok()) return ToolResult::Error("glob: " + resolved.status().message());
  const std::string shown = workspace->Relative(*resolved);
  struct stat st;
  if (stat(resolved->c_str(), &st) != 0) {
    return ToolResult::Error("glob: directory " + shown + " does not exist");
  }
  if (!S_ISDIR(st.st_mode)) {
    return ToolResult::Error("glob: `path` " + shown + " is a file; give a directory to search");
  }

  // Run in the searched directory, so the pattern is relative to it.
  std::vector<std::string> args = RipgrepBaseArgs();
  args.push_back("--files");
  args.push_back("--null");
  AddHiddenFlags(pattern, args);
  args.push_back("--glob=" + pattern);
  args.push_back("--");
  args.push_back(".");
  Result<ProcessResult> run = RunRipgrep(rg, std::move(args), root, *resolved, kStdoutCap, handle);
  if (!run.ok()) return ToolResult::Error("glob: " + run.status().message());
  if (run->timed_out) return ToolResult::Error("glob: ripgrep timed out searching " + shown);
  std::vector<std::string> paths = SplitNulPaths(run->out.head());
  if (paths.empty() && run->exit_code == 2) {
    return ToolResult::Error("glob: " + RipgrepMessage(*run));
  }
  if (paths.empty()) {
    return ToolResult::Ok("no files match `" + ToValidUtf8(pattern) + "` in " + shown);
  }

  std::vector<FoundFile> files;
  files.reserve(paths.size());
  for (const std::string& p : paths) {
    FoundFile f{JoinRelative(shown, p), 0};
    struct stat fst;
    if (stat((*resolved + "/" + p).c_str(), &fst) == 0) {
      f.mtime_ns = static_cast<int64_t>(fst.st_mtim.tv_sec) * 1'000'000'000 + fst.st_mtim.tv_nsec;
    }
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(), [](const FoundFile& a, const FoundFile& b) {
    if (a.mtime_ns != b.mtime_ns) return a.mtime_ns > b.mtime_ns;
    return a.path < b.path;
  });
  std::string out;
  const size_t shown_count = std::min(files.size(), GlobTool::kMaxFiles);
  for (size_t i = 0; i < shown_count; ++i) out += files[i].path + "\n";
  if (files.size() > shown_count || run->out.truncated()) {
    std::string more = CountOf(files.size() - shown_count, "more file", "more files");
    if (run->out.truncated()) more = "more than " + more;
    out += TruncationMarker(more + "; narrow the pattern or the path") + "\n";
  }
  return ToolResult::Ok(ToValidUtf8(out));
}

}  // namespace

GlobTool::GlobTool(RipgrepOptions rg) : rg_(std::move(rg)) {
  spec_.name = "glob";
  spec_.description =
      "Find files by name with a glob pattern, e.g. `**/*.ts`, `src/**/test_*.py`, "
      "`*.{h,cc}`. The pattern is matched against paths relative to `path` (default: the "
      "workspace root); a pattern without '/' matches file names at any depth. Returns matching "
      "file paths relative to the workspace root, most recently modified first, at most 200 "
      "(a marker says how many more). Files ignored by .gitignore are skipped, and hidden files "
      "(starting with '.') unless the pattern names them (`.github/**`). Use grep to search file "
      "contents.";
  spec_.input_schema = {
      {"type", "object"},
      {"properties",
       {{"pattern", {{"type", "string"}, {"description", "Glob pattern, e.g. **/*.cc"}}},
        {"path",
         {{"type", "string"},
          {"description",
           "Directory to search, relative to the workspace root (default: the root)"}}}}},
      {"required", {"pattern"}},
      {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> GlobTool::Start(const nlohmann::json& arguments,
                                         const ToolContext& context,
                                         std::function<void(ToolResult)> done) {
  ToolArgs args("glob", arguments);
  auto fail = [&](const Status& s) {
    return PendingToolRun::Answer(context, ToolResult::Error(s.message()), std::move(done));
  };
  if (Status s = args.CheckObject({"pattern", "path"}); !s.ok()) return fail(s);
  Result<std::string> pattern = args.RequiredString("pattern", "a glob pattern such as **/*.cc");
  if (!pattern.ok()) return fail(pattern.status());
  if (pattern->find('\0') != std::string::npos) {
    return fail(args.Error("`pattern` must not contain a NUL byte"));
  }
  Result<std::optional<std::string>> path = args.OptionalString("path", "a directory path");
  if (!path.ok()) return fail(path.status());
  std::string dir = path->value_or(".");
  if (dir.empty()) dir = ".";
  auto handle = std::make_shared<ProcessHandle>();
  return PendingToolRun::Blocking(
      context,
      [rg = rg_, root = context.workspace_root, pattern = *pattern, dir, handle] {
        return FindFiles(rg, root, pattern, dir, handle.get());
      },
      std::move(done), handle);
}

}  // namespace troupe
