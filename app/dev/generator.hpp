#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <vector>

#include "common/event_time.hpp"
#include "stages/registry.hpp"

namespace tastesync {

struct GeneratorOptions {
  int customers = 50;
  double rate_per_s = 100.0;  // sightings per second; 0 = as fast as possible
  std::int64_t count = -1;    // stop after this many records; -1 = until stopped
  std::uint64_t seed = 1;
  double bad_ratio = 0.01;  // share of records that are malformed on purpose (they go to the DLQ)
  // nullopt: detected_at is the wall clock (live). Otherwise a simulated clock starting there,
  // advancing with the schedule, so a run is reproducible record for record.
  std::optional<EpochMs> start_time_ms;
};

struct GeneratedRecord {
  std::optional<std::string> key;  // nullopt: no key (some bad records)
  std::string value;
  EpochMs timestamp_ms = 0;  // the Kafka record timestamp to use
};

// Synthetic but plausible sightings: customers walk in at a store's entrance, sit at a table
// (maybe scan its QR code), visit the counter and leave; each phone scan hears its own location's
// beacon strongly and the neighbours' more weakly, with log-normal noise, missed readings and the
// odd beacon of another chain. A share of records is broken on purpose.
class SightingGenerator {
 public:
  SightingGenerator(std::shared_ptr<const Registry> registry, GeneratorOptions options);
  ~SightingGenerator();
  SightingGenerator(const SightingGenerator&) = delete;
  SightingGenerator& operator=(const SightingGenerator&) = delete;

  // The next record, in event-time order; `now_ms` is the clock in live mode.
  GeneratedRecord next(EpochMs now_ms);
  // How long to wait before the next record to hold the rate (0 when unlimited).
  double interval_s() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Produces the generator's records to `topic` until `options.count` or `stop`. Returns how many
// were delivered. Throws on a Kafka error.
std::int64_t publish_generated(const std::string& brokers, const std::string& topic,
                               std::shared_ptr<const Registry> registry,
                               const GeneratorOptions& options, const std::stop_token& stop);

}  // namespace tastesync
