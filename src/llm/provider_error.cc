#include "llm/provider_error.h"

#include "llm/json_fields.h"

namespace troupe {

Status ProviderHttpError(std::string_view provider, int http_status, std::string_view kind,
                         std::string_view message) {
  std::string text(provider);
  text += ": HTTP " + std::to_string(http_status);
  if (!kind.empty()) {
    text += ' ';
    text += kind;
  }
  text += ": ";
  text += message;
  if (http_status == 401 || http_status == 403) {
    text += " (check that the API key environment variable for this provider is set and valid)";
  }
  return Status(StatusCodeForHttpStatus(http_status), std::move(text));
}

std::string BodyForMessage(std::string_view body) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t begin = body.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return "(empty body)";
  body = body.substr(begin, body.find_last_not_of(kSpace) - begin + 1);
  return json_fields::Snippet(body, 500);
}

}  // namespace troupe
