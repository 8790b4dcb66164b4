// Figures of the end-to-end benchmarks, their medians over repeated runs, and the Markdown that
// scripts/bench.sh puts into docs/BENCHMARKS.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace troupe::bench {

enum class Goal { kNone, kAtMost, kAtLeast };

// One figure of one run.
struct Figure {
  std::string key;    // the same in every run of a scenario
  std::string label;  // what it is, for the table
  double value = 0;
  std::string unit;  // "ms", "MiB", "tasks/s", "x", …
  int decimals = 1;
  Goal goal = Goal::kNone;
  double target = 0;  // with goal
};

Figure Measured(std::string key, std::string label, double value, std::string unit,
                int decimals = 1);
Figure Targeted(std::string key, std::string label, double value, std::string unit, Goal goal,
                double target, int decimals = 1);

// `label` without its Markdown emphasis (**), for the terminal.
std::string Plain(const std::string& label);

// The runs of one scenario.
class ScenarioReport {
 public:
  ScenarioReport(std::string title, std::string description);

  void AddRun(const std::vector<Figure>& figures);
  int runs() const { return runs_; }

  // "| figure | median | runs | target | |" rows, figures in the order they first came.
  std::string Markdown() const;
  // The same as aligned text for the terminal.
  std::string Text() const;
  // "met" / "MISSED" lines for the figures with a target.
  std::vector<std::string> Verdicts() const;

 private:
  struct Row {
    Figure meta;
    std::vector<double> values;
  };
  std::string title_;
  std::string description_;
  int runs_ = 0;
  std::vector<std::string> order_;
  std::map<std::string, Row> rows_;
};

}  // namespace troupe::bench
