#include "cli/demo_agents.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

namespace troupe {
namespace fs = std::filesystem;
namespace {

bool IsSource(const fs::path& p) {
  static const char* kExt[] = {".cc", ".h",  ".cpp", ".hpp", ".c",
                               ".py", ".ts", ".js",  ".go",  ".rs"};
  const std::string ext = p.extension().string();
  return std::any_of(std::begin(kExt), std::end(kExt), [&](const char* e) { return ext == e; });
}

bool Skipped(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.starts_with(".") || name.starts_with("build") || name == "node_modules";
}

// Every regular file under root, skipping hidden folders and build output; bounded.
std::vector<fs::path> Walk(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end && out.size() < 20000; it.increment(ec)) {
    if (it->is_directory(ec) && Skipped(it->path())) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) out.push_back(it->path());
  }
  return out;
}

int CountLines(const fs::path& p) {
  std::ifstream in(p);
  return static_cast<int>(
      std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
}

std::string Explore(const fs::path& root) {
  std::map<std::string, int> per_folder;
  int total = 0;
  for (const auto& p : Walk(root)) {
    if (!IsSource(p)) continue;
    fs::path rel = fs::relative(p, root);
    std::string top = rel.has_parent_path() ? rel.begin()->string() + "/" : "(top level)";
    if (rel.begin()->string() == "src" && std::distance(rel.begin(), rel.end()) > 2) {
      top = "src/" + std::next(rel.begin())->string() + "/";
    }
    ++per_folder[top];
    ++total;
  }
  std::string out = fmt::format("Found {} source files in {}:\n", total, root.string());
  for (const auto& [folder, n] : per_folder) out += fmt::format("- `{}` {} files\n", folder, n);
  return out;
}

std::string Librarian(const fs::path& root) {
  std::string out = "Documents in the workspace:\n";
  int docs = 0;
  for (const auto& p : Walk(root)) {
    if (p.extension() != ".md" || docs >= 8) continue;
    ++docs;
    std::ifstream in(p);
    std::string line, headings;
    int shown = 0;
    while (std::getline(in, line) && shown < 4) {
      if (line.starts_with("## ")) {
        headings += (shown++ ? ", " : "") + line.substr(3);
      }
    }
    out += fmt::format("- `{}`{}\n", fs::relative(p, root).string(),
                       headings.empty() ? "" : ": " + headings);
  }
  if (docs == 0) out += "- (no Markdown documents found)\n";
  return out;
}

std::string Oracle(const fs::path& root) {
  std::vector<std::pair<int, std::string>> sizes;
  for (const auto& p : Walk(root)) {
    if (IsSource(p)) sizes.emplace_back(CountLines(p), fs::relative(p, root).string());
  }
  std::sort(sizes.rbegin(), sizes.rend());
  std::string out = "Largest source files (the style guide suggests splitting past ~600 lines):\n";
  for (size_t i = 0; i < sizes.size() && i < 5; ++i) {
    out += fmt::format("- `{}` {} lines{}\n", sizes[i].second, sizes[i].first,
                       sizes[i].first > 600 ? " - consider splitting" : "");
  }
  if (sizes.empty()) out += "- (no source files found)\n";
  return out;
}

ProgressUpdate Tool(const char* name, int tokens) {
  ProgressUpdate u;
  u.turns = 1;
  u.tool_calls = 1;
  u.tool = name;
  u.input_tokens = tokens * 4;
  u.output_tokens = tokens;
  return u;
}

}  // namespace

Script DemoScript(const std::string& agent, const std::string& workspace, double speed) {
  auto ms = [speed](int64_t v) { return static_cast<int64_t>(static_cast<double>(v) / speed); };
  const fs::path root = fs::absolute(workspace);
  if (agent == "explore") {
    return {ScriptStep::Progress(ms(300), Tool("glob", 120)),
            ScriptStep::Progress(ms(500), Tool("grep", 200)),
            ScriptStep::Complete(ms(400), Explore(root))};
  }
  if (agent == "librarian") {
    return {ScriptStep::Progress(ms(400), Tool("glob", 90)),
            ScriptStep::Progress(ms(600), Tool("read", 400)),
            ScriptStep::Progress(ms(500), Tool("read", 350)),
            ScriptStep::Complete(ms(300), Librarian(root))};
  }
  return {ScriptStep::Progress(ms(500), Tool("glob", 100)),
          ScriptStep::Progress(ms(700), Tool("read", 600)),
          ScriptStep::Complete(ms(400), Oracle(root))};
}

}  // namespace troupe
