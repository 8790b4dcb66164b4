#include "store/usage.h"

#include <fmt/format.h>

namespace troupe {

UsageTotals& UsageTotals::operator+=(const UsageTotals& o) {
  requests += o.requests;
  input_tokens += o.input_tokens;
  output_tokens += o.output_tokens;
  cache_write_tokens += o.cache_write_tokens;
  cache_read_tokens += o.cache_read_tokens;
  reasoning_tokens += o.reasoning_tokens;
  cost_nano_usd += o.cost_nano_usd;
  unpriced_requests += o.unpriced_requests;
  return *this;
}

std::string FormatUsd(int64_t nano_usd) {
  const long double usd = static_cast<long double>(nano_usd) / 1e9L;
  if (nano_usd >= 1'000'000'000 || nano_usd == 0) return fmt::format("${:.2f}", usd);
  return fmt::format("${:.4f}", usd);
}

std::string FormatCost(const UsageTotals& usage) {
  if (usage.cost_known()) return FormatUsd(usage.cost_nano_usd);
  if (usage.unpriced_requests == usage.requests) return "cost unknown";
  return fmt::format("≥ {}, cost unknown for {} of {} request{}", FormatUsd(usage.cost_nano_usd),
                     usage.unpriced_requests, usage.requests, usage.requests == 1 ? "" : "s");
}

}  // namespace troupe
