// A sighting in, the CustomerIdentified event out (docs/contract.md#topics,
// #customer-identified), through Kafka.
#include <gtest/gtest.h>

#include <regex>

#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

const std::regex kCanonicalTime(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

class Identification : public BrokerTest {
 protected:
  void SetUp() override {
    start_broker();
    pipeline_ = start_pipeline(pipeline_options("pipeline", "main"));
  }

  // The one event the sighting must produce.
  Record event_for(const std::string& sighting_id) {
    TopicReader events(brokers(), "customer-events");
    const bool found = events.read_until(
        [&](const std::vector<Record>& records) {
          return event_of_sighting(records, sighting_id) != nullptr;
        },
        kOutputTimeout);
    if (!found) {
      ADD_FAILURE() << "no event for sighting " << sighting_id;
      return {};
    }
    return *event_of_sighting(events.records(), sighting_id);
  }

  std::unique_ptr<PipelineProcess> pipeline_;
};

// rssi -50 at Table 3, whose calibrated tx power is -59: well inside the table's radius.
BeaconSighting strong_reading_at_table_3() {
  return BeaconSighting{.sighting_id = "it-sighting-1",
                        .customer_id = "cust-it-1",
                        .major = 100,
                        .minor = 13,
                        .rssi_dbm = -50,
                        .tx_power_dbm = -59,
                        .detected_at = "2025-03-02T12:00:00.123Z"};
}

TEST_F(Identification, StrongReadingYieldsAnArrivalWithEveryFieldOfTheLocation) {
  produce_sighting(strong_reading_at_table_3());
  const Record event = event_for("it-sighting-1");
  const rapidjson::Document body = parse_json(event.value);
  ASSERT_FALSE(body.HasParseError()) << event.value.value_or("null");

  EXPECT_EQ(json_string(body, "/event_type"), "CustomerIdentified");
  EXPECT_EQ(json_string(body, "/version"), "v1");
  EXPECT_TRUE(std::regex_match(json_string(body, "/timestamp"), kCanonicalTime));
  const rapidjson::Value& data = body["data"];
  EXPECT_EQ(json_string(data, "/customer_id"), "cust-it-1");
  EXPECT_EQ(json_string(data, "/location"), "Table 3");
  EXPECT_EQ(json_string(data, "/location_type"), "table");
  EXPECT_EQ(json_string(data, "/store_id"), "store100");
  EXPECT_EQ(json_string(data, "/source"), "beacon");
  EXPECT_EQ(json_string(data, "/beacon_id"), "bc0c82d4-d881-5fe0-a68c-3ed7c3562715");
  EXPECT_EQ(json_string(data, "/sighting_id"), "it-sighting-1");
  EXPECT_EQ(json_string(data, "/detected_at"), "2025-03-02T12:00:00.123Z");
  EXPECT_EQ(json_string(data, "/identification"), "arrival");
  ASSERT_TRUE(data.HasMember("confidence") && data["confidence"].IsNumber());
  EXPECT_GE(data["confidence"].GetDouble(), 0.8);
  EXPECT_LE(data["confidence"].GetDouble(), 1.0);
  ASSERT_TRUE(data.HasMember("beacon") && data["beacon"].IsObject());
  const rapidjson::Value& beacon = data["beacon"];
  EXPECT_EQ(json_string(beacon, "/uuid"), "550e8400-e29b-41d4-a716-446655440000");
  ASSERT_TRUE(beacon.HasMember("major") && beacon["major"].IsInt());
  EXPECT_EQ(beacon["major"].GetInt(), 100);
  ASSERT_TRUE(beacon.HasMember("minor") && beacon["minor"].IsInt());
  EXPECT_EQ(beacon["minor"].GetInt(), 13);
  ASSERT_TRUE(beacon.HasMember("rssi") && beacon["rssi"].IsInt());
  EXPECT_EQ(beacon["rssi"].GetInt(), -50);
  EXPECT_FALSE(data.HasMember("qr_code"));
}

TEST_F(Identification, EventIsKeyedByCustomerWithTypeVersionAndIdHeaders) {
  produce_sighting(strong_reading_at_table_3());
  const Record event = event_for("it-sighting-1");
  EXPECT_EQ(event.key, "cust-it-1");
  EXPECT_EQ(event.header_text("event_type"), "CustomerIdentified");
  EXPECT_EQ(event.header_text("version"), "v1");
  EXPECT_EQ(event.header_text("event_id"), json_string(parse_json(event.value), "/event_id"));
}

TEST_F(Identification, EventIdIsTheSpecUuidV5OfTheCanonicalSighting) {
  BeaconSighting sighting = strong_reading_at_table_3();
  // Android's local offset: the id is computed over the canonical UTC form
  // (docs/contract.md#event-id).
  sighting.detected_at = "2025-03-02T21:00:00.123456+09:00";
  OutgoingRecord record{.key = sighting.customer_id,
                        .value = to_json(sighting),
                        .headers = {},
                        .timestamp_ms = epoch_ms("2025-03-02T12:00:00.173Z"),
                        .partition = std::nullopt};
  producer().produce("raw-beacons", record);
  const Record event = event_for("it-sighting-1");
  const std::string expected = expected_event_id("cust-it-1", "store100", "Table 3",
                                                 "2025-03-02T12:00:00.123Z", "it-sighting-1");
  EXPECT_EQ(json_string(parse_json(event.value), "/event_id"), expected);
  EXPECT_EQ(event.header_text("event_id"), expected);
}

TEST_F(Identification, SpecExampleSightingGivesTheSpecEventId) {
  produce_sighting(BeaconSighting{.sighting_id = "0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10",
                                  .customer_id = "cust123",
                                  .major = 100,
                                  .minor = 13,
                                  .rssi_dbm = -50,
                                  .tx_power_dbm = -59,
                                  .detected_at = "2025-03-02T12:00:00.123Z"});
  const Record event = event_for("0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10");
  EXPECT_EQ(json_string(parse_json(event.value), "/event_id"),
            "10ef298c-1c10-55df-9149-b492e3cf5787");
}

TEST_F(Identification, QrScanYieldsAnEventWithItsCodeAndNoBeacon) {
  OutgoingRecord record{.key = "cust-it-qr",
                        .value = qr_sighting_json("it-qr-1", "cust-it-qr", "TS-store100-T2",
                                                  "2025-03-02T12:00:00.500Z"),
                        .headers = {},
                        .timestamp_ms = epoch_ms("2025-03-02T12:00:00.550Z"),
                        .partition = std::nullopt};
  producer().produce("raw-beacons", record);
  const Record event = event_for("it-qr-1");
  const rapidjson::Document body = parse_json(event.value);
  ASSERT_TRUE(body.IsObject() && body.HasMember("data"));
  const rapidjson::Value& data = body["data"];
  EXPECT_EQ(json_string(data, "/source"), "qr");
  EXPECT_EQ(json_string(data, "/qr_code"), "TS-store100-T2");
  EXPECT_EQ(json_string(data, "/location"), "Table 2");
  EXPECT_EQ(json_string(data, "/store_id"), "store100");
  ASSERT_TRUE(data.HasMember("confidence") && data["confidence"].IsNumber());
  EXPECT_EQ(data["confidence"].GetDouble(), 1.0);
  EXPECT_FALSE(data.HasMember("beacon"));
  EXPECT_FALSE(data.HasMember("beacon_id"));
}

TEST_F(Identification, EachCustomersEventsLandInItsMurmur2Partition) {
  const std::vector<std::string> customers = {"cust-a", "cust-b", "cust-c", "cust-d", "cust-e"};
  std::int64_t detected_at_ms = epoch_ms("2025-03-02T12:00:00.000Z");
  for (const std::string& customer : customers) {
    // An arrival at Table 3, then still there a minute later: two events each.
    for (const int round : {1, 2}) {
      detected_at_ms += 61000;
      produce_sighting(BeaconSighting{.sighting_id = customer + "-" + std::to_string(round),
                                      .customer_id = customer,
                                      .minor = 13,
                                      .detected_at = canonical_time(detected_at_ms)});
    }
  }
  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(events.read_at_least(2 * customers.size(), kOutputTimeout))
      << events.records().size() << " events";
  for (const std::string& customer : customers) {
    const std::vector<Record> own = events_of_customer(events.records(), customer);
    EXPECT_EQ(own.size(), 2u) << customer;
    for (const Record& event : own) {
      EXPECT_EQ(event.partition, murmur2_partition(customer, 6)) << customer;
    }
  }
}

}  // namespace
}  // namespace tastesync::testing
