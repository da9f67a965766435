#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stages/outcome.hpp"
#include "stages/registry.hpp"
#include "tools/sim/ground_truth.hpp"

namespace tastesync::sim {

// One CustomerIdentified the stages emitted, as the metrics need it.
struct EmittedEvent {
  std::size_t customer = 0;  // index into the customers
  EpochMs detected_at_ms = 0;
  std::uint32_t location_index = 0;  // in the registry
  IdentificationKind kind = IdentificationKind::arrival;
  double confidence = 0.0;
};

// What the location filter believed after one beacon reading (TopologyOptions::report_beliefs):
// its most likely location and that location's posterior.
struct ReadingBelief {
  std::size_t customer = 0;  // index into the customers
  EpochMs detected_at_ms = 0;
  std::uint32_t location_index = 0;
  double probability = 0.0;
};

// The reliability plot of every reading's posterior: in tenths of probability, how many
// readings' most likely location had it, and how many of those were right.
inline constexpr std::size_t kReliabilityBins = 10;
struct Reliability {
  std::size_t readings[kReliabilityBins]{};
  std::size_t right[kReliabilityBins]{};
  double stated[kReliabilityBins]{};  // the probabilities summed, for their mean per bin
};

// One customer's visit as it really happened.
struct CustomerTruth {
  std::string customer_id;
  std::string store_id;
  TruthTimeline truth;
  std::optional<EpochMs> arrival_ms;        // first moment within the entrance's radius
  std::optional<EpochMs> first_reading_ms;  // detected_at of the first reading the phone sent
  std::vector<SeatedStay> seated_stays;
};

struct MetricsOptions {
  std::int64_t flap_window_ms = 60000;  // A->B->A with B shorter than this is a flap
  std::int64_t min_stay_ms = 60000;     // shorter stays at a table or counter are not visits
};

struct Percentiles {
  std::size_t count = 0;
  double p50_ms = 0.0;
  double p95_ms = 0.0;
};

struct MetricsSummary {
  std::size_t events = 0;
  std::size_t correct = 0;
  std::size_t while_walking = 0;    // emitted while the customer was between locations (wrong)
  std::size_t while_outside = 0;    // before the door or after leaving (wrong)
  std::size_t wrong_location = 0;   // at another location
  std::size_t events_by_type[3]{};  // by the emitted location's LocationType
  std::size_t correct_by_type[3]{};
  double accuracy = 0.0;  // correct / events (0 without events): the precision

  std::size_t flaps = 0;

  std::size_t visits = 0;                   // customers who reached the entrance
  std::size_t never_identified = 0;         // of them, with no event at all
  std::size_t identified_early = 0;         // first event before the arrival (counted as 0 s)
  Percentiles first_id_from_arrival;        // arrival -> first event's detected_at
  Percentiles first_id_from_first_reading;  // first reading -> first event (the scorer's part)

  // Issue 14: seated stays of at least min_stay_ms, and the first event at that table from
  // entering its radius on the way to the seat until standing up.
  std::size_t table_stays = 0;
  std::size_t table_stays_identified = 0;
  double table_recall = 0.0;    // identified / table stays (0 without stays)
  Percentiles first_id_seated;  // sitting down -> that event's detected_at, at least 0

  // The values behind the percentiles, so that runs can be pooled.
  std::vector<double> from_arrival_ms;
  std::vector<double> from_first_reading_ms;
  std::vector<double> from_seated_ms;

  std::size_t stays = 0;         // table and counter stays of at least min_stay_ms
  std::size_t missed_stays = 0;  // with no correct event during them

  Reliability reliability;  // empty unless beliefs were given
};

// The type of each registry location, by index: what IdentificationMetrics needs to know.
std::vector<LocationType> location_types(const Registry& registry);

// Several runs as one: counts summed, shares and percentiles over the pooled events, stays and
// latencies.
MetricsSummary pool(const std::vector<MetricsSummary>& runs);

// Nearest-rank percentile (the smallest value with at least p of the values at or below it).
double percentile(std::vector<double> values, double p);

// Scores emitted identifications against the ground truth: the figures.
class IdentificationMetrics {
 public:
  // `location_types[i]` is the type of registry location i.
  IdentificationMetrics(std::vector<LocationType> location_types, MetricsOptions options = {})
      : location_types_(std::move(location_types)), options_(options) {}

  // `events` in the order the stages emitted them; `beliefs`, when recorded, make the
  // reliability plot.
  MetricsSummary summarize(const std::vector<CustomerTruth>& customers,
                           const std::vector<EmittedEvent>& events,
                           const std::vector<ReadingBelief>& beliefs = {}) const;

 private:
  void score_locations(const std::vector<CustomerTruth>& customers,
                       const std::vector<EmittedEvent>& events, MetricsSummary& summary) const;
  std::size_t count_flaps(const CustomerTruth& customer,
                          const std::vector<const EmittedEvent*>& events) const;
  void time_first_identification(const std::vector<CustomerTruth>& customers,
                                 const std::vector<std::vector<const EmittedEvent*>>& by_customer,
                                 MetricsSummary& summary) const;
  void time_seated_identification(const CustomerTruth& customer,
                                  const std::vector<const EmittedEvent*>& events,
                                  MetricsSummary& summary) const;
  void count_missed_stays(const CustomerTruth& customer,
                          const std::vector<const EmittedEvent*>& events,
                          MetricsSummary& summary) const;

  std::vector<LocationType> location_types_;
  MetricsOptions options_;
};

}  // namespace tastesync::sim
