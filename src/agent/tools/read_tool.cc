#include "agent/tools/read_tool.h"

#include <fcntl.h>
#include <fmt/format.h>
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

constexpr int64_t kMaxOffset = 1'000'000'000;
constexpr int64_t kMaxLimit = 100'000;
// A NUL byte in the first block marks a binary file, as git decides.
constexpr size_t kBinaryProbeBytes = 8 * 1024;

// Reads a file line by line in blocks, keeping at most `keep` bytes of each line.
class LineReader {
 public:
  LineReader(int fd, size_t keep) : fd_(fd), keep_(keep) {}

  // The next line without its '\n': up to `keep` bytes in *kept, its full length in *length.
  // False at end of file (or on a read error, reported by error()).
  bool Next(std::string* kept, uint64_t* length) {
    kept->clear();
    *length = 0;
    bool any = false;
    while (true) {
      if (pos_ == buffer_.size()) {
        if (!Fill()) return any;
      }
      any = true;
      const char* begin = buffer_.data() + pos_;
      const size_t available = buffer_.size() - pos_;
      const void* nl = std::memchr(begin, '\n', available);
      const size_t n = nl != nullptr ? static_cast<const char*>(nl) - begin : available;
      if (kept->size() < keep_) kept->append(begin, std::min(n, keep_ - kept->size()));
      *length += n;
      pos_ += n;
      if (nl != nullptr) {
        ++pos_;
        return true;
      }
    }
  }
  // Line breaks left in the file after the current position (counting a last unterminated line).
  uint64_t CountRemainingLines() {
    uint64_t lines = 0;
    bool pending = false;  // bytes seen since the last '\n'
    while (true) {
      if (pos_ == buffer_.size() && !Fill()) return lines + (pending ? 1 : 0);
      std::string_view rest(buffer_.data() + pos_, buffer_.size() - pos_);
      for (char c : rest) {
        if (c == '\n') {
          ++lines;
          pending = false;
        } else {
          pending = true;
        }
      }
      pos_ = buffer_.size();
    }
  }
  bool error() const { return error_ != 0; }
  int error_number() const { return error_; }

 private:
  bool Fill() {
    buffer_.resize(64 * 1024);
    while (true) {
      ssize_t n = read(fd_, buffer_.data(), buffer_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) error_ = errno;
      buffer_.resize(n > 0 ? static_cast<size_t>(n) : 0);
      pos_ = 0;
      return n > 0;
    }
  }

  int fd_;
  size_t keep_;
  std::string buffer_;
  size_t pos_ = 0;
  int error_ = 0;
};

class FileCloser {
 public:
  explicit FileCloser(int fd) : fd_(fd) {}
  ~FileCloser() { close(fd_); }

 private:
  int fd_;
};

int Digits(int64_t n) { return static_cast<int>(std::to_string(n).size()); }

ToolResult ReadFile(const std::string& root, const std::string& path, int64_t offset,
                    int64_t limit) {
  Result<Workspace> workspace = Workspace::Open(root);
  if (!workspace.ok()) return ToolResult::Error("read: " + workspace.status().message());
  Result<std::string> resolved = workspace->Resolve(path);
  if (!resolved.ok()) return ToolResult::Error("read: " + resolved.status().message());
  const std::string shown = workspace->Relative(*resolved);

  // Opened beneath the root (no swap of a directory for a link can lead it out), without
  // blocking on a FIFO; then examined through the descriptor, so what is read is what was checked.
  Result<int> opened = workspace->OpenBeneath(path, O_RDONLY | O_NONBLOCK);
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kNotFound) {
      return ToolResult::Error("read: file " + shown +
                               " does not exist; use glob or list to find the right path");
    }
    return ToolResult::Error("read: " + opened.status().message());
  }
  const int fd = *opened;
  FileCloser closer(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return ToolResult::Error("read: cannot examine " + shown + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    return ToolResult::Error("read: " + shown +
                             " is a directory; use the list tool to see its entries");
  }
  if (!S_ISREG(st.st_mode)) return ToolResult::Error("read: " + shown + " is not a regular file");

  char probe[kBinaryProbeBytes];
  ssize_t probed = pread(fd, probe, sizeof probe, 0);
  if (probed > 0 && std::memchr(probe, '\0', static_cast<size_t>(probed)) != nullptr) {
    return ToolResult::Error("read: " + shown + " is a binary file (" +
                             FormatBytes(static_cast<uint64_t>(st.st_size)) +
                             "); read shows text files only");
  }

  const int width = std::max(4, Digits(offset + limit - 1));
  LineReader reader(fd, ReadTool::kMaxLineBytes + 4);  // +4: room to cut at a UTF-8 boundary
  std::string out;
  std::string kept;
  uint64_t length = 0;
  int64_t line = 0;
  int64_t shown_lines = 0;
  bool byte_limit_hit = false;
  while (shown_lines < limit && reader.Next(&kept, &length)) {
    ++line;
    if (line < offset) continue;
    std::string text(Utf8Prefix(kept, ReadTool::kMaxLineBytes));
    std::string rendered = fmt::format("{:>{}}\t{}", line, width, ToValidUtf8(text));
    if (length > text.size()) {
      rendered +=
          " " + TruncationMarker(FormatCount(length - text.size()) + " more bytes on this line");
    }
    if (out.size() + rendered.size() + 1 > ReadTool::kMaxOutputBytes) {
      byte_limit_hit = true;
      --line;  // not shown: counted with the rest below
      break;
    }
    out += rendered;
    out += '\n';
    ++shown_lines;
  }
  const uint64_t remaining = (byte_limit_hit ? 1 : 0) + reader.CountRemainingLines();
  if (reader.error()) {
    return ToolResult::Error("read: error reading " + shown + ": " +
                             std::strerror(reader.error_number()));
  }
  const int64_t total = line + static_cast<int64_t>(remaining);
  if (total == 0) return ToolResult::Ok(shown + " is empty (0 lines)");
  if (offset > total) {
    return ToolResult::Error("read: `offset` " + std::to_string(offset) + " is past the end of " +
                             shown + ", which has " + CountOf(total, "line", "lines"));
  }
  if (remaining > 0) {
    std::string what = CountOf(remaining, "more line", "more lines");
    if (byte_limit_hit) what += " (output limit of " + FormatBytes(ReadTool::kMaxOutputBytes) + ")";
    out += TruncationMarker(what + "; use offset=" + std::to_string(offset + shown_lines) +
                            " to read on");
    out += '\n';
  }
  return ToolResult::Ok(std::move(out));
}

}  // namespace

ReadTool::ReadTool() {
  spec_.name = "read";
  spec_.description =
      "Read a text file from the workspace. Returns its lines numbered from 1, as `  12\\tline "
      "text`, so you can cite or edit exact lines (the number and the tab are not part of the "
      "file). Reads up to 2000 lines from `offset`; a marker at the end says how many lines are "
      "left and which offset to read on from. Lines longer than 2000 bytes are cut, and one call "
      "returns at most 64 KiB. Binary files and directories are refused (use `list` for a "
      "directory). Paths are relative to the workspace root; files outside it cannot be read.";
  spec_.input_schema = {
      {"type", "object"},
      {"properties",
       {{"path",
         {{"type", "string"},
          {"description", "File to read, relative to the workspace root (e.g. src/main.cc)"}}},
        {"offset",
         {{"type", "integer"},
          {"minimum", 1},
          {"description", "First line to return, counting from 1 (default 1)"}}},
        {"limit",
         {{"type", "integer"},
          {"minimum", 1},
          {"maximum", kMaxLimit},
          {"description", "How many lines to return (default 2000)"}}}}},
      {"required", {"path"}},
      {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> ReadTool::Start(const nlohmann::json& arguments,
                                         const ToolContext& context,
                                         std::function<void(ToolResult)> done) {
  ToolArgs args("read", arguments);
  auto fail = [&](const Status& s) {
    return PendingToolRun::Answer(context, ToolResult::Error(s.message()), std::move(done));
  };
  if (Status s = args.CheckObject({"path", "offset", "limit"}); !s.ok()) return fail(s);
  Result<std::string> path = args.RequiredString("path", "a file path relative to the workspace");
  if (!path.ok()) return fail(path.status());
  Result<int64_t> offset = args.OptionalInt("offset", 1, 1, kMaxOffset);
  if (!offset.ok()) return fail(offset.status());
  Result<int64_t> limit = args.OptionalInt("limit", kDefaultLimit, 1, kMaxLimit);
  if (!limit.ok()) return fail(limit.status());
  return PendingToolRun::Blocking(
      context,
      [root = context.workspace_root, path = *path, offset = *offset, limit = *limit] {
        return ReadFile(root, path, offset, limit);
      },
      std::move(done));
}

}  // namespace troupe
