#include "agent/tools/edit_tool.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "agent/atomic_file.h"
#include "agent/pending_tool_run.h"
#include "agent/tool_args.h"
#include "agent/tool_output.h"
#include "agent/workspace.h"
#include "core/unique_fd.h"

namespace troupe {
namespace {

constexpr size_t kListedLines = 10;     // line numbers named in a message
constexpr int64_t kSnippetContext = 3;  // lines shown around an edit
constexpr size_t kSnippetMaxLines = 30;
constexpr size_t kSnippetLineBytes = 300;

struct EditRequest {
  std::string path;
  std::string old_string;
  std::string new_string;
  bool replace_all = false;
};

int64_t LineOf(std::string_view text, size_t offset) {
  return 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
}

std::string LineList(std::string_view text, const std::vector<size_t>& offsets) {
  std::string out;
  for (size_t i = 0; i < offsets.size() && i < kListedLines; ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(LineOf(text, offsets[i]));
  }
  if (offsets.size() > kListedLines) out += ", …";
  return out;
}

// Lines [first, last] of `text`, numbered like read prints them, at most kSnippetMaxLines.
std::string NumberedLines(std::string_view text, int64_t first, int64_t last) {
  std::string out;
  int64_t line = 1;
  size_t start = 0;
  size_t shown = 0;
  while (start <= text.size() && line <= last) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (line >= first) {
      if (shown == kSnippetMaxLines) {
        out += TruncationMarker("more changed lines; read the file to see them") + "\n";
        break;
      }
      std::string_view content = text.substr(start, end - start);
      std::string cut(Utf8Prefix(content, kSnippetLineBytes));
      if (cut.size() < content.size()) cut += "…";
      out += fmt::format("{:>4}\t{}\n", line, ToValidUtf8(cut));
      ++shown;
    }
    if (end == text.size()) break;
    start = end + 1;
    ++line;
  }
  return out;
}

ToolResult ApplyEdit(const std::string& root, const EditRequest& e) {
  Result<Workspace> workspace = Workspace::Open(root);
  if (!workspace.ok()) return ToolResult::Error("edit: " + workspace.status().message());
  // The file is opened, read and replaced relative to its parent directory, itself opened
  // beneath the root: a directory swapped for a link to outside cannot redirect the edit.
  Result<FileInDirectory> place = workspace->OpenFileParent(e.path, /*create_missing=*/false);
  if (!place.ok() && place.status().code() == StatusCode::kNotFound) {
    return ToolResult::Error("edit: " + place.status().message() +
                             "; use write to create a new file");
  }
  if (!place.ok()) return ToolResult::Error("edit: " + place.status().message());
  const UniqueFd& dir = place->parent;
  const std::string& name = place->name;
  const std::string& shown = place->shown;
  const UniqueFd file(
      openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (file.get() < 0) {
    if (errno == ENOENT) {
      return ToolResult::Error("edit: file " + shown +
                               " does not exist; use write to create a new file");
    }
    if (errno == ELOOP) return ToolResult::Error("edit: " + shown + " is not a regular file");
    return ToolResult::Error("edit: cannot open " + shown + ": " + std::strerror(errno));
  }
  struct stat st;
  if (fstat(file.get(), &st) != 0) {
    return ToolResult::Error("edit: cannot examine " + shown + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return ToolResult::Error("edit: " + shown + " is not a regular file");
  Result<std::string> content = ReadWholeFd(file.get(), EditTool::kMaxFileBytes, shown);
  if (!content.ok()) return ToolResult::Error("edit: " + content.status().message());

  std::vector<size_t> found;
  for (size_t pos = content->find(e.old_string); pos != std::string::npos;
       pos = content->find(e.old_string, pos + e.old_string.size())) {
    found.push_back(pos);
  }
  if (found.empty()) {
    return ToolResult::Error("edit: `old_string` was not found in " + shown +
                             "; read the file again and copy the text exactly, including "
                             "whitespace and indentation (without the line-number prefix)");
  }
  if (found.size() > 1 && !e.replace_all) {
    return ToolResult::Error("edit: `old_string` occurs " + std::to_string(found.size()) +
                             " times in " + shown + " (lines " + LineList(*content, found) +
                             "); include more surrounding lines to make it unique, or set "
                             "replace_all=true to replace every occurrence");
  }

  std::string updated;
  updated.reserve(content->size() + found.size() * e.new_string.size());
  size_t copied = 0;
  for (size_t pos : found) {
    updated.append(*content, copied, pos - copied);
    updated += e.new_string;
    copied = pos + e.old_string.size();
  }
  updated.append(*content, copied, std::string::npos);
  Status written = WriteFileAtomicallyAt(dir.get(), name, updated, st.st_mode & 07777, shown);
  if (!written.ok()) return ToolResult::Error("edit: " + written.message());

  // Where the first replacement landed in the new text, to show it.
  const size_t first_new = found[0];
  const int64_t first_line = LineOf(updated, first_new);
  const int64_t new_lines = std::count(e.new_string.begin(), e.new_string.end(), '\n');
  std::string out = "Edited " + shown + ": replaced " +
                    CountOf(found.size(), "occurrence", "occurrences") + " (line" +
                    (found.size() == 1 ? " " : "s ") + LineList(*content, found) +
                    " before the edit).\n";
  out += "After the edit, around the first replacement:\n";
  out += NumberedLines(updated, std::max<int64_t>(1, first_line - kSnippetContext),
                       first_line + new_lines + kSnippetContext);
  return ToolResult::Ok(std::move(out));
}

}  // namespace

EditTool::EditTool() {
  spec_.name = "edit";
  spec_.description =
      "Replace an exact string in a workspace file. `old_string` must match the file's text "
      "exactly, whitespace and indentation included (copy it from read's output without the "
      "line-number prefix), and must occur exactly once unless `replace_all` is true; include a "
      "few surrounding lines to make it unique. Fails, changing nothing, when it is not found, "
      "found several times, or equals `new_string`. The file is replaced atomically and keeps its "
      "permissions. Read the file before editing it. To create a file, use write.";
  spec_.input_schema = {
      {"type", "object"},
      {"properties",
       {{"path",
         {{"type", "string"}, {"description", "File to edit, relative to the workspace root"}}},
        {"old_string", {{"type", "string"}, {"description", "The exact text to replace"}}},
        {"new_string",
         {{"type", "string"}, {"description", "The text to put in its place (may be empty)"}}},
        {"replace_all",
         {{"type", "boolean"},
          {"description", "Replace every occurrence instead of exactly one (default false)"}}}}},
      {"required", {"path", "old_string", "new_string"}},
      {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> EditTool::Start(const nlohmann::json& arguments,
                                         const ToolContext& context,
                                         std::function<void(ToolResult)> done) {
  ToolArgs args("edit", arguments);
  auto fail = [&](const Status& s) {
    return PendingToolRun::Answer(context, ToolResult::Error(s.message()), std::move(done));
  };
  if (Status s = args.CheckObject({"path", "old_string", "new_string", "replace_all"}); !s.ok()) {
    return fail(s);
  }
  EditRequest e;
  Result<std::string> path = args.RequiredString("path", "a file path relative to the workspace");
  if (!path.ok()) return fail(path.status());
  e.path = *path;
  Result<std::string> old_string =
      args.RequiredString("old_string", "the exact text to replace; to create a file use write");
  if (!old_string.ok()) return fail(old_string.status());
  e.old_string = *old_string;
  Result<std::string> new_string =
      args.RequiredString("new_string", "the replacement text", /*allow_empty=*/true);
  if (!new_string.ok()) return fail(new_string.status());
  e.new_string = *new_string;
  Result<bool> replace_all = args.OptionalBool("replace_all", false);
  if (!replace_all.ok()) return fail(replace_all.status());
  e.replace_all = *replace_all;
  if (e.old_string == e.new_string) {
    return fail(args.Error("`old_string` and `new_string` are the same; nothing would change"));
  }
  return PendingToolRun::Blocking(
      context, [root = context.workspace_root, e = std::move(e)] { return ApplyEdit(root, e); },
      std::move(done));
}

}  // namespace troupe
