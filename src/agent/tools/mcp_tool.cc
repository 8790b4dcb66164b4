#include "agent/tools/mcp_tool.h"

#include <algorithm>
#include <map>
#include <set>

#include "agent/mcp_result_text.h"
#include "config/mcp_servers_config.h"

namespace troupe {

namespace {

using json = nlohmann::json;

class McpToolRun : public ToolRun {
 public:
  ~McpToolRun() override { Cancel(); }
  void Cancel() override {
    if (call) call->Cancel();
    call.reset();
    if (on_cancel) on_cancel();
    on_cancel = nullptr;
  }
  std::unique_ptr<McpToolCall> call;
  std::function<void()> on_cancel;
};

}  // namespace

std::string McpToolName(const std::string& server, const std::string& tool) {
  std::string name = server + "__" + tool;
  for (char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (name.size() > 64) name.resize(64);
  return name;
}

McpTool::McpTool(McpServers* servers, std::string server, std::string owner,
                 const McpToolInfo& info)
    : servers_(servers), server_(std::move(server)), owner_(std::move(owner)), tool_(info.name) {
  spec_.name = McpToolName(server_, info.name);
  spec_.description = info.description.empty() ? info.title : info.description;
  if (spec_.description.empty()) spec_.description = "Tool " + info.name;
  spec_.description += " (tool \"" + info.name + "\" of the MCP server \"" + server_ + "\")";
  spec_.input_schema = info.input_schema;
}

std::unique_ptr<ToolRun> McpTool::Start(const json& arguments, const ToolContext& context,
                                        std::function<void(ToolResult)> done) {
  (void)context;
  auto run = std::make_unique<McpToolRun>();
  const json args = arguments.is_null() ? json::object() : arguments;
  if (!args.is_object()) {
    const std::string message =
        spec_.name + ": the arguments must be a JSON object, got " + std::string(args.type_name());
    auto cancelled = std::make_shared<bool>(false);
    run->on_cancel = [cancelled] { *cancelled = true; };
    servers_->Later([done, message, cancelled] {
      if (!*cancelled) done(ToolResult::Error(message));
    });
    return run;
  }
  const std::string server = server_;
  run->call = servers_->Call(server_, owner_, tool_, args, [done, server](Result<json> result) {
    if (!result.ok()) {
      done(ToolResult::Error("MCP server \"" + server + "\": " + result.status().message()));
      return;
    }
    done(McpResultToToolResult(result.value()));
  });
  return run;
}

bool HasMcpPatterns(const std::vector<std::string>& tools) {
  for (const std::string& t : tools) {
    if (t.starts_with("mcp:")) return true;
  }
  return false;
}

namespace {

struct Resolution {
  McpServers* servers;
  std::string owner;
  std::vector<McpToolPattern> patterns;
  std::vector<std::string> order;  // servers to wait for
  size_t next = 0;
  std::map<std::string, std::vector<McpToolInfo>> listed;
  std::shared_ptr<void> waiting;
  std::function<void(Result<std::vector<std::shared_ptr<Tool>>>)> done;
};

void Step(const std::shared_ptr<Resolution>& r) {
  if (r->order.empty() && r->next == 0) {
    ++r->next;  // nothing to start: still answer from a later turn
    std::weak_ptr<Resolution> weak = r;
    r->servers->Later([weak] {
      if (std::shared_ptr<Resolution> self = weak.lock()) Step(self);
    });
    return;
  }
  if (r->next < r->order.size()) {
    const std::string server = r->order[r->next];
    std::weak_ptr<Resolution> weak = r;
    r->waiting = r->servers->WhenReady(server, r->owner,
                                       [weak, server](Result<std::vector<McpToolInfo>> tools) {
                                         std::shared_ptr<Resolution> self = weak.lock();
                                         if (!self) return;
                                         if (!tools.ok()) {
                                           auto done = std::move(self->done);
                                           return done(tools.status());
                                         }
                                         self->listed[server] = std::move(tools).value();
                                         ++self->next;
                                         Step(self);
                                       });
    return;
  }
  std::vector<std::shared_ptr<Tool>> out;
  std::set<std::string> seen;
  for (const McpToolPattern& p : r->patterns) {
    for (const McpToolInfo& info : r->listed[p.server]) {
      if (!GlobMatch(p.tool_glob, info.name)) continue;
      auto tool = std::make_shared<McpTool>(r->servers, p.server, r->owner, info);
      if (!seen.insert(tool->spec().name).second) continue;
      out.push_back(std::move(tool));
    }
  }
  auto done = std::move(r->done);
  done(std::move(out));
}

}  // namespace

Result<std::vector<McpToolPattern>> ExpandMcpPatterns(const McpServers* servers,
                                                      const std::string& agent,
                                                      const std::vector<std::string>& tools) {
  std::vector<McpToolPattern> out;
  for (const std::string& entry : tools) {
    const McpToolPattern p = ParseMcpToolPattern(entry);
    if (p.server.empty()) continue;
    if (p.server == "@research") {
      if (servers == nullptr) continue;
      for (const std::string& s : servers->ResearchServers()) out.push_back({s, p.tool_glob});
    } else if (servers != nullptr && servers->Has(p.server)) {
      out.push_back(p);
    } else {
      std::string known;
      if (servers != nullptr) {
        for (const std::string& n : servers->Names()) known += (known.empty() ? "" : ", ") + n;
      }
      return Status::InvalidArgument(
          "unknown MCP server \"" + p.server + "\" in the tools of agent \"" + agent + "\" (" +
          entry + "); configured: " +
          (known.empty() ? "none (see mcp_servers in docs/CONFIG.md)" : known));
    }
  }
  return out;
}

std::shared_ptr<void> ResolveMcpTools(
    McpServers* servers, const std::string& owner, std::vector<McpToolPattern> patterns,
    std::function<void(Result<std::vector<std::shared_ptr<Tool>>>)> done) {
  auto r = std::make_shared<Resolution>();
  r->servers = servers;
  r->owner = owner;
  r->done = std::move(done);
  for (const McpToolPattern& p : patterns) {
    if (std::find(r->order.begin(), r->order.end(), p.server) == r->order.end()) {
      r->order.push_back(p.server);
    }
  }
  r->patterns = std::move(patterns);
  Step(r);  // WhenReady answers from a later turn; with no server, Later does
  return r;
}

}  // namespace troupe
