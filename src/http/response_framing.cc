#include "http/response_framing.h"

#include <fmt/format.h>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>

#include "core/text_case.h"
#include "http/request_checks.h"

namespace troupe {

namespace http = boost::beast::http;

std::string_view ReasonPhrase(int status) {
  if (status == 529) return "Overloaded";  // Anthropic's; not in Beast's table
  const auto beast_reason =
      http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
  const std::string_view reason(beast_reason.data(), beast_reason.size());
  if (reason.empty() || reason.front() == '<') return "Unknown";
  return reason;
}

std::string FormatResponseHead(const ResponseHead& spec) {
  http::response_header<> head;
  head.version(11);
  head.result(static_cast<unsigned>(spec.status));
  const std::string_view reason = ReasonPhrase(spec.status);
  head.reason({reason.data(), reason.size()});
  if (!spec.content_type.empty()) {
    head.insert(http::field::content_type, {spec.content_type.data(), spec.content_type.size()});
  }
  if (spec.headers != nullptr) {
    for (const auto& [name, value] : *spec.headers) {
      if (!IsAllowedResponseHeader(name, value)) continue;
      if (!spec.content_type.empty() && AsciiLowercase(name) == "content-type") continue;
      head.insert(name, value);
    }
  }
  switch (spec.framing) {
    case BodyFraming::kLength:
      head.insert(http::field::content_length, std::to_string(spec.content_length));
      break;
    case BodyFraming::kChunked:
      head.insert(http::field::transfer_encoding, "chunked");
      break;
    case BodyFraming::kNone:
    case BodyFraming::kUntilClose:
      break;
  }
  if (!spec.keep_alive) {
    head.insert(http::field::connection, "close");
  } else if (spec.http10) {
    head.insert(http::field::connection, "keep-alive");
  }
  std::ostringstream out;
  out << head;
  return std::move(out).str();
}

std::string FormatChunk(std::string_view bytes) {
  if (bytes.empty()) return {};
  std::string framed = fmt::format("{:x}\r\n", bytes.size());
  framed += bytes;
  framed += "\r\n";
  return framed;
}

}  // namespace troupe
