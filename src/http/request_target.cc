#include "http/request_target.h"

#include <fmt/format.h>

#include <utility>

namespace troupe {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A short quote of a bad piece of the target for an error message.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 60;
  if (s.size() > kMax) return fmt::format("\"{}…\"", s.substr(0, kMax));
  return fmt::format("\"{}\"", s);
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

std::string_view RawPath(std::string_view target) { return target.substr(0, target.find('?')); }

std::optional<ApiError> ParseRequestTarget(std::string_view target, ApiRequest* request) {
  ApiError error;
  error.status = 400;
  error.code = "invalid_argument";
  if (target.empty() || target.front() != '/') {
    error.code = "bad_request";
    error.message =
        fmt::format("the request target must be a path starting with '/', got {}", Quote(target));
    return error;
  }
  const size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  const size_t hash = path.find('#');
  if (hash != std::string_view::npos) path = path.substr(0, hash);
  if (!PercentDecode(path, /*plus_is_space=*/false, &request->path)) {
    error.message =
        fmt::format("the path {} has a bad %-escape (expected % and two hex digits)", Quote(path));
    return error;
  }
  if (request->path.find('\0') != std::string::npos) {
    error.message = "the path contains an encoded NUL byte (%00)";
    return error;
  }
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(question + 1);
  const size_t qhash = query.find('#');
  if (qhash != std::string_view::npos) query = query.substr(0, qhash);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view raw_key = pair.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string key;
    std::string value;
    if (!PercentDecode(raw_key, /*plus_is_space=*/true, &key) ||
        !PercentDecode(raw_value, /*plus_is_space=*/true, &value)) {
      error.message = fmt::format(
          "the query parameter {} has a bad %-escape (expected % and two hex digits)", Quote(pair));
      error.field = key.empty() ? std::string(raw_key) : key;
      return error;
    }
    request->query[std::move(key)] = std::move(value);
  }
  return std::nullopt;
}

}  // namespace troupe
