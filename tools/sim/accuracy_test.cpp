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

// One seeded run of the fixture stores through the real stages, scored against the truth.
MetricsSummary simulate(const SimSettings& settings, const TopologyOptions& options) {
  const auto registry = load_registry(TASTESYNC_SOURCE_DIR "/tests/fixtures/registry.json");
  auto layout = Layout::load(TASTESYNC_SOURCE_DIR "/deploy/layouts/fixture-stores.yaml");
  if (!layout.ok()) {
    ADD_FAILURE() << layout.error();
    return {};
  }
  auto plan = FloorPlan::build(*layout, *registry);
  if (!plan.ok()) {
    ADD_FAILURE() << plan.error();
    return {};
  }
  Simulator simulator(registry, std::move(*plan), options, settings);
  const SimulationResult result = simulator.run();
  return IdentificationMetrics(location_types(*registry))
      .summarize(result.customers, result.events);
}

// The share of emitted identifications that must name the customer's true location in a small
// quiet room (sigma 4 dB, no body blocking) under the production defaults. The run is seeded:
// the shipped model (the location filter) gets 86 of 87 (98.9 %), the radius model before it 66
// of 67 (98.5 %; seeds 2-6 of the same room 96.3-100 %). 0.95 allows three more wrong events
// here and still fails the placeholder model of issue 6 (about 0.90), and the filter without
// its heartbeat rule (92.6 %, docs/scoring.md).
constexpr double kAccuracyFloor = 0.95;

TEST(SimulatedQuietRoom, AccuracyAboveTheFloorAndNoFlaps) {
  SimSettings settings = *named_setting("quiet");
  // About 90 events in 8 simulated minutes: one wrong event moves accuracy by about 1 %.
  settings.customers = 24;
  settings.arrival_minutes = 4.0;
  settings.visit.table_min_s = 60.0;
  settings.visit.table_max_s = 180.0;

  const MetricsSummary summary = simulate(settings, topology_options(Config{}));

  std::printf("quiet room: %zu events, accuracy %.4f, flaps %zu\n", summary.events,
              summary.accuracy, summary.flaps);
  ASSERT_GT(summary.events, 0u);
  EXPECT_GE(summary.accuracy, kAccuracyFloor)
      << summary.correct << " of " << summary.events << " correct, " << summary.while_walking
      << " while walking";
  EXPECT_EQ(summary.flaps, 0u);
}

// Issue 14's floor (sigma 5 dB, body blocking, phone offsets up to 6 dB, 15-50 % of scans
// missed, seats up to 1 m from the table) through the location filter (score.model filter), on
// a small seeded run: 40 customers, 141 events. The filter identifies all 40 seated stays and
// 139 of 141 events are right; the radius model finds 14 of 40 stays on the same run. The
// floors leave a few events' margin and still fail the radius model's recall.
constexpr double kFilterTableRecallFloor = 0.95;
constexpr double kFilterPrecisionFloor = 0.90;

TEST(SimulatedFloor, TheLocationFilterFindsTheSeatedStays) {
  SimSettings settings = *named_setting("floor5");
  settings.customers = 40;
  settings.arrival_minutes = 10.0;
  settings.visit.table_min_s = 60.0;
  settings.visit.table_max_s = 180.0;

  TopologyOptions options = topology_options(Config{});
  options.score.model = ScoreModel::filter;
  const MetricsSummary summary = simulate(settings, options);

  std::printf("floor5, filter: %zu events, precision %.4f, table recall %.4f, flaps %zu\n",
              summary.events, summary.accuracy, summary.table_recall, summary.flaps);
  ASSERT_GT(summary.table_stays, 0u);
  EXPECT_GE(summary.table_recall, kFilterTableRecallFloor)
      << summary.table_stays_identified << " of " << summary.table_stays << " seated stays";
  EXPECT_GE(summary.accuracy, kFilterPrecisionFloor)
      << summary.correct << " of " << summary.events << " correct, " << summary.while_walking
      << " while walking";
  EXPECT_EQ(summary.flaps, 0u);
}

}  // namespace
}  // namespace tastesync::sim
