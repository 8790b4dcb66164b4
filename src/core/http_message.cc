#include "core/http_message.h"

#include <strings.h>

namespace troupe {

std::optional<std::string> FindHttpHeader(const std::vector<HttpHeader>& headers,
                                          std::string_view name) {
  for (const HttpHeader& h : headers) {
    if (h.name.size() == name.size() && strncasecmp(h.name.data(), name.data(), name.size()) == 0) {
      return h.value;
    }
  }
  return std::nullopt;
}

std::string UrlForDisplay(std::string_view url) {
  size_t scheme_end = url.find("://");
  size_t authority_begin = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  size_t path_begin = url.find_first_of("/?#", authority_begin);
  if (path_begin == std::string_view::npos) path_begin = url.size();
  std::string_view authority = url.substr(authority_begin, path_begin - authority_begin);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view path = url.substr(path_begin);
  path = path.substr(0, path.find_first_of("?#"));
  std::string out(url.substr(0, authority_begin));
  out += authority;
  out += path;
  return out;
}

}  // namespace troupe
