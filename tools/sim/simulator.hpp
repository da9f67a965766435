#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "stages/outcome.hpp"
#include "stages/registry.hpp"
#include "stages/topology.hpp"
#include "tools/sim/floor_plan.hpp"
#include "tools/sim/identification_metrics.hpp"
#include "tools/sim/settings.hpp"

namespace tastesync::sim {

// How far the beacons' power at 1 m is from the room's, as the installer calibrated it and as the
// location filter uses it after learning from QR scans (docs/scoring.md, "Learning the room").
struct RoomCalibration {
  std::uint64_t beacons = 0;      // active, in the simulated stores
  std::uint64_t learnt = 0;       // of them, with a level learnt from QR scans
  double installed_rms_db = 0.0;  // over the beacons learnt
  double used_rms_db = 0.0;
};

struct SimCounts {
  std::uint64_t scans = 0;
  std::uint64_t readings = 0;      // beacons heard, one Sighting v1 each (with the stages)
  std::uint64_t qr_scans = 0;      // table QR codes scanned, one Sighting v1 each
  std::uint64_t records = 0;       // records processed: readings plus gateway duplicates
  std::uint64_t late = 0;          // readings a gateway held back
  std::uint64_t duplicated = 0;    // readings a gateway delivered twice
  std::uint64_t dead_letters = 0;  // should stay 0: the simulator writes valid sightings
  std::array<std::uint64_t, kIdentificationKindCount> events_by_kind{};
  std::array<std::uint64_t, kDropReasonCount> drops_by_reason{};
  EpochMs simulated_ms = 0;  // from the first door to the last record
  RoomCalibration room;      // at the end of the run
};

struct SimulationResult {
  std::vector<CustomerTruth> customers;
  std::vector<EmittedEvent> events;  // in the order the stages emitted them
  // Every reading's most likely location, with score.model filter (the reliability plot).
  std::vector<ReadingBelief> beliefs;
  SimCounts counts;
};

// Drives the real stages (Topology::process) with the sightings of simulated customers walking
// through simulated stores, on a simulated clock: same inputs and seed, same result.
// All customers share one PartitionState, as on a one-partition input topic: state is per
// customer, so partitioning would only split the watermark, which the shared clock keeps sane.
class Simulator {
 public:
  // Throws std::invalid_argument when settings.store names no store of the plan, or when QR
  // scans are asked for at a table without an active QR code in the registry.
  Simulator(std::shared_ptr<const Registry> registry, FloorPlan plan, TopologyOptions options,
            SimSettings settings);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Runs the whole simulation; call once.
  SimulationResult run();

  // The simulated clock starts here: 2025-03-02T12:00:00Z.
  static constexpr EpochMs kStartMs = 1740916800000;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tastesync::sim
