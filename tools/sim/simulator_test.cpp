#include "tools/sim/simulator.hpp"

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/topology_options.hpp"
#include "registry/registry_source.hpp"
#include "tools/sim/layout.hpp"
#include "tools/sim/report.hpp"

namespace tastesync::sim {
namespace {

SimSettings small_quiet_room(std::uint64_t seed) {
  SimSettings settings = *named_setting("quiet");
  settings.seed = seed;
  settings.customers = 4;
  settings.arrival_minutes = 1.0;
  settings.visit.table_min_s = 60.0;
  settings.visit.table_max_s = 90.0;
  return settings;
}

SimulationResult simulate(const SimSettings& settings) {
  const auto registry = load_registry(TASTESYNC_SOURCE_DIR "/tests/fixtures/registry.json");
  auto plan = FloorPlan::build(*Layout::parse(builtin_layout_yaml()), *registry);
  EXPECT_TRUE(plan.ok());
  Simulator simulator(registry, std::move(*plan), topology_options(Config{}), settings);
  return simulator.run();
}

std::string json_report(const SimSettings& settings) {
  const auto registry = load_registry(TASTESYNC_SOURCE_DIR "/tests/fixtures/registry.json");
  const SimulationResult result = simulate(settings);
  const IdentificationMetrics metrics(location_types(*registry));
  return format_json(SimReport{settings, "built-in", "fixture", result.counts,
                               metrics.summarize(result.customers, result.events), std::nullopt});
}

TEST(Simulator, SameSeedGivesTheSameReport) {
  const std::string first = json_report(small_quiet_room(42));
  EXPECT_EQ(first, json_report(small_quiet_room(42)));
  EXPECT_NE(first, json_report(small_quiet_room(43)));
}

TEST(Simulator, EveryReadingIsAValidSightingAndEveryCustomerArrives) {
  SimSettings settings = small_quiet_room(1);
  settings.gateway.duplicate_share = 0.05;
  const SimulationResult result = simulate(settings);
  EXPECT_EQ(result.counts.dead_letters, 0u);
  EXPECT_GT(result.counts.readings, 1000u);
  EXPECT_GT(result.counts.duplicated, 0u);
  EXPECT_EQ(result.counts.records, result.counts.readings + result.counts.duplicated);
  // Duplicates of readings of maintenance or inactive beacons are dropped as those before the
  // duplicate check; every other one is dropped as a duplicate.
  const auto drops = [&](DropReason reason) {
    return result.counts.drops_by_reason[static_cast<std::size_t>(reason)];
  };
  EXPECT_LE(drops(DropReason::duplicate), result.counts.duplicated);
  EXPECT_GE(drops(DropReason::duplicate), result.counts.duplicated * 3 / 4);
  EXPECT_GT(drops(DropReason::maintenance_beacon), 0u);
  ASSERT_EQ(result.customers.size(), 4u);
  for (const CustomerTruth& customer : result.customers) {
    EXPECT_TRUE(customer.arrival_ms.has_value()) << customer.customer_id;
    EXPECT_TRUE(customer.first_reading_ms.has_value()) << customer.customer_id;
  }
}

TEST(Simulator, EventsComeFromTheStages) {
  const SimulationResult result = simulate(small_quiet_room(1));
  std::uint64_t by_kind = 0;
  for (const std::uint64_t n : result.counts.events_by_kind) by_kind += n;
  EXPECT_EQ(by_kind, result.events.size());
  for (const EmittedEvent& event : result.events) {
    EXPECT_GE(event.confidence, 0.8);
    EXPECT_LT(event.customer, result.customers.size());
  }
}

TEST(Simulator, QrScansGoThroughTheStagesAsQrSightings) {
  SimSettings settings = small_quiet_room(1);
  settings.install.qr_share = 1.0;
  const SimulationResult result = simulate(settings);
  EXPECT_EQ(result.counts.qr_scans, 4u);  // one per table stay, each 60-90 s long
  EXPECT_EQ(result.counts.dead_letters, 0u);
  EXPECT_EQ(result.counts.records,
            result.counts.readings + result.counts.qr_scans + result.counts.duplicated);
}

TEST(Simulator, SeatedStaysAreInTheTruth) {
  const SimulationResult result = simulate(small_quiet_room(1));
  for (const CustomerTruth& customer : result.customers) {
    ASSERT_EQ(customer.seated_stays.size(), 1u) << customer.customer_id;
    const SeatedStay& stay = customer.seated_stays[0];
    EXPECT_LE(stay.entered_ms, stay.seated_ms);
    EXPECT_GE(stay.stood_up_ms - stay.seated_ms, 60000);
    EXPECT_EQ(customer.truth.place_at(stay.seated_ms), Place::at(stay.location_index));
  }
}

TEST(Simulator, CalibrationErrorChangesReadingsNotTheRegistry) {
  SimSettings settings = small_quiet_room(1);
  const SimulationResult exact = simulate(settings);
  settings.install.tx_power_error_db = 6.0;
  const SimulationResult miscalibrated = simulate(settings);
  // The same visits and draws, only the real powers differ.
  EXPECT_EQ(exact.counts.scans, miscalibrated.counts.scans);
  EXPECT_NE(exact.counts.readings, miscalibrated.counts.readings);
  EXPECT_EQ(miscalibrated.counts.dead_letters, 0u);
}

TEST(Simulator, NearestBeaconBaselineEmitsWithoutTheStages) {
  SimSettings settings = small_quiet_room(1);
  settings.model = Model::nearest;
  const SimulationResult result = simulate(settings);
  EXPECT_EQ(result.counts.records, 0u);
  ASSERT_FALSE(result.events.empty());
  EXPECT_EQ(result.counts.events_by_kind[static_cast<std::size_t>(IdentificationKind::arrival)],
            4u);
}

TEST(Simulator, UnknownStoreIsRejected) {
  SimSettings settings = small_quiet_room(1);
  settings.store = "store999";
  EXPECT_THROW(simulate(settings), std::invalid_argument);
}

}  // namespace
}  // namespace tastesync::sim
