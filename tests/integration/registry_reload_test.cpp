// A registry file changed while the pipeline runs is picked up without a restart
// (docs/contract.md#registry-reload).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

class RegistryReload : public BrokerTest {};

BeaconSighting at_minor_17(const std::string& sighting_id, std::int64_t detected_at_ms) {
  return beacon_sighting(sighting_id, "cust-new-table", 17, detected_at_ms);
}

TEST_F(RegistryReload, ABeaconAddedToTheFileIdentifiesWithoutARestart) {
  start_broker();
  const std::filesystem::path registry = dir() / "registry.json";
  std::filesystem::copy_file(fixtures_dir() / "registry.json", registry);
  PipelineOptions options = pipeline_options("pipeline", "main");
  options.extra_arguments = {"--registry", registry.string()};
  auto pipeline = start_pipeline(options);

  // Minor 17 is not registered yet: a neighbour's beacon, dropped. A sentinel in the same
  // partition proves it was processed.
  const std::int64_t t0 = 1740916800000;
  produce_sighting(at_minor_17("unknown-17", t0));
  const std::string sentinel = sentinel_in_partition_of("cust-new-table");
  produce_sighting(beacon_sighting("reload-sentinel", sentinel, 11, t0));
  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(events.read_until(
      [](const std::vector<Record>& records) {
        return event_of_sighting(records, "reload-sentinel") != nullptr;
      },
      kOutputTimeout));
  EXPECT_EQ(event_of_sighting(events.records(), "unknown-17"), nullptr);

  // Table 7 is installed: the same file, one beacon more.
  std::ifstream in(registry);
  std::stringstream text;
  text << in.rdbuf();
  std::string updated = text.str();
  const auto beacons = updated.find('[');
  ASSERT_NE(beacons, std::string::npos);
  updated.insert(beacons + 1,
                 R"({"beacon_id":"5d0b8c71-3a44-5b1a-9c0e-0d4f0a7c1e17",)"
                 R"("uuid":"550e8400-e29b-41d4-a716-446655440000","major":100,"minor":17,)"
                 R"("store_id":"store100","location":{"name":"Table 7","type":"table"},)"
                 R"("status":"active","tx_power":-59},)");
  std::ofstream(registry.string() + ".tmp") << updated;
  std::filesystem::rename(registry.string() + ".tmp", registry);

  // Housekeeping looks once a second; give it a few, then identify at the new table.
  const auto event = produce_until_identified(
      events, [t0](int i) { return at_minor_17("table7-" + std::to_string(i), t0 + i * 1000); },
      kOutputTimeout);
  ASSERT_TRUE(event) << "the new beacon never identified anyone";
  EXPECT_EQ(json_string(parse_json(event->value), "/data/location"), "Table 7");
  EXPECT_EQ(pipeline->stop().code, 0);
}

}  // namespace
}  // namespace tastesync::testing
