// Order statistics of the end-to-end benchmarks' samples.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace troupe::bench {

// The p-quantile (0 <= p <= 1) of `values` by the nearest-rank method (p99 of 200 samples is the
// 198th smallest; p = 0 is the smallest); 0 when there are none.
inline double Quantile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p * static_cast<double>(values.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

inline double Median(std::vector<double> values) { return Quantile(std::move(values), 0.5); }

inline double Max(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

}  // namespace troupe::bench
