#include "agent/tools/webfetch_tool.h"

#include <libxml/parser.h>

#include "agent/html_text.h"
#include "agent/tool_output.h"
#include "config/mcp_servers_config.h"
#include "core/duration_format.h"
#include "core/text_case.h"

namespace troupe {

namespace {

using json = nlohmann::json;

// One fetch: its hops, its body, its deadline.
class FetchRun : public ToolRun, public std::enable_shared_from_this<FetchRun> {
 public:
  FetchRun(HttpClient* http, const WebFetchConfig& config, const ToolContext& context,
           std::function<void(ToolResult)> done)
      : http_(http), config_(config), clock_(context.clock), executor_(context.executor),
        done_(std::move(done)) {}

  void Begin(WebUrl url) {
    deadline_ms_ = clock_->NowMs() + config_.timeout_ms;
    chain_ = url.origin + url.path;
    Hop(std::move(url));
  }

  void Cancel() override {
    call_.reset();
    done_ = nullptr;
  }

  void Finish(ToolResult result) {
    call_.reset();
    if (auto done = std::move(done_)) done(std::move(result));
  }

  void Hop(WebUrl url) {
    if (std::string refusal = HostRefusal(config_, url.host); !refusal.empty()) {
      return Later(ToolResult::Error("webfetch: " + refusal));
    }
    url_ = url;
    HttpRequest request;
    request.method = "GET";
    request.url = url.origin + url.path;
    request.headers = {{"Accept", "text/html, text/plain, application/json;q=0.9, */*;q=0.5"}};
    request.connect_timeout_ms = std::min<int64_t>(10'000, config_.timeout_ms);
    request.total_timeout_ms = std::max<int64_t>(1, deadline_ms_ - clock_->NowMs());
    body_.clear();
    truncated_ = false;
    std::weak_ptr<FetchRun> weak = shared_from_this();
    HttpCallbacks cb;
    cb.on_head = [weak](const HttpResponseHead& head) {
      if (auto self = weak.lock()) self->head_ = head;
    };
    cb.on_data = [weak](std::string_view chunk) {
      auto self = weak.lock();
      if (!self || self->truncated_) return;
      const size_t room = static_cast<size_t>(self->config_.max_bytes) - self->body_.size();
      self->body_.append(chunk.substr(0, room));
      if (chunk.size() > room) {
        self->truncated_ = true;
        // Enough read: stop the transfer and answer with what came.
        self->OnBody();
      }
    };
    cb.on_done = [weak](Status status, HttpErrorKind kind) {
      auto self = weak.lock();
      if (!self || self->truncated_) return;
      if (!status.ok()) {
        const bool timeout = kind == HttpErrorKind::kTimeout;
        return self->Finish(ToolResult::Error(
            "webfetch: " + (timeout ? "the fetch took longer than " +
                                          FormatDuration(self->config_.timeout_ms) +
                                          " (webfetch.timeout_ms) and was stopped"
                                    : status.message())));
      }
      self->OnBody();
    };
    call_ = http_->Start(std::move(request), std::move(cb));
  }

  // Answers `message` as a tool error, from a later loop turn as tools must.
  void Refuse(std::string message) { Later(ToolResult::Error(std::move(message))); }

 private:
  void Later(ToolResult result) {
    auto self = shared_from_this();
    executor_->Run([result] { return result; },
                   [self](ToolResult r) { self->Finish(std::move(r)); });
  }

  void OnBody() {
    const int status = head_.status;
    if (status >= 300 && status < 400 && status != 304) {
      const std::optional<std::string> location = head_.Header("location");
      if (!location) return Finish(ToolResult::Error("webfetch: HTTP " + std::to_string(status) +
                                                     " without a Location header"));
      if (++redirects_ > config_.max_redirects) {
        return Finish(ToolResult::Error(
            "webfetch: more than " + std::to_string(config_.max_redirects) +
            " redirects (webfetch.max_redirects): " + chain_ + " → …"));
      }
      Result<WebUrl> next = ParseWebUrl(ResolveRedirect(url_, *location));
      if (!next.ok()) return Finish(ToolResult::Error("webfetch: a redirect to " + *location +
                                                      ": " + next.status().message()));
      chain_ += " → " + next->origin + next->path;
      call_.reset();
      return Hop(std::move(next).value());
    }
    call_.reset();
    std::string type = AsciiLowercase(head_.Header("content-type").value_or(""));
    std::string heading = "URL: " + url_.origin + url_.path + "\nHTTP " + std::to_string(status);
    if (redirects_ > 0) heading += " (after " + std::to_string(redirects_) + " redirects)";
    if (!type.empty()) heading += "\nContent-Type: " + type;
    if (truncated_) {
      heading += "\nOnly the first " + FormatBytes(static_cast<uint64_t>(config_.max_bytes)) +
                 " were read (webfetch.max_bytes); the page goes on.";
    }
    const bool error = status >= 400;
    const bool html = type.find("html") != std::string::npos ||
                      (type.empty() && body_.find("<html") != std::string::npos);
    const bool text = type.starts_with("text/") || type.find("json") != std::string::npos ||
                      type.find("xml") != std::string::npos || type.empty();
    if (!html && !text) {
      return Finish(ToolResult{heading + "\n\n[" + FormatBytes(body_.size()) +
                                   " of non-text content — not shown]",
                               error});
    }
    std::string base = url_.origin + url_.path;
    auto self = shared_from_this();
    executor_->Run(
        [body = std::move(body_), html, base, heading, error] {
          std::string out = heading;
          if (html) {
            PageText page = HtmlToText(body, base);
            if (!page.title.empty()) out += "\nTitle: " + page.title;
            out += "\n\n" + page.text;
          } else {
            out += "\n\n" + body;
          }
          return ToolResult{CapToolText(out, kMaxWebFetchTextBytes, "the page"), error};
        },
        [self](ToolResult r) { self->Finish(std::move(r)); });
  }

  HttpClient* http_;
  const WebFetchConfig& config_;
  Clock* clock_;
  BlockingExecutor* executor_;
  std::function<void(ToolResult)> done_;
  std::unique_ptr<HttpCall> call_;
  WebUrl url_;
  HttpResponseHead head_;
  std::string body_;
  std::string chain_;
  bool truncated_ = false;
  int redirects_ = 0;
  int64_t deadline_ms_ = 0;
};

// The handle the loop holds; the run itself is shared with its callbacks.
class FetchHandle : public ToolRun {
 public:
  explicit FetchHandle(std::shared_ptr<FetchRun> run) : run_(std::move(run)) {}
  ~FetchHandle() override { Cancel(); }
  void Cancel() override {
    if (run_) run_->Cancel();
    run_.reset();
  }

 private:
  std::shared_ptr<FetchRun> run_;
};

}  // namespace

Result<WebUrl> ParseWebUrl(std::string_view url) {
  WebUrl out;
  const size_t colon = url.find("://");
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument("expected an http:// or https:// URL, got \"" +
                                   std::string(url.substr(0, 100)) + "\"");
  }
  out.scheme = AsciiLowercase(url.substr(0, colon));
  if (out.scheme != "http" && out.scheme != "https") {
    return Status::InvalidArgument("only http and https URLs can be fetched, not " + out.scheme);
  }
  std::string_view rest = url.substr(colon + 3);
  const size_t end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, end);
  std::string path(end == std::string_view::npos ? "/" : rest.substr(end));
  if (const size_t hash = path.find('#'); hash != std::string::npos) path.resize(hash);
  if (path.empty() || path[0] != '/') path = "/" + path;
  if (authority.find('@') != std::string_view::npos) {
    return Status::InvalidArgument("a URL with a user name or password is not fetched");
  }
  std::string_view host = authority;
  std::string_view port;
  if (!host.empty() && host[0] == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("unclosed '[' in the host");
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port.empty() && port[0] == ':') port.remove_prefix(1);
  } else if (const size_t p = host.rfind(':'); p != std::string_view::npos) {
    port = host.substr(p + 1);
    host = host.substr(0, p);
  }
  if (host.empty()) return Status::InvalidArgument("the URL has no host");
  for (char c : port) {
    if (c < '0' || c > '9') return Status::InvalidArgument("the port is not a number");
  }
  for (char c : host) {
    if (c <= ' ' || c == '\\' || c == '%') {
      return Status::InvalidArgument("the host has characters a host name cannot have");
    }
  }
  out.host = AsciiLowercase(host);
  const std::string host_part =
      out.host.find(':') != std::string::npos ? "[" + out.host + "]" : out.host;
  out.origin = out.scheme + "://" + host_part + (port.empty() ? "" : ":" + std::string(port));
  out.path = std::move(path);
  return out;
}

std::string ResolveRedirect(const WebUrl& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return std::string(location);
  if (location.starts_with("//")) return base.scheme + ":" + std::string(location);
  if (location.starts_with("/")) return base.origin + std::string(location);
  std::string dir = base.path.substr(0, base.path.find('?'));
  dir = dir.substr(0, dir.rfind('/') + 1);
  return base.origin + dir + std::string(location);
}

std::string HostRefusal(const WebFetchConfig& config, const std::string& host) {
  for (const std::string& deny : config.deny_hosts) {
    if (GlobMatch(AsciiLowercase(deny), host)) {
      return "the host " + host + " is denied by webfetch.deny_hosts (\"" + deny + "\")";
    }
  }
  for (const std::string& allow : config.allow_hosts) {
    if (GlobMatch(AsciiLowercase(allow), host)) return "";
  }
  return "the host " + host + " is not in webfetch.allow_hosts; ask the user to add it";
}

WebFetchTool::WebFetchTool(HttpClient* http, WebFetchConfig config)
    : http_(http), config_(std::move(config)) {
  xmlInitParser();  // once, here on the loop: the workers that parse pages must not race it
  spec_.name = "webfetch";
  spec_.description =
      "Fetches a web page (http or https) and returns it as readable text: HTML is reduced to "
      "text with headings, lists and links (\"text (url)\"); text and JSON are returned as they "
      "are. Use it to read documentation, references and articles when the workspace does not "
      "have the source. Only hosts the user's config allows can be fetched; redirects are "
      "followed a few times; long pages are cut, saying so.";
  spec_.input_schema = {
      {"type", "object"},
      {"properties",
       {{"url", {{"type", "string"}, {"description", "The http:// or https:// URL to fetch."}}}}},
      {"required", {"url"}},
      {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> WebFetchTool::Start(const json& arguments, const ToolContext& context,
                                             std::function<void(ToolResult)> done) {
  auto run = std::make_shared<FetchRun>(http_, config_, context, std::move(done));
  auto handle = std::make_unique<FetchHandle>(run);
  if (!arguments.is_object() || !arguments.contains("url") || !arguments["url"].is_string()) {
    run->Refuse("webfetch: `url` is required: the http:// or https:// URL to fetch");
    return handle;
  }
  Result<WebUrl> url = ParseWebUrl(arguments["url"].get<std::string>());
  if (!url.ok()) {
    run->Refuse("webfetch: " + url.status().message());
  } else {
    run->Begin(std::move(url).value());
  }
  return handle;
}

}  // namespace troupe
