#include "agent/tools/grep_tool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/pending_tool_run.h"
#include "agent/tool_args.h"
#include "agent/tool_output.h"
#include "agent/workspace.h"

namespace troupe {
namespace {

constexpr size_t kStdoutCap = 8 * 1024 * 1024;
constexpr const char* kMaxColumns = "--max-columns=1000";

struct GrepQuery {
  std::string pattern;
  std::string path;
  std::optional<std::string> glob;
  bool case_insensitive = false;
  int64_t context = 0;
};

ToolResult Search(const RipgrepOptions& rg, const std::string& root, const GrepQuery& q,
                  ProcessHandle* handle) {
  Result<Workspace> workspace = Workspace::Open(root);
  if (!workspace.ok()) return ToolResult::Error("grep: " + workspace.status().message());
  Result<std::string> resolved = workspace->Resolve(q.path);
  if (!resolved.ok()) return ToolResult::Error("grep: " + resolved.status().message());
  const std::string shown = workspace->Relative(*resolved);
  // Examined through a descriptor opened beneath the root: no link swapped in leads it out.
  Result<int> opened = workspace->OpenBeneath(q.path, O_PATH);
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kNotFound) {
      return ToolResult::Error("grep: " + shown + " does not exist");
    }
    return ToolResult::Error("grep: " + opened.status().message());
  }
  struct stat st;
  const int stat_rc = fstat(*opened, &st);
  const int stat_errno = errno;
  close(*opened);
  if (stat_rc != 0) {
    return ToolResult::Error("grep: cannot examine " + shown + ": " + std::strerror(stat_errno));
  }
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
    // Opening a FIFO blocks until a writer comes; a device may never end.
    return ToolResult::Error("grep: " + shown +
                             " is not a regular file or a directory (a FIFO, socket or device); "
                             "grep searches files");
  }

  std::vector<std::string> args = RipgrepBaseArgs();
  for (const char* a : {"--line-number", "--with-filename", "--no-heading", "--null", "--sort=path",
                        kMaxColumns, "--max-columns-preview"}) {
    args.push_back(a);
  }
  if (q.case_insensitive) args.push_back("--ignore-case");
  if (q.context > 0) args.push_back("--context=" + std::to_string(q.context));
  if (q.glob) {
    AddHiddenFlags(*q.glob, args);
    args.push_back("--glob=" + *q.glob);
  }
  args.push_back("--regexp=" + q.pattern);
  // A directory is searched from inside, so `glob` is relative to it like glob's pattern; a file
  // is searched from the root.
  const bool is_dir = S_ISDIR(st.st_mode);
  std::string cwd = is_dir ? *resolved : workspace->root();
  std::string prefix = is_dir ? shown : ".";
  args.push_back("--");
  args.push_back(is_dir ? "." : shown);
  Result<ProcessResult> run = RunRipgrep(rg, std::move(args), root, cwd, kStdoutCap, handle);
  if (!run.ok()) return ToolResult::Error("grep: " + run.status().message());
  if (run->timed_out) {
    return ToolResult::Error("grep: ripgrep timed out searching " + shown +
                             "; narrow the path or the glob");
  }

  std::string where = shown + (q.glob ? " (files matching " + ToValidUtf8(*q.glob) + ")" : "");
  GrepListing listing =
      FormatGrepOutput(run->out.head(), prefix, GrepTool::kMaxMatches, GrepTool::kMaxOutputBytes);
  if (listing.matches == 0) {
    if (run->exit_code == 2) return ToolResult::Error("grep: " + RipgrepMessage(*run));
    return ToolResult::Ok("no matches for `" + ToValidUtf8(q.pattern) + "` in " + where);
  }
  std::string out = std::move(listing.text);
  if (listing.shown_matches < listing.matches || run->out.truncated()) {
    std::string total = FormatCount(listing.matches);
    if (run->out.truncated()) total = "more than " + total;
    out += TruncationMarker("showing " + FormatCount(listing.shown_matches) + " of " + total +
                            " matching lines; narrow the pattern, the path or the glob") +
           "\n";
  }
  if (run->exit_code == 2) {
    out += "(ripgrep also reported: " + RipgrepMessage(*run) + ")\n";
  }
  return ToolResult::Ok(std::move(out));
}

}  // namespace

GrepListing FormatGrepOutput(std::string_view output, std::string_view prefix, size_t max_matches,
                             size_t max_bytes) {
  GrepListing listing;
  bool full = false;
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string_view::npos) break;  // cut by the output cap
    std::string_view line = output.substr(start, end - start);
    start = end + 1;
    std::string rendered;
    bool is_match = false;
    size_t nul = line.find('\0');
    if (nul == std::string_view::npos) {
      if (line != "--") continue;
      rendered = "--";
    } else {
      std::string_view path = line.substr(0, nul);
      if (path.substr(0, 2) == "./") path.remove_prefix(2);
      std::string_view rest = line.substr(nul + 1);
      size_t digits = 0;
      while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
      if (digits == 0 || digits == rest.size()) continue;
      is_match = rest[digits] == ':';
      rendered = ToValidUtf8(JoinRelative(prefix, path)) + std::string(1, rest[digits]) +
                 std::string(rest.substr(0, digits)) + std::string(1, rest[digits]) +
                 ToValidUtf8(rest.substr(digits + 1));
    }
    if (is_match) ++listing.matches;
    if (full) continue;
    // After the last match shown, only its trailing context (up to the group separator).
    const bool at_cap = listing.shown_matches == max_matches;
    if ((at_cap && (is_match || rendered == "--")) ||
        listing.text.size() + rendered.size() + 1 > max_bytes) {
      full = true;
      continue;
    }
    if (is_match) ++listing.shown_matches;
    listing.text += rendered;
    listing.text += '\n';
  }
  return listing;
}

GrepTool::GrepTool(RipgrepOptions rg) : rg_(std::move(rg)) {
  spec_.name = "grep";
  spec_.description =
      "Search file contents with a regular expression (ripgrep / Rust regex syntax: `\\bfoo\\(`, "
      "`class\\s+\\w+`; escape literal special characters). Prints one line per match as "
      "`path:line:text`, paths relative to the workspace root, sorted by path; with `context` "
      "it adds neighbouring lines as `path-line-text` and `--` between groups. Searches `path` "
      "(a directory or one file; default: the whole workspace), only files matching `glob` "
      "when given (e.g. `*.py`, `src/**/*.{h,cc}`, relative to `path`). Skips files ignored by "
      "the .gitignore, hidden files and binary files. At most 200 matches or 50 KiB are shown; a "
      "marker says how many were left out. No match is not an error.";
  spec_.input_schema = {
      {"type", "object"},
      {"properties",
       {{"pattern", {{"type", "string"}, {"description", "Regular expression to search for"}}},
        {"path",
         {{"type", "string"},
          {"description",
           "File or directory to search, relative to the workspace root "
           "(default: the root)"}}},
        {"glob",
         {{"type", "string"}, {"description", "Only search files matching this glob, e.g. *.ts"}}},
        {"case_insensitive", {{"type", "boolean"}, {"description", "Ignore case (default false)"}}},
        {"context",
         {{"type", "integer"},
          {"minimum", 0},
          {"maximum", kMaxContext},
          {"description", "Lines of context to show before and after each match (default 0)"}}}}},
      {"required", {"pattern"}},
      {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> GrepTool::Start(const nlohmann::json& arguments,
                                         const ToolContext& context,
                                         std::function<void(ToolResult)> done) {
  ToolArgs args("grep", arguments);
  auto fail = [&](const Status& s) {
    return PendingToolRun::Answer(context, ToolResult::Error(s.message()), std::move(done));
  };
  if (Status s = args.CheckObject({"pattern", "path", "glob", "case_insensitive", "context"});
      !s.ok()) {
    return fail(s);
  }
  GrepQuery q;
  Result<std::string> pattern = args.RequiredString("pattern", "a regular expression");
  if (!pattern.ok()) return fail(pattern.status());
  q.pattern = *pattern;
  Result<std::optional<std::string>> path = args.OptionalString("path", "a file or directory path");
  if (!path.ok()) return fail(path.status());
  q.path = path->value_or(".");
  if (q.path.empty()) q.path = ".";
  Result<std::optional<std::string>> glob = args.OptionalString("glob", "a glob such as *.cc");
  if (!glob.ok()) return fail(glob.status());
  if (*glob && !(*glob)->empty()) q.glob = **glob;
  Result<bool> ci = args.OptionalBool("case_insensitive", false);
  if (!ci.ok()) return fail(ci.status());
  q.case_insensitive = *ci;
  Result<int64_t> ctx = args.OptionalInt("context", 0, 0, kMaxContext);
  if (!ctx.ok()) return fail(ctx.status());
  q.context = *ctx;
  if (q.pattern.find('\0') != std::string::npos ||
      (q.glob && q.glob->find('\0') != std::string::npos)) {
    return fail(args.Error("`pattern` and `glob` must not contain NUL bytes"));
  }
  auto handle = std::make_shared<ProcessHandle>();
  return PendingToolRun::Blocking(
      context,
      [rg = rg_, root = context.workspace_root, q = std::move(q), handle] {
        return Search(rg, root, q, handle.get());
      },
      std::move(done), handle);
}

}  // namespace troupe
