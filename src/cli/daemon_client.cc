#include "cli/daemon_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include "cli/daemon_launcher.h"
#include "core/duration_format.h"
#include "core/http_head_parser.h"
#include "core/http_status.h"
#include "core/text_trim.h"
#include "daemon/daemon_lock.h"
#include "http/api_error.h"

namespace troupe {
namespace {

using json = nlohmann::json;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SleepMs(int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool EnvSet(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0';
}

std::string EnvOr(const char* name, std::string fallback = "") {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

size_t AppendToString(char* data, size_t size, size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  out->append(data, size * count);
  return size * count;
}

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using SlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

struct CurlEasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
using EasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlMultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
using MultiPtr = std::unique_ptr<CURLM, CurlMultiDeleter>;

SlistPtr Append(SlistPtr list, const std::string& header) {
  curl_slist* raw = curl_slist_append(list.get(), header.c_str());
  if (raw != nullptr) {
    (void)list.release();
    list.reset(raw);
  }
  return list;
}

// Removes every `key=` parameter from the query of `target`.
std::string WithoutQueryParam(const std::string& target, const std::string& key) {
  const size_t q = target.find('?');
  if (q == std::string::npos) return target;
  std::string path = target.substr(0, q);
  std::string kept;
  size_t start = q + 1;
  while (start <= target.size()) {
    size_t end = target.find('&', start);
    if (end == std::string::npos) end = target.size();
    const std::string part = target.substr(start, end - start);
    const bool drop = part == key || part.rfind(key + "=", 0) == 0;
    if (!part.empty() && !drop) {
      kept += kept.empty() ? "" : "&";
      kept += part;
    }
    start = end + 1;
  }
  return kept.empty() ? path : path + "?" + kept;
}

// One event stream connection's state, filled by libcurl's callbacks.
struct StreamState {
  SseParser parser;
  std::vector<SseEvent> pending;
  HttpHeadParser head{/*follows_redirects=*/false};  // the final head, past any 1xx
  long http_status = 0;  // the final head's status, once it is complete
  std::string error_body;
};

size_t StreamHeader(char* data, size_t size, size_t count, void* user) {
  auto* s = static_cast<StreamState*>(user);
  if (s->head.AddLine(std::string_view(data, size * count))) s->http_status = s->head.head().status;
  return size * count;
}

size_t StreamWrite(char* data, size_t size, size_t count, void* user) {
  auto* s = static_cast<StreamState*>(user);
  const std::string_view bytes(data, size * count);
  if (s->http_status == 200) {
    s->parser.Feed(bytes, &s->pending);
  } else if (s->error_body.size() < 64 * 1024) {
    s->error_body.append(bytes);
  }
  return size * count;
}

}  // namespace

ClientOptions ClientOptionsFromEnv() {
  ClientOptions options;
  options.url = EnvOr("TROUPE_URL");
  options.token = EnvOr("TROUPE_TOKEN");
  const std::string no_autostart = EnvOr("TROUPE_NO_AUTOSTART");
  options.autostart = no_autostart.empty() || no_autostart == "0";
  return options;
}

std::string WithQuery(const std::string& target, const std::string& key, const std::string& value) {
  std::string encoded;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ',') {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded += fmt::format("%{:02X}", c);
    }
  }
  return target + (target.find('?') == std::string::npos ? "?" : "&") + key + "=" + encoded;
}

DaemonClient::DaemonClient(ClientOptions options, DaemonPaths paths, std::string socket)
    : options_(std::move(options)), paths_(std::move(paths)), socket_(std::move(socket)) {
  GlobalInit();
  curl_ = curl_easy_init();
}

DaemonClient::~DaemonClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

std::string DaemonClient::Where() const {
  return fmt::format("the troupe daemon at {}", socket_.empty() ? options_.url : socket_);
}

std::string DaemonClient::BaseUrl() const {
  if (socket_.empty()) {
    std::string url = options_.url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
  }
  return "http://localhost";
}

std::string DaemonClient::UnreachableHint() const {
  return fmt::format("(hint: is `troupe serve` running? see {})", paths_.log);
}

Result<std::unique_ptr<DaemonClient>> DaemonClient::Connect(const ClientOptions& options) {
  TROUPE_ASSIGN_OR_RETURN(DaemonPaths paths,
                          ResolveDaemonPaths(options.data_dir, options.socket, ProcessPathsEnv()));
  std::string socket;
  if (options.url.empty()) {
    socket = paths.socket;
    // A daemon started with another --socket says where it listens in its lock file.
    if (options.socket.empty() && !EnvSet("TROUPE_SOCKET")) {
      Result<std::optional<DaemonAddress>> running = ReadRunningDaemon(paths.lock);
      if (running.ok() && running->has_value() && !running.value()->socket.empty()) {
        socket = running.value()->socket;
      }
    }
  }
  std::unique_ptr<DaemonClient> client(new DaemonClient(options, paths, socket));
  TROUPE_RETURN_IF_ERROR(client->CheckSocket());
  if (client->curl_ == nullptr) return Status::Internal("curl_easy_init failed");

  if (!options.url.empty()) {
    if (options.url.rfind("http://", 0) != 0) {
      return Status::InvalidArgument(fmt::format(
          "--url {}: expected http://127.0.0.1:PORT (hint: the daemon serves plain HTTP on "
          "loopback only)",
          options.url));
    }
    client->token_ = options.token;
    if (client->token_.empty()) {
      std::ifstream in(paths.token);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      client->token_ = std::string(TrimAsciiSpace(text));
      if (client->token_.empty()) {
        return Status::FailedPrecondition(fmt::format(
            "no token to talk to {} over TCP: cannot read {} (hint: pass --token or set "
            "TROUPE_TOKEN)",
            options.url, paths.token));
      }
    }
  }

  Result<json> health = client->Get("/v1/health", options.connect_timeout_ms + 5'000);
  if (health.ok()) return client;
  const bool unreachable = client->last_error_.http_status == 0;
  if (!unreachable || !options.autostart || !options.url.empty()) return health.status();
  TROUPE_RETURN_IF_ERROR(client->Autostart());
  return client;
}

Status DaemonClient::Autostart() {
  std::string binary = options_.troupe_binary;
  if (binary.empty()) {
    TROUPE_ASSIGN_OR_RETURN(binary, SelfExecutablePath());
  }
  std::vector<std::string> args = {"serve", "--detach", "--data-dir", paths_.data_dir};
  // Always the socket this client waits on: the daemon listens exactly there.
  args.insert(args.end(), {"--socket", socket_});
  args.insert(args.end(), options_.serve_args.begin(), options_.serve_args.end());
  Result<LaunchedProcess> child = LaunchedProcess::Start(binary, args);
  if (!child.ok()) {
    return Status::Unavailable(fmt::format("cannot start the troupe daemon: {} {}",
                                           child.status().message(), UnreachableHint()));
  }
  started_daemon_ = true;
  const int64_t deadline = NowMs() + options_.start_timeout_ms;
  bool child_done = false;
  bool taken = false;
  while (true) {
    if (!child_done) {
      std::optional<int> code = child->Poll();
      if (code) {
        child_done = true;
        // 3: another daemon holds the data directory (someone started it first); it answers
        // soon, on the socket its lock file names (none yet while it starts).
        if (*code == 3) {
          taken = true;
        } else if (*code != 0) {
          std::string why = FirstLine(child->Output());
          if (why.empty()) why = fmt::format("it exited with code {}", *code);
          last_error_ = ApiErrorInfo{};
          return Status::Unavailable(fmt::format(
              "could not start the troupe daemon ({} serve --detach): {} (hint: see {})", binary,
              why, paths_.log));
        }
      }
    }
    if (taken) TROUPE_RETURN_IF_ERROR(FollowRunningDaemon());
    Result<json> health = Get("/v1/health", options_.connect_timeout_ms + 5'000);
    if (health.ok()) return Status::Ok();
    if (last_error_.http_status != 0) return health.status();
    if (NowMs() >= deadline) break;
    SleepMs(50);
  }
  last_error_ = ApiErrorInfo{};
  return Status::Unavailable(
      fmt::format("started the troupe daemon but it did not answer at {} within {} (hint: see {})",
                  socket_, FormatDuration(options_.start_timeout_ms), paths_.log));
}

Status DaemonClient::FollowRunningDaemon() {
  Result<std::optional<DaemonAddress>> running = ReadRunningDaemon(paths_.lock);
  if (!running.ok() || !running->has_value() || running.value()->socket.empty()) {
    return Status::Ok();
  }
  const DaemonAddress& other = **running;
  const bool socket_named = !options_.socket.empty() || EnvSet("TROUPE_SOCKET");
  if (socket_named && other.socket != socket_) {
    last_error_ = ApiErrorInfo{};
    return Status::Unavailable(fmt::format(
        "the troupe daemon of {} (pid {}) listens on {}, not on {} (hint: drop --socket and "
        "TROUPE_SOCKET, or stop it with `troupe stop --data-dir {}`)",
        paths_.data_dir, other.pid, other.socket, socket_, paths_.data_dir));
  }
  if (!PathExists(other.socket)) {
    // Its socket was removed under it (a runtime directory cleared at logout): it can never
    // answer there.
    last_error_ = ApiErrorInfo{};
    return Status::Unavailable(fmt::format(
        "the troupe daemon of {} (pid {}) holds its lock but its socket {} is gone (hint: "
        "stop it with `kill {}`, then try again)",
        paths_.data_dir, other.pid, other.socket, other.pid));
  }
  socket_ = other.socket;
  return Status::Ok();
}

Result<json> DaemonClient::Get(const std::string& target) {
  return Request("GET", target, nullptr, options_.request_timeout_ms);
}

Result<json> DaemonClient::Post(const std::string& target, const json& body) {
  return Request("POST", target, &body, options_.request_timeout_ms);
}

Result<json> DaemonClient::Get(const std::string& target, int64_t timeout_ms) {
  return Request("GET", target, nullptr, timeout_ms);
}

Result<json> DaemonClient::Post(const std::string& target, const json& body, int64_t timeout_ms) {
  return Request("POST", target, &body, timeout_ms);
}

Status DaemonClient::TransportError(int curl_code, const std::string& detail) {
  last_error_ = ApiErrorInfo{};
  std::string reason;
  const auto rc = static_cast<CURLcode>(curl_code);
  if (!socket_.empty() && !PathExists(socket_)) {
    reason = "no socket there";
  } else if (rc == CURLE_COULDNT_CONNECT) {
    reason = "connection refused";
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    reason = "no answer in time";
  } else {
    reason = detail.empty() ? curl_easy_strerror(rc) : detail;
  }
  last_error_.message = reason;
  const bool never_connected = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                               (!socket_.empty() && !PathExists(socket_));
  if (never_connected) {
    return Status::Unavailable(
        fmt::format("cannot reach {}: {} {}", Where(), reason, UnreachableHint()));
  }
  return Status::Unavailable(
      fmt::format("lost the connection to {}: {} {}", Where(), reason, UnreachableHint()));
}

Status DaemonClient::HttpError(int http_status, const std::string& body, const std::string& what) {
  last_error_ = ApiErrorInfo{};
  last_error_.http_status = http_status;
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    auto error = j.find("error");
    if (error != j.end() && error->is_object()) {
      last_error_.code = error->value("code", "");
      last_error_.message = error->value("message", "");
      last_error_.field = error->value("field", "");
    }
  }
  if (last_error_.message.empty()) {
    std::string first = FirstLine(body);
    if (first.size() > 200) first.resize(200);
    last_error_.message = fmt::format("{} answered {} with HTTP {}{}{}", Where(), what, http_status,
                                      first.empty() ? "" : ": ", first);
  }
  return Status(StatusCodeFromApiCode(last_error_.code, http_status), last_error_.message);
}

Status DaemonClient::CheckSocket() const {
  if (socket_.empty()) return Status::Ok();
  Status trusted = CheckSocketDir(socket_);
  if (trusted.ok()) return trusted;
  return Status(trusted.code(), fmt::format("will not talk to a troupe daemon at {}: {}", socket_,
                                            trusted.message()));
}

Result<json> DaemonClient::Request(const char* method, const std::string& target, const json* body,
                                   int64_t timeout_ms) {
  // Checked before every request: an autostarted daemon's socket, or one found after a restart,
  // is only now there.
  TROUPE_RETURN_IF_ERROR(CheckSocket());
  CURL* c = static_cast<CURL*>(curl_);
  std::string response;
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string url = BaseUrl() + target;
  SlistPtr headers;
  headers = Append(std::move(headers), "Accept: application/json");
  headers = Append(std::move(headers), "Expect:");
  if (!token_.empty()) headers = Append(std::move(headers), "Authorization: Bearer " + token_);
  std::string payload;
  if (body != nullptr) {
    headers = Append(std::move(headers), "Content-Type: application/json");
    payload = body->dump(-1, ' ', false, json::error_handler_t::replace);
  }

  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_.empty() ? nullptr : socket_.c_str());
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "troupe-cli/0.1");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &AppendToString);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, nullptr);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(0, timeout_ms)));
  if (body != nullptr) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  if (rc != CURLE_OK) return TransportError(rc, errbuf);

  long http = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
  const std::string what = fmt::format("{} {}", method, target);
  if (http < 200 || http >= 300) return HttpError(static_cast<int>(http), response, what);
  last_error_ = ApiErrorInfo{};
  if (response.empty()) return json::object();
  json j = json::parse(response, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status::Internal(
        fmt::format("{} answered {} with a body that is not JSON", Where(), what));
  }
  return j;
}

Status DaemonClient::Events(const std::string& target,
                            const std::function<bool(const SseEvent&)>& on_event) {
  return Events(target, on_event, EventsOptions{});
}

Status DaemonClient::Events(const std::string& target,
                            const std::function<bool(const SseEvent&)>& on_event,
                            const EventsOptions& options) {
  const int64_t deadline = options.timeout_ms > 0 ? NowMs() + options.timeout_ms : INT64_MAX;
  auto timed_out = [&] {
    return Status::DeadlineExceeded(
        fmt::format("no end of the event stream within {}", FormatDuration(options.timeout_ms)));
  };
  MultiPtr multi(curl_multi_init());
  if (!multi) return Status::Internal("curl_multi_init failed");

  std::string last_id;
  int failures = 0;
  int64_t delay = options.retry_delay_ms;
  while (true) {
    const std::string this_target =
        last_id.empty() ? target : WithQuery(WithoutQueryParam(target, "after"), "after", last_id);
    const std::string url = BaseUrl() + this_target;
    TROUPE_RETURN_IF_ERROR(CheckSocket());
    StreamState state;
    SlistPtr headers;
    EasyPtr easy(curl_easy_init());
    if (!easy) return Status::Internal("curl_easy_init failed");
    headers = Append(std::move(headers), "Accept: text/event-stream");
    if (!last_id.empty()) headers = Append(std::move(headers), "Last-Event-ID: " + last_id);
    if (!token_.empty()) headers = Append(std::move(headers), "Authorization: Bearer " + token_);
    char errbuf[CURL_ERROR_SIZE] = {0};
    CURL* e = easy.get();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    if (!socket_.empty()) curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, socket_.c_str());
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(e, CURLOPT_USERAGENT, "troupe-cli/0.1");
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &StreamHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &state);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &StreamWrite);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &state);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
    curl_multi_add_handle(multi.get(), e);
    // Removes the handle from the multi before it is cleaned up, on every way out.
    struct Detach {
      CURLM* m;
      CURL* e;
      ~Detach() { curl_multi_remove_handle(m, e); }
    } detach{multi.get(), e};

    bool opened = false;
    bool got_event = false;
    bool done = false;
    CURLcode result = CURLE_OK;
    while (!done) {
      int running = 0;
      curl_multi_perform(multi.get(), &running);
      if (state.head.complete() && state.http_status == 200 && !opened) {
        opened = true;
        if (options.on_open) options.on_open();
      }
      std::vector<SseEvent> events;
      events.swap(state.pending);
      for (const SseEvent& event : events) {
        got_event = true;
        if (!event.id.empty()) last_id = event.id;
        if (!on_event(event)) return Status::Ok();
      }
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
        if (msg->msg == CURLMSG_DONE) {
          done = true;
          result = msg->data.result;
        }
      }
      if (done) break;
      const int64_t now = NowMs();
      if (now >= deadline) return timed_out();
      if (options.on_tick && !options.on_tick()) return Status::Ok();
      const int64_t wait = std::min<int64_t>(100, deadline - now);
      curl_multi_poll(multi.get(), nullptr, 0, static_cast<int>(std::max<int64_t>(1, wait)),
                      nullptr);
    }

    if (state.http_status != 0 && state.http_status != 200) {
      return HttpError(static_cast<int>(state.http_status), state.error_body, "GET " + this_target);
    }
    std::string reason;
    if (result != CURLE_OK) {
      (void)TransportError(result, errbuf);
      reason = last_error_.message;
    } else {
      reason = "the daemon ended the stream";
    }
    if (got_event) {
      failures = 0;
      delay = options.retry_delay_ms;
    }
    if (++failures > options.max_retries) {
      last_error_ = ApiErrorInfo{};
      last_error_.message = reason;
      return Status::Unavailable(
          fmt::format("lost the event stream of {}: {} {}", Where(), reason, UnreachableHint()));
    }
    // Wait before reconnecting, still ticking and minding the deadline.
    const int64_t resume_at = NowMs() + delay;
    while (NowMs() < resume_at) {
      if (NowMs() >= deadline) return timed_out();
      if (options.on_tick && !options.on_tick()) return Status::Ok();
      SleepMs(std::min<int64_t>(50, resume_at - NowMs()));
    }
    delay = std::min<int64_t>(delay * 2, 2'000);
  }
}

}  // namespace troupe
