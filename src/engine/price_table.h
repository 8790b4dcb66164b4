// What model requests cost: a table of prices per model (USD per million tokens), troupe's
// shipped defaults (default_prices.cc) under the config's `prices`, and the charge of one
// request's usage. A model without a price is never given a made-up cost: its requests are
// counted as unpriced, and every total they are part of says "cost unknown".
#pragma once

#include <map>
#include <string>

#include "config/config.h"
#include "store/records.h"

namespace troupe {

// When the shipped table was written; its prices are the providers' list prices on that day.
inline constexpr const char* kDefaultPricesDate = "2026-12-06";
// The shipped table, by canonical "provider/model" of the official providers only (a proxy such
// as OpenRouter prices the same model differently, so it gets no default).
const std::map<std::string, ModelPrice>& DefaultModelPrices();

class PriceTable {
 public:
  // `overrides` (canonical "provider/model") replace or add to the shipped table model by model;
  // with `with_defaults` false, only they are known.
  explicit PriceTable(const std::map<std::string, ModelPrice>& overrides = {},
                      bool with_defaults = true);

  // The price of `canonical_model`, or nullptr.
  const ModelPrice* Find(const std::string& canonical_model) const;

  // One request's usage (requests = 1; input_tokens counts every prompt token, cache reads and
  // writes included) with its cost: cost_nano_usd when the model has a price, else
  // unpriced_requests = 1 and no cost. Uncached input is input - cache reads - cache writes.
  UsageTotals Charge(const std::string& canonical_model, UsageTotals request) const;

  const std::map<std::string, ModelPrice>& prices() const { return prices_; }

 private:
  std::map<std::string, ModelPrice> prices_;
};

}  // namespace troupe
