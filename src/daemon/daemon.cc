// `troupe serve`. Start-up, in order: options checked, paths resolved and their directories
// made private, (--detach: fork, the child carries on; daemon/detach.h), the one-daemon lock, the
// token, the config, then every layer wired on one io_context as src/engine/agent_e2e_test.cc does,
// the HTTP server started, the store's tasks recovered, the address published in the lock file —
// and only then "listening". Any failure before that is one line on stderr and exit code 1 (3
// when another daemon holds the lock).
//
// Stopping (SIGTERM, SIGINT, POST /v1/shutdown): the server stops accepting, ends streams and
// answers long polls; the manager marks running tasks interrupted (resumed at the next start)
// and leaves pending ones pending; the loop runs until the connections are gone (bounded), then
// everything is destroyed in reverse order of construction, the store last but for the lock.
// A second signal while stopping exits at once with 128 + its number (SQLite's WAL keeps the
// store consistent).
//
// Over 600 lines on purpose: start-up and stopping are each one ordered sequence over the same
// locals (every layer's object, constructed and destroyed in order); the pieces that stand alone
// already live beside it (detach, the lock, the token, paths).
#include "daemon/daemon.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "agent/agent_catalog.h"
#include "agent/delegation_tools.h"
#include "agent/tool_executor.h"
#include "agent/tool_set.h"
#include "agent/tools/webfetch_tool.h"
#include "config/config_loader.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/http_client.h"
#include "core/ids.h"
#include "daemon/daemon_lock.h"
#include "daemon/daemon_observer.h"
#include "daemon/daemon_paths.h"
#include "daemon/dashboard_listener.h"
#include "dashboard/browser_guard.h"
#include "dashboard/dashboard_api.h"
#include "dashboard/dashboard_sessions.h"
#include "dashboard/login_codes.h"
#include "dashboard/random_secret.h"
#include "daemon/detach.h"
#include "daemon/idle_trim.h"
#include "daemon/process_limits.h"
#include "daemon/token_file.h"
#include "daemon/tool_policy.h"
#include "engine/agent_loop_runner.h"
#include "engine/engine_delegator.h"
#include "engine/provider_limits.h"
#include "engine/task_manager.h"
#include "http/api_error.h"
#include "http/http_server.h"
#include "llm/default_model.h"
#include "llm/provider_registry.h"
#include "mcp_client/mcp_servers.h"
#include "rest/mcp_servers_api.h"
#include "mcp/mcp_http.h"
#include "mcp/mcp_tools.h"
#include "rest/event_stream.h"
#include "rest/metrics.h"
#include "rest/rest_api.h"
#include "store/dashboard_session_store.h"
#include "store/sqlite_store.h"

namespace troupe {
namespace {

namespace fs = std::filesystem;

// How long a graceful stop waits for connections to finish, beyond the server's own drain.
constexpr int64_t kDrainGraceMs = 500;

struct ListenAddress {
  std::string host;  // "" = no TCP
  int port = 0;
};

// "HOST:PORT" or "[V6]:PORT"; the server checks that the host is a loopback address.
Result<ListenAddress> ParseListen(const std::string& text) {
  ListenAddress a;
  if (text.empty()) return a;
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(
        fmt::format("--listen {}: {}; expected HOST:PORT with a loopback host, e.g. 127.0.0.1:7077",
                    text, why));
  };
  std::string port;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("no port");
    }
    a.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) return bad("no port");
    a.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (a.host.empty()) return bad("no host");
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return bad("the port is not a number");
  }
  a.port = std::stoi(port);
  if (a.port > 65535) return bad("the port is above 65535");
  return a;
}

Result<spdlog::level::level_enum> ParseLogLevel(const std::string& text) {
  static const std::pair<const char*, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace},  {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},    {"warn", spdlog::level::warn},
      {"warning", spdlog::level::warn}, {"error", spdlog::level::err},
      {"off", spdlog::level::off}};
  for (const auto& [name, level] : kLevels) {
    if (text == name) return level;
  }
  return Status::InvalidArgument(
      fmt::format("--log-level {}: expected trace, debug, info, warn, error or off", text));
}

void SetUpLogging(spdlog::level::level_enum level) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (isatty(STDERR_FILENO)) {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  auto logger = std::make_shared<spdlog::logger>("troupe", std::move(sink));
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

// The server's handler until the RestApi exists (the API is built once the TCP port is known,
// after the server started), and while it is torn down: then requests get 503.
class FrontHandler : public HttpHandler {
 public:
  void set_target(HttpHandler* target) { target_ = target; }
  void Handle(std::shared_ptr<HttpExchange> exchange) override {
    if (target_ != nullptr) {
      target_->Handle(std::move(exchange));
      return;
    }
    ApiError error;
    error.status = 503;
    error.code = "unavailable";
    error.message = "troupe is not serving requests right now (starting or stopping)";
    exchange->Respond(ApiErrorResponse(error));
  }
  void Shutdown() override {
    if (target_ != nullptr) target_->Shutdown();
  }
  size_t BodyLimit(std::string_view path) const override {
    return target_ != nullptr ? target_->BodyLimit(path) : 0;
  }
  std::optional<ApiResponse> BodyTooLarge(std::string_view path, size_t limit) const override {
    return target_ != nullptr ? target_->BodyTooLarge(path, limit) : std::nullopt;
  }

 private:
  HttpHandler* target_ = nullptr;
};

std::string HostForUrl(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// Everything the daemon runs, in construction order; destroyed in reverse.
struct Daemon {
  explicit Daemon(int tool_threads)
      : clock(io),
        http(io),
        executor(io, tool_threads),
        ids(&clock),
        signals(io),
        drain_timer(io) {}
  ~Daemon() {
    // Nothing runs any more; cut the links that point from long-lived objects to shorter-lived
    // ones before those go.
    front.set_target(nullptr);
    observer.set_limits(nullptr);
    observer.set_metrics(nullptr);
    // Reverse order of construction (members below are destroyed in reverse declaration
    // order too; spelled out here because the order matters), except that the server goes
    // before the API: destroying it runs the OnClose callbacks the API and the event stream
    // registered, which must find them alive.
    dashboard_listener.reset();
    server.reset();
    api.reset();
    dashboard_api.reset();
    dashboard_sessions.reset();
    dashboard_session_store.reset();
    login_codes.reset();
    mcp_servers_api.reset();
    mcp.reset();
    mcp_tools.reset();
    events.reset();
    metrics.reset();
    limits.reset();
    delegator.reset();
    trimmer.reset();
    manager.reset();
    runner.reset();
    mcp_servers.reset();  // after every run that used their tools: kills their processes
    registry.reset();
    store.reset();  // closes the database: the checkpoint thread stops, the WAL is synced
  }

  boost::asio::io_context io;
  LoopClock clock;
  HttpClient http;
  ThreadPoolExecutor executor;
  IdGenerator ids;
  std::unique_ptr<Store> store;
  DaemonProviderObserver observer;
  std::unique_ptr<ProviderRegistry> registry;
  std::unique_ptr<McpServers> mcp_servers;  // the config's MCP servers, as agents' tools
  std::unique_ptr<McpServersApi> mcp_servers_api;  // GET /v1/mcp-servers
  AgentCatalog agents;
  SecretRedactor secrets;
  ToolSet tools;
  std::unique_ptr<AgentLoopRunner> runner;
  std::unique_ptr<Worktrees> worktrees;  // isolated tasks' git worktrees, under the data dir
  std::unique_ptr<TaskManager> manager;
  std::unique_ptr<IdleTrimmer> trimmer;
  std::unique_ptr<EngineDelegator> delegator;
  std::unique_ptr<ProviderLimits> limits;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<EventStream> events;
  std::unique_ptr<EngineMcpTools> mcp_tools;
  std::unique_ptr<McpHttpHandler> mcp;  // mounted at /mcp in the API
  std::unique_ptr<LoginCodes> login_codes;
  std::unique_ptr<DashboardSessionStore> dashboard_session_store;
  std::unique_ptr<DashboardSessions> dashboard_sessions;
  std::unique_ptr<DashboardApi> dashboard_api;  // /, /assets/, /v1/dashboard/ in the API
  FrontHandler front;
  std::unique_ptr<RestApi> api;  // built after the server (it needs the TCP port), destroyed
                                 // after it too (see ~Daemon)
  std::unique_ptr<HttpServer> server;
  // The browser's loopback listener when there is no --listen (destroyed before the server).
  std::unique_ptr<DashboardListener> dashboard_listener;

  boost::asio::signal_set signals;
  boost::asio::steady_timer drain_timer;
  bool stopping = false;
  int64_t drain_deadline_ms = 0;
  int64_t drain_timeout_ms = 0;
};

size_t OpenConnections(const Daemon* d) {
  return (d->server ? d->server->connections() : 0) +
         (d->dashboard_listener ? d->dashboard_listener->connections() : 0);
}

void WaitDrained(Daemon* d) {
  if (OpenConnections(d) == 0 || d->clock.NowMs() >= d->drain_deadline_ms) {
    if (OpenConnections(d) > 0) {
      spdlog::warn("troupe serve: closing {} connection(s) that did not finish in time",
                   OpenConnections(d));
    }
    d->io.stop();
    return;
  }
  d->drain_timer.expires_after(std::chrono::milliseconds(20));
  d->drain_timer.async_wait([d](const boost::system::error_code& ec) {
    if (!ec) WaitDrained(d);
  });
}

void BeginStop(Daemon* d, const std::string& why) {
  if (d->stopping) return;
  d->stopping = true;
  spdlog::info("troupe serve: stopping ({})", why);
  if (d->server) d->server->Stop();  // listeners closed, streams ended, long polls answered
  if (d->dashboard_listener) d->dashboard_listener->Stop();
  if (d->events) d->events->CloseAll();
  if (d->manager) d->manager->Shutdown();  // running -> interrupted; pending stays pending
  d->drain_deadline_ms = d->clock.NowMs() + d->drain_timeout_ms + kDrainGraceMs;
  // From a later turn, so that what Stop and Shutdown posted gets to run first.
  boost::asio::post(d->io, [d] { WaitDrained(d); });
}

void WaitForSignal(Daemon* d) {
  d->signals.async_wait([d](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (d->stopping) {
      spdlog::warn("troupe serve: {} again while stopping: exiting now", strsignal(signo));
      std::_Exit(128 + signo);
    }
    BeginStop(d, strsignal(signo));
    WaitForSignal(d);
  });
}

void LogStateChange(const EngineEvent& e) {
  if (e.kind != EngineEvent::Kind::kState || e.task == nullptr) return;
  if (!spdlog::should_log(spdlog::level::debug)) return;
  const TaskRecord& t = *e.task;
  // Never the prompt or the result: they are the user's and the model's words.
  if (e.from == t.state) {
    spdlog::debug("task {} {} (agent {}, model {}, session {})", t.id, TaskStateName(t.state),
                  t.agent, t.model, t.session_id);
  } else if (t.error.empty()) {
    spdlog::debug("task {} {} -> {}", t.id, TaskStateName(e.from), TaskStateName(t.state));
  } else {
    spdlog::debug("task {} {} -> {}: {}", t.id, TaskStateName(e.from), TaskStateName(t.state),
                  t.error);
  }
}

struct Inode {
  dev_t dev = 0;
  ino_t ino = 0;
};

std::optional<Inode> SocketInode(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return std::nullopt;
  return Inode{st.st_dev, st.st_ino};
}

// Removes the daemon's socket file if it is still the one this daemon bound.
void RemoveSocketFile(const std::string& path, const std::optional<Inode>& ours) {
  if (!ours) return;
  auto now = SocketInode(path);
  if (now && now->dev == ours->dev && now->ino == ours->ino) ::unlink(path.c_str());
}

// Runs the daemon in this process; `report_fd` is the --detach parent's pipe (or -1).
int Serve(const ServeOptions& options, const DaemonPaths& paths, spdlog::level::level_enum level,
          const ListenAddress& listen, int report_fd) {
  StartReport report(report_fd);
  auto fail = [&](int code, const std::string& message) {
    std::fprintf(stderr, "troupe: %s\n", message.c_str());
    std::fflush(stderr);
    report.Failed(code, message);
    return code;
  };
  ::signal(SIGPIPE, SIG_IGN);
  SetUpLogging(level);
  // Every connection and tool process takes descriptors: use all the system allows.
  if (Result<OpenFileLimit> files = RaiseOpenFileLimit(); !files.ok()) {
    spdlog::warn("{}", files.status().message());
  } else if (files->now != files->before) {
    spdlog::info("open-file limit raised from {} to {}", files->before, files->now);
  }

  DaemonAddress holder;
  Result<DaemonLock> lock = DaemonLock::Acquire(paths.lock, &holder);
  if (!lock.ok()) {
    if (lock.status().code() == StatusCode::kFailedPrecondition) {  // another daemon holds it
      return fail(kExitAlreadyRunning, AlreadyRunningText(paths.lock, holder));
    }
    return fail(kExitStartError, lock.status().message());
  }

  Result<std::string> token = LoadOrCreateToken(paths.token);
  if (!token.ok()) return fail(kExitStartError, token.status().message());

  std::error_code ec;
  fs::path workspace_path = fs::absolute(options.workspace.empty() ? "." : options.workspace, ec);
  std::string workspace = workspace_path.lexically_normal().string();
  while (workspace.size() > 1 && workspace.back() == '/') workspace.pop_back();
  if (ec || !fs::is_directory(workspace, ec)) {
    return fail(kExitStartError, fmt::format("--workspace {}: not a directory", options.workspace));
  }

  for (const std::string& file : options.config_files) {
    // A file named on the command line must be there (the default files are optional).
    // (One that exists but cannot be read is the loader's to report.)
    if (!fs::exists(file, ec) && !ec) {
      return fail(kExitStartError, fmt::format("--config {}: no such file", file));
    }
  }
  const std::vector<std::string> config_files =
      options.config_files.empty() ? DefaultConfigPaths(workspace) : options.config_files;
  Result<LoadedConfig> loaded = LoadConfigFiles(config_files);
  if (!loaded.ok()) return fail(kExitStartError, loaded.status().message());
  for (const ConfigDiagnostic& w : loaded->warnings) spdlog::warn("config: {}", w.ToString());
  const Config& config = loaded->config;

  auto d = std::make_unique<Daemon>(options.tool_threads);
  const int64_t started_at_ms = d->clock.WallMs();
  d->signals.add(SIGTERM);
  d->signals.add(SIGINT);

  if (Status private_db = MakePrivateDatabaseFiles(paths.db); !private_db.ok()) {
    return fail(kExitStartError, private_db.message());
  }
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(paths.db);
  if (!store.ok()) {
    return fail(kExitStartError,
                fmt::format("cannot open the store {}: {}", paths.db, store.status().message()));
  }
  d->store = std::move(store).value();

  ProviderDeps provider_deps;
  provider_deps.http = &d->http;
  provider_deps.clock = &d->clock;
  provider_deps.observer = &d->observer;
  Result<std::unique_ptr<ProviderRegistry>> registry =
      ProviderRegistry::Create(config, std::move(provider_deps));
  if (!registry.ok()) return fail(kExitStartError, registry.status().message());
  d->registry = std::move(registry).value();
  // Agents that name no model run on this; a key in the environment picks a real provider.
  const DefaultModel default_model = ChooseDefaultModel(config.default_model, d->registry->List());
  const std::string model_line =
      fmt::format("troupe serve: default model {} ({})", default_model.model,
                  DefaultModelOrigin(default_model));
  if (Status usable = d->registry->Check(default_model.model); !usable.ok()) {
    spdlog::warn("troupe serve: tasks on the default model will be refused: {}", usable.message());
  }

  AgentCatalogOptions catalog;
  catalog.project_dir = workspace;
  catalog.overrides = config.agents;
  d->agents = LoadAgentCatalog(catalog);
  for (const AgentDiagnostic& diag : d->agents.diagnostics()) {
    spdlog::warn("agents: {}", diag.message);
  }
  BuiltInToolOptions tool_options;
  SandboxPolicy sandbox_policy = DaemonSandboxPolicy(config.sandbox, paths, ProcessEnv());
  // The proxy's thread calls this, once per task and refused host.
  sandbox_policy.log_refusal = [](const std::string& task, const std::string& message) {
    spdlog::info("tool network: {}: refused {}", task.empty() ? "(no task)" : task, message);
  };
  tool_options.sandbox = std::make_shared<Sandbox>(Sandbox::Create(std::move(sandbox_policy)));
  if (!tool_options.sandbox->available()) {
    spdlog::warn("troupe serve: bash will be refused: {}",
                 tool_options.sandbox->unavailable_reason());
  } else {
    spdlog::info("troupe serve: tool sandbox {}", tool_options.sandbox->Describe());
  }
  if (geteuid() == 0 && !tool_options.sandbox->cgroups().available()) {
    // The kernel exempts root from RLIMIT_NPROC: nothing else caps what a tool forks.
    spdlog::warn("troupe serve: running as root, tool processes have no process cap: {}",
                 tool_options.sandbox->cgroups().unavailable_reason());
  }
  d->tools = ToolSet::BuiltIn(tool_options);
  if (Status added = d->tools.Add(std::make_unique<WebFetchTool>(&d->http, config.webfetch),
                                  ToolAccess::kReadOnly);
      !added.ok()) {
    return fail(kExitStartError, added.message());
  }
  {
    McpServersDeps mcp_deps;
    mcp_deps.io = &d->io;
    mcp_deps.clock = &d->clock;
    mcp_deps.http = &d->http;
    mcp_deps.workspace = workspace;
    // The servers are the user's programs: they get the daemon's environment, as in other MCP
    // clients, plus their own `env`.
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) mcp_deps.environment.push_back(*e);
    d->mcp_servers = std::make_unique<McpServers>(config.mcp_servers, std::move(mcp_deps));
    for (const auto& [name, server] : config.mcp_servers) {
      if (!server.blocked.empty()) spdlog::warn("mcp_servers: {}", server.blocked);
    }
  }
  d->secrets = DaemonSecrets(*d->registry, *token, ProcessEnv());

  AgentLoopRunnerDeps runner_deps;
  runner_deps.clock = &d->clock;
  runner_deps.agents = &d->agents;
  runner_deps.providers = d->registry.get();
  runner_deps.tools = &d->tools;
  runner_deps.mcp = d->mcp_servers.get();
  runner_deps.executor = &d->executor;
  runner_deps.default_model = default_model;
  runner_deps.redactor = &d->secrets;
  d->runner = std::make_unique<AgentLoopRunner>(runner_deps);

  TaskManagerOptions manager_options;
  manager_options.limits = config.background_task;
  manager_options.model_aliases = config.model_aliases;
  manager_options.prices = PriceTable(config.prices);
  manager_options.budgets = config.budgets;
  manager_options.default_model = default_model.model;
  manager_options.default_workspace = workspace;
  d->worktrees =
      std::make_unique<Worktrees>((std::filesystem::path(paths.data_dir) / "worktrees").string());
  manager_options.worktrees = d->worktrees.get();
  manager_options.blocking = &d->executor;  // git for worktrees runs off the loop
  AgentLoopRunner* runner = d->runner.get();
  ProviderRegistry* providers = d->registry.get();
  manager_options.prepare_launch = [runner](LaunchRequest* r) { return runner->PrepareLaunch(r); };
  manager_options.check_model = [providers](const std::string& m) { return providers->Check(m); };
  manager_options.wake_idle_parents = true;
  // One line when the database stops taking writes and one when it takes them again, not one
  // per failed write (the engine reports changes only).
  manager_options.store_health_changed = [](const StoreHealth& h) {
    if (h.degraded) {
      spdlog::error(
          "store: cannot write to the database: {}; running tasks go on and are saved when it "
          "can be written again, new launches are refused meanwhile (see GET /v1/health)",
          h.last_error.message());
    } else {
      spdlog::warn("store: the database takes writes again; {} held write(s) saved",
                   h.unsaved_writes);  // held until now, saved by this retry
    }
  };
  d->manager = std::make_unique<TaskManager>(&d->clock, d->store.get(), d->runner.get(), &d->ids,
                                             std::move(manager_options));
  d->runner->Attach(d->manager.get());
  IdleTrimOptions trim_options;
  TaskManager* manager = d->manager.get();
  trim_options.active_tasks = [manager] { return manager->active_tasks(); };
  d->trimmer = std::make_unique<IdleTrimmer>(&d->clock, &d->manager->events(), trim_options);
  d->delegator = std::make_unique<EngineDelegator>(d->manager.get(), &d->clock);
  Status tools_added =
      AddDelegationTools(&d->tools, d->delegator.get(), DelegableAgentsOf(d->agents));
  if (!tools_added.ok()) return fail(kExitStartError, tools_added.message());
  d->limits = std::make_unique<ProviderLimits>(d->manager.get(), &d->clock);
  d->observer.set_limits(d->limits.get());
  d->manager->events().Subscribe(LogStateChange);

  d->metrics = std::make_unique<Metrics>(&d->clock, d->manager.get(), d->store.get());
  d->observer.set_metrics(d->metrics.get());
  d->events = std::make_unique<EventStream>(&d->clock, d->store.get(), &d->manager->events());
  EventStream* events = d->events.get();
  d->metrics->AddGauge("troupe_sse_subscribers", "Clients following GET /v1/events.",
                       [events] { return static_cast<double>(events->subscribers()); });
  Daemon* for_gauges = d.get();  // the API is made below; the gauge reads it when scraped
  d->metrics->AddGauge(
      "troupe_long_polls", "Requests waiting for tasks to end (wait_ms, /v1/wait).", [for_gauges] {
        return for_gauges->api ? static_cast<double>(for_gauges->api->pending_waits()) : 0.0;
      });

  // The dashboard's logins: one-time codes in memory, sessions (hashes) in the store.
  d->login_codes = std::make_unique<LoginCodes>(&d->clock, RandomSecret);
  Result<std::unique_ptr<DashboardSessionStore>> session_store =
      OpenSqliteDashboardSessionStore(paths.db);
  if (!session_store.ok()) {
    return fail(kExitStartError, fmt::format("cannot open the dashboard's logins in {}: {}",
                                             paths.db, session_store.status().message()));
  }
  d->dashboard_session_store = std::move(session_store).value();
  d->dashboard_sessions = std::make_unique<DashboardSessions>(d->dashboard_session_store.get(),
                                                              &d->clock, RandomSecret);
  if (Status loaded = d->dashboard_sessions->Load(); !loaded.ok()) {
    spdlog::warn("dashboard: cannot read the dashboard logins: {}", loaded.message());
  }

  HttpServerOptions server_options;
  server_options.unix_socket_path = paths.socket;
  server_options.tcp_host = listen.host;
  server_options.tcp_port = listen.port;
  server_options.bearer_token = token.value();
  DashboardSessions* dashboard_sessions = d->dashboard_sessions.get();
  server_options.tcp_gate = [bearer = token.value(),
                             dashboard_sessions](const TcpRequestHead& head) {
    return AdmitTcpRequest(head, bearer, [dashboard_sessions](std::string_view secret) {
      return dashboard_sessions->Check(secret);
    });
  };
  Metrics* metrics = d->metrics.get();
  server_options.on_response = [metrics](int status) { metrics->OnHttpResponse(status); };
  d->drain_timeout_ms = server_options.drain_timeout_ms;
  const HttpServerOptions dashboard_tcp_options = server_options;
  Result<std::unique_ptr<HttpServer>> server =
      HttpServer::Start(d->io, &d->front, std::move(server_options));
  if (!server.ok()) {
    return fail(kExitStartError, fmt::format("cannot listen: {}", server.status().message()));
  }
  d->server = std::move(server).value();
  const std::optional<Inode> socket_inode = SocketInode(paths.socket);
  const int tcp_port = d->server->tcp_port();
  d->dashboard_listener = std::make_unique<DashboardListener>(
      d->io, &d->front, dashboard_tcp_options, tcp_port,
      (std::filesystem::path(paths.data_dir) / "dashboard.json").string());

  RestApiDeps api_deps;
  api_deps.clock = &d->clock;
  api_deps.manager = d->manager.get();
  api_deps.store = d->store.get();
  api_deps.agents = &d->agents;
  api_deps.events = d->events.get();
  api_deps.metrics = d->metrics.get();
  api_deps.info.version = options.build.version;
  api_deps.info.commit = options.build.commit.empty() || !options.build.dirty
                             ? options.build.commit
                             : options.build.commit + "-dirty";
  api_deps.info.pid = ::getpid();
  api_deps.info.started_at_ms = started_at_ms;
  api_deps.info.data_dir = paths.data_dir;
  api_deps.info.socket = paths.socket;
  api_deps.info.tcp_port = tcp_port;
  DashboardListener* board_listener = d->dashboard_listener.get();
  api_deps.info.dashboard_port = [board_listener] { return board_listener->port(); };
  api_deps.info.default_model = default_model;
  Daemon* daemon = d.get();
  api_deps.request_shutdown = [daemon] { BeginStop(daemon, "POST /v1/shutdown"); };
  d->mcp_tools = std::make_unique<EngineMcpTools>(&d->clock, d->manager.get(), &d->agents);
  McpHttpOptions mcp_options;
  mcp_options.session.server_version = options.build.version;
  d->mcp = std::make_unique<McpHttpHandler>(&d->clock, d->mcp_tools.get(), mcp_options);
  api_deps.mounts["/mcp"] = d->mcp.get();
  d->mcp_servers_api = std::make_unique<McpServersApi>(d->mcp_servers.get());
  api_deps.mounts["/v1/mcp-servers"] = d->mcp_servers_api.get();
  DashboardApiDeps dashboard_deps;
  dashboard_deps.codes = d->login_codes.get();
  dashboard_deps.sessions = d->dashboard_sessions.get();
  DashboardListener* dashboard_listener = d->dashboard_listener.get();
  dashboard_deps.ensure_listener = [dashboard_listener] { return dashboard_listener->Ensure(); };
  d->dashboard_api = std::make_unique<DashboardApi>(std::move(dashboard_deps));
  api_deps.mounts["/assets"] = d->dashboard_api.get();
  api_deps.mounts["/v1/dashboard"] = d->dashboard_api.get();
  api_deps.root = d->dashboard_api.get();
  d->api = std::make_unique<RestApi>(std::move(api_deps));
  d->front.set_target(d->api.get());

  // No request is handled before the loop runs, so recovering now is still "before anything
  // else" for the manager.
  Status recovered = d->manager->Recover();
  if (!recovered.ok()) {
    d->server->Stop();
    d.reset();
    RemoveSocketFile(paths.socket, socket_inode);
    return fail(kExitStartError,
                fmt::format("cannot recover the tasks in {}: {}", paths.db, recovered.message()));
  }
  // Worktrees no pending, running or interrupted task owns were left by a crash (or a failed
  // clean-up): removed, their branches kept.
  Result<std::vector<std::string>> orphans = d->manager->RemoveOrphanedWorktrees();
  if (!orphans.ok()) {
    spdlog::warn("worktrees: cannot remove orphaned worktrees: {}", orphans.status().message());
  } else if (!orphans->empty()) {
    spdlog::info("worktrees: removed {} orphaned worktree(s) (branches kept): {}", orphans->size(),
                 fmt::join(*orphans, ", "));
  }

  // A board left open before a restart finds the daemon on the same port.
  d->dashboard_listener->RestoreAtStart();

  DaemonAddress address;
  address.pid = ::getpid();
  address.socket = paths.socket;
  address.tcp_port = tcp_port;
  address.started_at_ms = started_at_ms;
  Status published = lock->Publish(address);
  if (!published.ok()) spdlog::warn("troupe serve: {}", published.message());

  WaitForSignal(d.get());
  spdlog::info("troupe serve: troupe {}", DescribeBuild(options.build));
  std::string line = fmt::format("troupe serve: listening on {}", paths.socket);
  if (tcp_port > 0) line += fmt::format(" and http://{}:{}", HostForUrl(listen.host), tcp_port);
  line += fmt::format("; data {}", paths.data_dir);
  spdlog::info("{}", line);
  spdlog::info("{}", model_line);
  // `serve --detach` prints both: where it listens, and which model agents get.
  report.Listening(line + "\n" + model_line);

  for (;;) {
    try {
      d->io.run();
      break;
    } catch (const std::exception& e) {
      // A handler that throws is a bug; the daemon keeps serving the others.
      spdlog::error("troupe serve: internal error: {}", e.what());
    }
  }
  // From here a signal has its default effect: one that comes while the engine is torn down
  // (a tool thread that takes its time) ends the process at once.
  boost::system::error_code ignored;
  d->signals.clear(ignored);
  d.reset();  // the store is closed here
  RemoveSocketFile(paths.socket, socket_inode);
  spdlog::info("troupe serve: stopped");
  return 0;
}

}  // namespace

int RunServe(const ServeOptions& options) {
  auto start_error = [](const Status& s) {
    std::fprintf(stderr, "troupe: %s\n", s.message().c_str());
    return kExitStartError;
  };
  Result<spdlog::level::level_enum> level = ParseLogLevel(options.log_level);
  if (!level.ok()) return start_error(level.status());
  Result<ListenAddress> listen = ParseListen(options.listen);
  if (!listen.ok()) return start_error(listen.status());
  if (options.tool_threads < 1) {
    return start_error(Status::InvalidArgument(
        fmt::format("--tool-threads {}: expected at least 1", options.tool_threads)));
  }
  Result<DaemonPaths> paths =
      ResolveDaemonPaths(options.data_dir, options.socket, ProcessPathsEnv());
  if (!paths.ok()) return start_error(paths.status());
  Status dirs = PrepareDaemonDirs(paths.value());
  if (!dirs.ok()) return start_error(dirs);
  if (options.detach) {
    return DetachAndServe(paths->log, [&](int report_fd) {
      return Serve(options, paths.value(), level.value(), listen.value(), report_fd);
    });
  }
  return Serve(options, paths.value(), level.value(), listen.value(), /*report_fd=*/-1);
}

}  // namespace troupe
