#include "mcp_client/mcp_servers.h"

#include <boost/asio/post.hpp>
#include <cstdlib>

#include "config/mcp_servers_config.h"
#include "core/duration_format.h"
#include "mcp_client/http_channel.h"
#include "mcp_client/stdio_channel.h"

namespace troupe {

namespace {

using json = nlohmann::json;

constexpr int64_t kFirstBackoffMs = 1000;
constexpr int64_t kMaxBackoffMs = 60'000;

struct Waiter {
  std::function<void(Result<std::vector<McpToolInfo>>)> done;
};

}  // namespace

const char* McpServerStateName(McpServerState state) {
  switch (state) {
    case McpServerState::kIdle:
      return "idle";
    case McpServerState::kStarting:
      return "starting";
    case McpServerState::kReady:
      return "ready";
    case McpServerState::kBackoff:
      return "backoff";
    case McpServerState::kBlocked:
      return "blocked";
  }
  return "idle";
}

struct McpServers::Server {
  McpServerConfig config;
  McpServerState state = McpServerState::kIdle;
  std::shared_ptr<McpConnection> conn;
  std::vector<McpToolInfo> tools;
  std::string last_error;
  std::string server_info;
  int starts = 0;
  int failures = 0;  // since the last time it was ready
  int64_t backoff_ends_ms = 0;
  // Its stdio process exited on the server/discover probe: later starts go straight to
  // initialize.
  bool skip_probe = false;
  std::unique_ptr<Timer> backoff_timer;
  std::vector<std::weak_ptr<Waiter>> waiters;
  std::string protocol_version;  // of the last start that reached ready
  std::vector<std::string> rejected_tools;
  int restarts = 0;  // starts after a failure (a per-owner server's: of all its instances)
  // A per-owner instance: the configured server, whose status shows what its instances do.
  Server* parent = nullptr;
  // Expires when the instance is released or destroyed: its callbacks stop there.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

McpServers::McpServers(std::map<std::string, McpServerConfig> configs, McpServersDeps deps)
    : deps_(std::move(deps)) {
  if (!deps_.getenv) {
    deps_.getenv = [](const std::string& name) -> std::optional<std::string> {
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) return std::nullopt;
      return std::string(v);
    };
  }
  for (auto& [name, config] : configs) {
    auto s = std::make_unique<Server>();
    s->config = std::move(config);
    s->config.name = name;
    if (!s->config.blocked.empty()) {
      s->state = McpServerState::kBlocked;
      s->last_error = s->config.blocked;
    }
    s->backoff_timer = std::make_unique<Timer>(deps_.clock);
    servers_[name] = std::move(s);
  }
}

McpServers::~McpServers() { StopAll(); }

void McpServers::StopAll() {
  for (auto& [name, s] : servers_) {
    s->backoff_timer->Cancel();
    if (s->conn) s->conn->Close();
    s->conn.reset();
    if (s->state != McpServerState::kBlocked) s->state = McpServerState::kIdle;
  }
  for (auto& [key, s] : owned_) {
    s->backoff_timer->Cancel();
    if (s->conn) s->conn->Close();
    s->alive.reset();
    retired_.push_back(std::move(s));
  }
  owned_.clear();
  if (!retired_.empty()) {
    Later([this] { retired_.clear(); });
  }
}

bool McpServers::PerOwner(const std::string& name) const {
  auto it = servers_.find(name);
  return it != servers_.end() && it->second->config.url.empty() && !it->second->config.shared;
}

McpServers::Server* McpServers::Instance(const std::string& name, const std::string& owner) {
  auto it = servers_.find(name);
  if (it == servers_.end()) return nullptr;
  Server* shared = it->second.get();
  if (owner.empty() || !PerOwner(name) || shared->state == McpServerState::kBlocked) {
    return shared;
  }
  std::unique_ptr<Server>& own = owned_[{name, owner}];
  if (!own) {
    own = std::make_unique<Server>();
    own->config = shared->config;
    own->skip_probe = shared->skip_probe;
    own->backoff_timer = std::make_unique<Timer>(deps_.clock);
    own->parent = shared;
  }
  return own.get();
}

std::shared_ptr<void> McpServers::Hold(const std::string& owner) {
  ++holds_[owner];
  struct Token {
    std::function<void()> release;
    ~Token() { release(); }
  };
  auto token = std::make_shared<Token>();
  std::weak_ptr<bool> alive = alive_;
  token->release = [this, alive, owner] {
    if (!alive.expired()) Release(owner);
  };
  return token;
}

void McpServers::Release(const std::string& owner) {
  auto hold = holds_.find(owner);
  if (hold == holds_.end() || --hold->second > 0) return;
  holds_.erase(hold);
  for (auto it = owned_.begin(); it != owned_.end();) {
    if (it->first.second != owner) {
      ++it;
      continue;
    }
    Server& s = *it->second;
    s.backoff_timer->Cancel();
    if (s.conn) s.conn->Close();  // kills the process group
    s.alive.reset();
    retired_.push_back(std::move(it->second));
    it = owned_.erase(it);
  }
  if (!retired_.empty()) Later([this] { retired_.clear(); });
}

void McpServers::Later(std::function<void()> fn) {
  std::weak_ptr<bool> alive = alive_;
  boost::asio::post(*deps_.io, [alive, fn = std::move(fn)] {
    if (!alive.expired()) fn();
  });
}

std::vector<std::string> McpServers::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : servers_) out.push_back(name);
  return out;
}

std::vector<std::string> McpServers::ResearchServers() const {
  std::vector<std::string> out;
  for (const auto& [name, s] : servers_) {
    if (s->config.research) out.push_back(name);
  }
  return out;
}

McpServerStatus McpServers::Status(const std::string& name) const {
  McpServerStatus st;
  auto it = servers_.find(name);
  if (it == servers_.end()) return st;
  const Server& s = *it->second;
  st.name = name;
  st.transport = s.config.url.empty() ? "stdio" : "http";
  if (s.config.url.empty()) {
    st.target = s.config.command;
    for (const std::string& a : s.config.args) st.target += " " + a;
  } else {
    st.target = UrlForDisplay(s.config.url);
  }
  st.state = s.state;
  st.last_error = s.last_error;
  st.restarts = s.restarts;
  st.research = s.config.research;
  st.protocol_version = s.protocol_version;
  st.server_info = s.server_info;
  st.tools = s.tools;
  st.rejected_tools = s.rejected_tools;
  st.shared = !PerOwner(name);
  if (!st.shared && s.state != McpServerState::kBlocked) {
    // What its instances do: the most advanced state among them.
    auto rank = [](McpServerState state) {
      switch (state) {
        case McpServerState::kReady:
          return 3;
        case McpServerState::kStarting:
          return 2;
        case McpServerState::kBackoff:
          return 1;
        default:
          return 0;
      }
    };
    for (const auto& [key, own] : owned_) {
      if (key.first != name) continue;
      if (own->conn) ++st.processes;
      if (rank(own->state) > rank(st.state)) st.state = own->state;
    }
  }
  return st;
}

std::vector<McpServerStatus> McpServers::List() const {
  std::vector<McpServerStatus> out;
  for (const auto& [name, _] : servers_) out.push_back(Status(name));
  return out;
}

std::unique_ptr<McpChannel> McpServers::MakeChannel(const McpServerConfig& c,
                                                    troupe::Status* error) {
  if (!c.url.empty()) {
    HttpServerSpec spec;
    spec.url = c.url;
    for (const auto& [name, value] : c.headers) {
      Result<std::string> expanded = ExpandEnvReferences(value, deps_.getenv);
      if (!expanded.ok()) {
        *error = expanded.status().WithContext("header " + name);
        return nullptr;
      }
      spec.headers.push_back({name, std::move(expanded).value()});
    }
    return std::make_unique<HttpChannel>(deps_.http, std::move(spec));
  }
  StdioServerSpec spec;
  spec.program = c.command;
  spec.args = c.args;
  spec.cwd = c.cwd.empty() ? deps_.workspace : c.cwd;
  std::map<std::string, std::string> env;
  for (const std::string& e : deps_.environment) {
    const size_t eq = e.find('=');
    if (eq != std::string::npos) env[e.substr(0, eq)] = e.substr(eq + 1);
  }
  for (const auto& [name, value] : c.env) {
    Result<std::string> expanded = ExpandEnvReferences(value, deps_.getenv);
    if (!expanded.ok()) {
      *error = expanded.status().WithContext("env " + name);
      return nullptr;
    }
    env[name] = std::move(expanded).value();
  }
  for (const auto& [name, value] : env) spec.env.push_back(name + "=" + value);
  return std::make_unique<StdioChannel>(*deps_.io, std::move(spec));
}

void McpServers::StartServer(Server& s) {
  s.state = McpServerState::kStarting;
  if (s.failures > 0) {
    ++s.restarts;
    if (s.parent) ++s.parent->restarts;
  }
  ++s.starts;
  troupe::Status error;
  std::unique_ptr<McpChannel> channel = MakeChannel(s.config, &error);
  std::weak_ptr<bool> alive = s.alive;
  Server* server = &s;
  if (!channel) {
    boost::asio::post(*deps_.io, [this, alive, server, error] {
      if (!alive.expired()) Failed(*server, error);
    });
    return;
  }
  s.conn = std::make_shared<McpConnection>(std::move(channel), deps_.clock, !s.skip_probe);
  std::weak_ptr<McpConnection> conn = s.conn;
  const int64_t timeout = s.config.startup_timeout_ms;
  s.conn->Start(
      timeout,
      [this, alive, server, conn, timeout](troupe::Status started) {
        if (alive.expired() || conn.expired()) return;
        if (!started.ok()) {
          if (conn.lock()->probe_closed()) {
            server->skip_probe = true;
            if (server->parent) server->parent->skip_probe = true;
          }
          return Failed(*server, started);
        }
        conn.lock()->ListTools(timeout, [this, alive, server, conn](
                                            Result<std::vector<McpToolInfo>> tools) {
          if (alive.expired() || conn.expired()) return;
          if (!tools.ok()) return Failed(*server, tools.status());
          server->tools = std::move(tools).value();
          std::shared_ptr<McpConnection> c = conn.lock();
          server->server_info = c->server_name() +
                                (c->server_version().empty() ? "" : " " + c->server_version());
          Ready(*server);
        });
      },
      [this, alive, server, conn](troupe::Status why) {
        if (alive.expired() || conn.expired()) return;
        Failed(*server, why);
      });
}

void McpServers::Ready(Server& s) {
  s.state = McpServerState::kReady;
  s.failures = 0;
  if (s.conn) {
    s.protocol_version = s.conn->protocol_version();
    s.rejected_tools = s.conn->rejected_tools();
  }
  if (s.parent) {
    s.parent->rejected_tools = s.rejected_tools;
    s.parent->tools = s.tools;
    s.parent->server_info = s.server_info;
    s.parent->protocol_version = s.protocol_version;
  }
  std::vector<std::weak_ptr<Waiter>> waiters = std::move(s.waiters);
  s.waiters.clear();
  std::weak_ptr<bool> alive = s.alive;
  for (auto& w : waiters) {
    if (std::shared_ptr<Waiter> waiter = w.lock(); waiter && waiter->done) {
      auto done = std::move(waiter->done);
      done(s.tools);
      if (alive.expired()) return;
    }
  }
}

void McpServers::Failed(Server& s, const troupe::Status& why) {
  if (s.conn) {
    // Not destroyed here: this may run inside one of the connection's callbacks.
    std::shared_ptr<McpConnection> old = std::move(s.conn);
    old->Close();
    boost::asio::post(*deps_.io, [old] {});
  }
  ++s.failures;
  const int64_t backoff = std::min(kMaxBackoffMs, kFirstBackoffMs << std::min(s.failures - 1, 16));
  s.state = McpServerState::kBackoff;
  s.last_error = why.message();
  if (s.parent) s.parent->last_error = s.last_error;
  s.backoff_ends_ms = deps_.clock->NowMs() + backoff;
  Server* server = &s;
  std::weak_ptr<bool> alive = s.alive;
  s.backoff_timer->Start(backoff, [this, alive, server] {
    if (alive.expired()) return;
    server->state = McpServerState::kIdle;
    // Waiters that came during the backoff start it again.
    bool waiting = false;
    for (auto& w : server->waiters) waiting = waiting || !w.expired();
    if (waiting) StartServer(*server);
  });
  const std::string message = "MCP server \"" + s.config.name + "\" failed: " + why.message() +
                              " (troupe retries it in " + FormatDuration(backoff) + ")";
  std::vector<std::weak_ptr<Waiter>> waiters = std::move(s.waiters);
  s.waiters.clear();
  for (auto& w : waiters) {
    if (std::shared_ptr<Waiter> waiter = w.lock(); waiter && waiter->done) {
      auto done = std::move(waiter->done);
      done(troupe::Status(why.code(), message));
      if (alive.expired()) return;
    }
  }
}

std::shared_ptr<void> McpServers::WhenReady(
    const std::string& name, const std::string& owner,
    std::function<void(Result<std::vector<McpToolInfo>>)> done) {
  return WhenReady(Instance(name, owner), name, std::move(done), /*for_call=*/false);
}

std::shared_ptr<void> McpServers::WhenReady(
    Server* instance, const std::string& name,
    std::function<void(Result<std::vector<McpToolInfo>>)> done, bool for_call) {
  auto waiter = std::make_shared<Waiter>();
  waiter->done = std::move(done);
  std::weak_ptr<Waiter> weak = waiter;
  auto answer_later = [&](Result<std::vector<McpToolInfo>> answer) {
    boost::asio::post(*deps_.io, [weak, answer = std::move(answer)] {
      if (std::shared_ptr<Waiter> w = weak.lock(); w && w->done) {
        auto cb = std::move(w->done);
        cb(answer);
      }
    });
  };
  if (instance == nullptr) {
    answer_later(troupe::Status::NotFound("no MCP server \"" + name + "\" is configured"));
    return waiter;
  }
  Server& s = *instance;
  std::weak_ptr<bool> alive = s.alive;
  switch (s.state) {
    case McpServerState::kBlocked:
      answer_later(troupe::Status::FailedPrecondition(s.config.blocked));
      break;
    case McpServerState::kReady:
      if (s.conn && s.conn->tools_stale() && !for_call) {
        // tools/list_changed: list again before answering.
        s.waiters.push_back(waiter);
        s.state = McpServerState::kStarting;
        Server* server = &s;
        std::weak_ptr<McpConnection> conn = s.conn;
        s.conn->ListTools(s.config.startup_timeout_ms,
                          [this, alive, server, conn](Result<std::vector<McpToolInfo>> tools) {
                            if (alive.expired() || conn.expired()) return;
                            if (!tools.ok()) return Failed(*server, tools.status());
                            server->tools = std::move(tools).value();
                            Ready(*server);
                          });
      } else {
        answer_later(s.tools);
      }
      break;
    case McpServerState::kIdle:
      s.waiters.push_back(waiter);
      StartServer(s);
      break;
    case McpServerState::kStarting:
    case McpServerState::kBackoff:
      s.waiters.push_back(waiter);
      break;
  }
  return waiter;
}

namespace {

class McpToolCallImpl : public McpToolCall {
 public:
  ~McpToolCallImpl() override { Cancel(); }
  void Cancel() override {
    ready_.reset();
    if (auto conn = conn_.lock(); conn && id_ != 0) conn->Cancel(id_, "the task was cancelled");
    id_ = 0;
    *cancelled_ = true;
  }

  std::shared_ptr<void> ready_;
  std::weak_ptr<McpConnection> conn_;
  uint64_t id_ = 0;
  std::shared_ptr<bool> cancelled_ = std::make_shared<bool>(false);
};

}  // namespace

std::unique_ptr<McpToolCall> McpServers::Call(const std::string& server, const std::string& owner,
                                              const std::string& tool, const json& arguments,
                                              std::function<void(Result<json>)> done) {
  auto call = std::make_unique<McpToolCallImpl>();
  McpToolCallImpl* raw = call.get();
  std::weak_ptr<bool> cancelled = call->cancelled_;
  Server* instance = Instance(server, owner);
  std::weak_ptr<bool> alive = instance ? std::weak_ptr<bool>(instance->alive) : alive_;
  auto shared_done = std::make_shared<std::function<void(Result<json>)>>(std::move(done));
  call->ready_ = WhenReady(
      instance, server,
      [instance, alive, raw, cancelled, server, tool, arguments,
       shared_done](Result<std::vector<McpToolInfo>> ready) {
        if (cancelled.expired()) return;
        if (!ready.ok()) return (*shared_done)(ready.status());
        if (alive.expired()) return;
        Server& s = *instance;
        raw->conn_ = s.conn;
        raw->id_ = s.conn->CallTool(tool, arguments, s.config.timeout_ms,
                                    [raw, cancelled, shared_done, server](Result<json> result) {
                                      if (cancelled.expired()) return;
                                      raw->id_ = 0;
                                      (*shared_done)(std::move(result));
                                    });
      },
      /*for_call=*/true);
  return call;
}

}  // namespace troupe
