// webfetch: reads a web page (http or https) and returns it as text — HTML reduced by
// html_text.h, text and JSON as they are, anything else a note. Bounded on every side: the
// hosts the config allows (`webfetch.allow_hosts` / `deny_hosts`, checked again at every
// redirect), redirects followed by hand up to `max_redirects`, at most `max_bytes` of body read
// (the rest cut, saying so), the whole fetch within `timeout_ms`, and what the model reads
// capped like every tool's output. A URL with a user name or password is refused.
//
// It runs in the daemon (libcurl on the loop), not in the tool sandbox: the sandbox's network
// rule is for processes the model starts; this tool's requests are troupe's own, to hosts the
// user's config allows.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "agent/tool.h"
#include "config/config.h"
#include "core/http_client.h"

namespace troupe {

inline constexpr size_t kMaxWebFetchTextBytes = 100 * 1024;

class WebFetchTool : public Tool {
 public:
  WebFetchTool(HttpClient* http, WebFetchConfig config);
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 private:
  HttpClient* http_;
  WebFetchConfig config_;
  ToolSpec spec_;
};

// The parts of an http(s) URL webfetch needs; an error saying what is wrong with it.
struct WebUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // lowercase, without brackets for IPv6
  std::string origin;  // "https://host:port"
  std::string path;    // from the first '/', query included; "/" when none
};
Result<WebUrl> ParseWebUrl(std::string_view url);
// `location` (a redirect's Location) against `base`.
std::string ResolveRedirect(const WebUrl& base, std::string_view location);
// "" when `host` may be fetched; else why not.
std::string HostRefusal(const WebFetchConfig& config, const std::string& host);

}  // namespace troupe
