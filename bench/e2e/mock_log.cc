#include "e2e/mock_log.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

namespace troupe::bench {

Result<std::unordered_map<std::string, ModelTimes>> ReadMockLog(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IoError(fmt::format("cannot read the mock-llm request log {}", path));
  std::unordered_map<std::string, ModelTimes> out;
  std::unordered_map<std::string, std::vector<std::pair<int64_t, int64_t>>> requests;
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!entry.is_object() || !entry.contains("last_write_us")) {
      return Status::InvalidArgument(
          "the mock-llm request log has no microsecond times: is `troupe mock-llm` older than "
          "this benchmark? Rebuild it.");
    }
    const std::string marker = entry.value("marker", "");
    if (marker.empty()) continue;
    ModelTimes& t = out[marker];
    ++t.requests;
    if (entry.value("outcome", "") == "completed") ++t.completed;
    const int64_t head = entry.value("head_received_us", int64_t{-1});
    const int64_t last = entry.value("last_write_us", int64_t{-1});
    if (head >= 0 && (t.first_request_us < 0 || head < t.first_request_us)) {
      t.first_request_us = head;
    }
    t.final_byte_us = std::max(t.final_byte_us, last);
    t.deltas += entry.value("deltas_sent", int64_t{0});
    requests[marker].emplace_back(head, last);
  }
  for (auto& [marker, list] : requests) {
    std::sort(list.begin(), list.end());
    for (size_t i = 1; i < list.size(); ++i) {
      out[marker].turn_gaps_us.push_back(list[i].first - list[i - 1].second);
    }
  }
  return out;
}

}  // namespace troupe::bench
