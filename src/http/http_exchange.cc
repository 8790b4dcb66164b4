#include "http/http_exchange.h"

namespace troupe {
namespace {
const std::string kEmpty;
}

const std::string& ApiRequest::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? kEmpty : it->second;
}

const std::string& ApiRequest::Query(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? kEmpty : it->second;
}

}  // namespace troupe
