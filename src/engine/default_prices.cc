// troupe's shipped prices, written 2026-12-06 (kDefaultPricesDate) from the providers' published
// list prices, USD per million tokens: input (uncached), output, cache write, cache read.
// Standard (not batch, not priority) rates, for prompts within each model's base context tier.
// OpenAI bills no cache writes (they are charged as input) and cached input at its own rate.
// Override or add any model in the config's `prices` (docs/CONFIG.md "Prices").
#include "engine/price_table.h"

namespace troupe {

const std::map<std::string, ModelPrice>& DefaultModelPrices() {
  static const std::map<std::string, ModelPrice>* const table =
      new std::map<std::string, ModelPrice>{
          // Anthropic: cache writes (5-minute) at 1.25x input, cache reads at 0.1x input.
          {"anthropic/claude-opus-4-5", {5.00, 25.00, 6.25, 0.50}},
          {"anthropic/claude-opus-4-1", {15.00, 75.00, 18.75, 1.50}},
          {"anthropic/claude-opus-4-0", {15.00, 75.00, 18.75, 1.50}},
          {"anthropic/claude-sonnet-4-5", {3.00, 15.00, 3.75, 0.30}},
          {"anthropic/claude-sonnet-4-0", {3.00, 15.00, 3.75, 0.30}},
          {"anthropic/claude-3-7-sonnet-latest", {3.00, 15.00, 3.75, 0.30}},
          {"anthropic/claude-haiku-4-5", {1.00, 5.00, 1.25, 0.10}},
          {"anthropic/claude-3-5-haiku-latest", {0.80, 4.00, 1.00, 0.08}},
          // OpenAI: cache write = input.
          {"openai/gpt-5", {1.25, 10.00, 1.25, 0.125}},
          {"openai/gpt-5-mini", {0.25, 2.00, 0.25, 0.025}},
          {"openai/gpt-5-nano", {0.05, 0.40, 0.05, 0.005}},
          {"openai/gpt-4.1", {2.00, 8.00, 2.00, 0.50}},
          {"openai/gpt-4.1-mini", {0.40, 1.60, 0.40, 0.10}},
          {"openai/gpt-4.1-nano", {0.10, 0.40, 0.10, 0.025}},
          {"openai/gpt-4o", {2.50, 10.00, 2.50, 1.25}},
          {"openai/gpt-4o-mini", {0.15, 0.60, 0.15, 0.075}},
          {"openai/o3", {2.00, 8.00, 2.00, 0.50}},
          {"openai/o4-mini", {1.10, 4.40, 1.10, 0.275}},
      };
  return *table;
}

}  // namespace troupe
