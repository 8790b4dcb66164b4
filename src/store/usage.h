// Token and cost counts, and how they read: the one shape of usage from a model request up to a
// day of all tasks (engine/price_table.h charges it; every facade shows it with FormatCost).
#pragma once

#include <cstdint>
#include <string>

namespace troupe {

// Token and cost counts: of one model request, or summed over many.
struct UsageTotals {
  int64_t requests = 0;
  int64_t input_tokens = 0;  // every prompt token (cache reads and writes included)
  int64_t output_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t reasoning_tokens = 0;  // of output_tokens
  int64_t cost_nano_usd = 0;     // of the priced requests
  int64_t unpriced_requests = 0;  // > 0: the total cost is unknown

  bool cost_known() const { return unpriced_requests == 0; }
  int64_t tokens() const { return input_tokens + output_tokens; }
  UsageTotals& operator+=(const UsageTotals& o);
  bool operator==(const UsageTotals&) const = default;
};

// "$1.23", or "$0.0123" below a dollar (four decimals, so a cheap task does not show $0.00).
std::string FormatUsd(int64_t nano_usd);
// The cost of `usage` as shown: FormatUsd, or "cost unknown" when no request had a price, or
// "≥ $0.01, cost unknown for 2 of 5 requests" when some had none.
std::string FormatCost(const UsageTotals& usage);
// USD as a number, for JSON.
inline double NanoToUsd(int64_t nano_usd) { return static_cast<double>(nano_usd) / 1e9; }

}  // namespace troupe
