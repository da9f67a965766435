#pragma once

#include <optional>
#include <string>

#include "tools/sim/identification_metrics.hpp"
#include "tools/sim/settings.hpp"
#include "tools/sim/simulator.hpp"

namespace tastesync::sim {

// What `tastesync sim` prints: the run's settings, counts and the figures.
struct SimReport {
  SimSettings settings;
  std::string layout;    // where the layout came from
  std::string registry;  // where the registry came from
  SimCounts counts;
  MetricsSummary metrics;
  std::optional<double> runtime_s;  // wall time of the run; absent in reproducible output
};

// A short human-readable report.
std::string format_text(const SimReport& report);
// One JSON object, keys in a fixed order; numbers rounded so equal runs print equal text.
std::string format_json(const SimReport& report);

}  // namespace tastesync::sim
