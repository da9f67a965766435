#include <gtest/gtest.h>

#include <cstdio>

#include "config/config.hpp"
#include "config/topology_options.hpp"
#include "registry/registry_source.hpp"
#include "tools/sim/identification_metrics.hpp"
#include "tools/sim/layout.hpp"
#include "tools/sim/simulator.hpp"

namespace tastesync::sim {
namespace {

// The share of emitted identifications that must name the customer's true location in a small
// quiet room (sigma 4 dB, no body blocking) under the production defaults. The run is seeded:
// the shipped model gets 66 of 67 (98.5 %); seeds 2-6 of the same room give 96.3-100 %, and
// 120 customers 99.2 % (docs/scoring.md). 0.95 allows two more wrong events here and still fails
// the placeholder model of issue 6 (about 0.90).
constexpr double kAccuracyFloor = 0.95;

TEST(SimulatedQuietRoom, AccuracyAboveTheFloorAndNoFlaps) {
  SimSettings settings = *named_setting("quiet");
  // About 90 events in 8 simulated minutes: one wrong event moves accuracy by about 1 %.
  settings.customers = 24;
  settings.arrival_minutes = 4.0;
  settings.visit.table_min_s = 60.0;
  settings.visit.table_max_s = 180.0;

  const auto registry = load_registry(TASTESYNC_SOURCE_DIR "/tests/fixtures/registry.json");
  auto layout = Layout::load(TASTESYNC_SOURCE_DIR "/deploy/layouts/fixture-stores.yaml");
  ASSERT_TRUE(layout.ok()) << layout.error();
  auto plan = FloorPlan::build(*layout, *registry);
  ASSERT_TRUE(plan.ok()) << plan.error();
  Simulator simulator(registry, std::move(*plan), topology_options(Config{}), settings);
  const SimulationResult result = simulator.run();
  const MetricsSummary summary =
      IdentificationMetrics(location_types(*registry)).summarize(result.customers, result.events);

  std::printf("quiet room: %zu events, accuracy %.4f, flaps %zu, %.1f simulated min\n",
              summary.events, summary.accuracy, summary.flaps,
              static_cast<double>(result.counts.simulated_ms) / 60000.0);
  ASSERT_GT(summary.events, 0u);
  EXPECT_GE(summary.accuracy, kAccuracyFloor)
      << summary.correct << " of " << summary.events << " correct, " << summary.while_walking
      << " while walking";
  EXPECT_EQ(summary.flaps, 0u);
}

}  // namespace
}  // namespace tastesync::sim
