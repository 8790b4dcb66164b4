#include "engine/price_table.h"

#include <algorithm>
#include <cmath>

namespace troupe {

PriceTable::PriceTable(const std::map<std::string, ModelPrice>& overrides, bool with_defaults) {
  if (with_defaults) prices_ = DefaultModelPrices();
  for (const auto& [model, price] : overrides) prices_[model] = price;
}

const ModelPrice* PriceTable::Find(const std::string& canonical_model) const {
  auto it = prices_.find(canonical_model);
  return it == prices_.end() ? nullptr : &it->second;
}

UsageTotals PriceTable::Charge(const std::string& canonical_model, UsageTotals request) const {
  request.cost_nano_usd = 0;
  request.unpriced_requests = 0;
  const ModelPrice* price = Find(canonical_model);
  if (price == nullptr) {
    request.unpriced_requests = request.requests;
    return request;
  }
  const int64_t uncached = std::max<int64_t>(
      0, request.input_tokens - request.cache_read_tokens - request.cache_write_tokens);
  // USD per million tokens is 1000 nano-USD per token; long double keeps every digit of the
  // products before the one rounding.
  const long double nano =
      1000.0L * (static_cast<long double>(uncached) * price->input +
                 static_cast<long double>(request.cache_write_tokens) * price->cache_write +
                 static_cast<long double>(request.cache_read_tokens) * price->cache_read +
                 static_cast<long double>(request.output_tokens) * price->output);
  request.cost_nano_usd = static_cast<int64_t>(std::llround(nano));
  return request;
}

}  // namespace troupe
