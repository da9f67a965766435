#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.hpp"  // wall_clock_ms(), for sightings that must be recent
#include "tests/support/kafka_client.hpp"
#include "tests/support/spec.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/tastesync_process.hpp"

namespace tastesync::testing {

inline constexpr auto kOutputTimeout = std::chrono::seconds(90);
inline constexpr auto kCatchUpTimeout = std::chrono::minutes(3);
// 2025-03-02T12:00:00.000Z: when the tests' sightings with fixed times begin.
inline constexpr std::int64_t kT0 = 1740916800000;

// A strong reading of Table 3's beacon (minor 13 in tests/fixtures/registry.json).
BeaconSighting at_table_3(const std::string& customer, const std::string& sighting_id,
                          std::int64_t detected_at_ms);

// `tastesync gen` with a simulated clock: the same options give the same records, record for
// record (the rate is part of the options: it sets the simulated scan period).
struct GenOptions {
  std::string topic = "raw-beacons";
  int seed = 7;
  int count = 30000;
  int rate_per_s = 0;  // 0: as fast as possible
  int customers = 50;
  double bad_ratio = 0.01;
  std::string start_time = "2025-03-02T12:00:00Z";
};

// A test with its own temporary directory, dev broker (topics of 6 partitions) and producer.
class BrokerTest : public ::testing::Test {
 protected:
  void start_broker(const std::vector<std::string>& topics = {"raw-beacons", "customer-events",
                                                              "raw-beacons-dlq"});
  // Stops the dev broker for good (its data is in memory: a restarted one would be empty).
  void stop_broker();
  // Options for a pipeline on this broker with its own state dir `<tmp>/state-<state_name>`.
  PipelineOptions pipeline_options(const std::string& name, const std::string& state_name) const;
  std::unique_ptr<PipelineProcess> start_pipeline(const PipelineOptions& options) const;

  std::unique_ptr<Subprocess> start_gen(const std::string& name, const GenOptions& options) const;
  // Waits until `group` has committed all of `topic` (everything it read is delivered); fails at
  // once if `pipeline` (the one committing) exits meanwhile.
  void wait_caught_up(const std::string& group_id, const std::string& topic,
                      PipelineProcess& pipeline);
  // A fresh pipeline over raw-beacons (assign mode, group and state "reference") into
  // events-reference and dlq-reference (topics the test created), until it has committed all of
  // raw-beacons; then stopped. What a run under test is compared with.
  void run_reference();
  // Everything written to `topic` so far, in partition then offset order.
  std::vector<Record> read_all(const std::string& topic) const;

  // Produces a beacon sighting keyed by its customer, stamped detected_at + 50 ms as the edge
  // gateways do (and as `tastesync gen --start-time` does).
  Delivery produce_sighting(const BeaconSighting& sighting,
                            const std::string& topic = "raw-beacons");

  // Produces `sighting(1)`, `sighting(2)`, ... one at a time until the event of one of them shows
  // up in `events` or `timeout` passes (a registry change takes effect some time after it is
  // made); returns that event.
  std::optional<Record> produce_until_identified(TopicReader& events,
                                                 const std::function<BeaconSighting(int)>& sighting,
                                                 std::chrono::milliseconds timeout);

  const std::string& brokers() const { return broker_->bootstrap_servers(); }
  const DevBroker& broker() const { return *broker_; }
  TestProducer& producer() { return *producer_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::unique_ptr<DevBroker> broker_;
  std::unique_ptr<TestProducer> producer_;
};

// Another customer whose sightings land in `customer`'s partition (of `partitions`): records are
// processed in order per partition, so the sentinel's event proves every earlier record there was
// processed.
std::string sentinel_in_partition_of(const std::string& customer, int partitions = 6);

// The event_id header of each event, duplicates kept; and the same without them.
std::multiset<std::string> event_ids_of(const std::vector<Record>& events);
std::set<std::string> distinct_ids(const std::multiset<std::string>& ids);
// Empty when both sets of events have the same event_ids; otherwise how many differ, and the
// first few events on each side that the other lacks (partition@offset, key, value), for a
// failure message that says what went wrong instead of printing both sets.
std::string event_id_difference(const std::vector<Record>& events,
                                const std::vector<Record>& reference);
// The input records the dead letters came from, as "partition/offset".
std::set<std::string> dead_letter_sources(const std::vector<Record>& letters);

// The event whose data.sighting_id is `sighting_id`, or null.
const Record* event_of_sighting(const std::vector<Record>& events, std::string_view sighting_id);
// Events whose key is `customer_id`.
std::vector<Record> events_of_customer(const std::vector<Record>& events,
                                       std::string_view customer_id);
// An event value with the value of its `timestamp` (the emit wall clock, the one field
// docs/contract.md#customer-identified lets differ between runs) blanked out; every other byte as
// it was written.
std::string without_timestamp(const std::optional<std::string>& event_value);

}  // namespace tastesync::testing
