#include "e2e/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "e2e/stats.h"

namespace troupe::bench {
namespace {

std::string Number(double v, int decimals) {
  const std::string plain = fmt::format("{:.{}f}", v, decimals);
  // Thousands separators in the integer part, for readability of large counts.
  const size_t sign = (!plain.empty() && plain[0] == '-') ? 1 : 0;
  const size_t digits = std::min(plain.find('.'), plain.size()) - sign;
  std::string s(plain, 0, sign);
  for (size_t i = 0; i < digits; ++i) {
    if (i > 0 && (digits - i) % 3 == 0) s.push_back(',');
    s.push_back(plain[sign + i]);
  }
  s.append(plain, sign + digits, std::string::npos);
  return s;
}

std::string WithUnit(double v, const Figure& f) {
  std::string s = Number(v, f.decimals);
  if (f.unit.empty()) return s;
  if (f.unit == "x" || f.unit == "%") return s + f.unit;
  return fmt::format("{} {}", s, f.unit);
}

std::string TargetText(const Figure& f) {
  if (f.goal == Goal::kNone) return "";
  return fmt::format("{} {}", f.goal == Goal::kAtMost ? "≤" : "≥", WithUnit(f.target, f));
}

bool Met(const Figure& f, double v) {
  return f.goal == Goal::kAtMost ? v <= f.target : v >= f.target;
}

}  // namespace

std::string Plain(const std::string& label) {
  std::string out;
  for (size_t i = 0; i < label.size(); ++i) {
    if (label.compare(i, 2, "**") == 0) {
      ++i;
      continue;
    }
    out.push_back(label[i]);
  }
  return out;
}

Figure Measured(std::string key, std::string label, double value, std::string unit, int decimals) {
  Figure f;
  f.key = std::move(key);
  f.label = std::move(label);
  f.value = value;
  f.unit = std::move(unit);
  f.decimals = decimals;
  return f;
}

Figure Targeted(std::string key, std::string label, double value, std::string unit, Goal goal,
                double target, int decimals) {
  Figure f = Measured(std::move(key), std::move(label), value, std::move(unit), decimals);
  f.goal = goal;
  f.target = target;
  return f;
}

ScenarioReport::ScenarioReport(std::string title, std::string description)
    : title_(std::move(title)), description_(std::move(description)) {}

void ScenarioReport::AddRun(const std::vector<Figure>& figures) {
  ++runs_;
  for (const Figure& f : figures) {
    auto [it, inserted] = rows_.try_emplace(f.key, Row{f, {}});
    if (inserted) order_.push_back(f.key);
    it->second.values.push_back(f.value);
  }
}

std::string ScenarioReport::Markdown() const {
  std::string out = fmt::format("### {}\n\n{}\n\n", title_, description_);
  out += fmt::format("| figure | median of {} | each run | target | |\n", runs_);
  out += "| --- | --- | --- | --- | --- |\n";
  for (const std::string& key : order_) {
    const Row& row = rows_.at(key);
    const double median = Median(row.values);
    std::string each;
    for (double v : row.values) {
      if (!each.empty()) each += " / ";
      each += Number(v, row.meta.decimals);
    }
    std::string verdict;
    if (row.meta.goal != Goal::kNone) verdict = Met(row.meta, median) ? "met" : "**missed**";
    out += fmt::format("| {} | {} | {} | {} | {} |\n", row.meta.label, WithUnit(median, row.meta),
                       each, TargetText(row.meta), verdict);
  }
  return out;
}

std::string ScenarioReport::Text() const {
  std::string out = fmt::format("== {} (median of {})\n", title_, runs_);
  for (const std::string& key : order_) {
    const Row& row = rows_.at(key);
    const double median = Median(row.values);
    std::string verdict;
    if (row.meta.goal != Goal::kNone) {
      verdict = fmt::format("  [target {}: {}]", TargetText(row.meta),
                            Met(row.meta, median) ? "met" : "MISSED");
    }
    out += fmt::format("  {:<58} {:>16}{}\n", Plain(row.meta.label), WithUnit(median, row.meta),
                       verdict);
  }
  return out;
}

std::vector<std::string> ScenarioReport::Verdicts() const {
  std::vector<std::string> out;
  for (const std::string& key : order_) {
    const Row& row = rows_.at(key);
    if (row.meta.goal == Goal::kNone) continue;
    const double median = Median(row.values);
    out.push_back(
        fmt::format("{:<6} {}: {} {} (target {})", Met(row.meta, median) ? "met" : "MISSED", title_,
                    Plain(row.meta.label), WithUnit(median, row.meta), TargetText(row.meta)));
  }
  return out;
}

}  // namespace troupe::bench
