#include "stages/emit.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "stages/registry.hpp"

namespace tastesync {
namespace {

Sighting example_sighting() {
  Sighting sighting;
  sighting.sighting_id = "0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10";
  sighting.customer_id = "cust123";
  sighting.source = Source::beacon;
  sighting.beacon.uuid = *parse_uuid("550e8400-e29b-41d4-a716-446655440000");
  sighting.beacon.major = 100;
  sighting.beacon.minor = 13;
  sighting.beacon.rssi_dbm = -50;
  sighting.detected_at_ms = *parse_rfc3339("2025-03-02T12:00:00.123Z");
  return sighting;
}

struct Table3 {
  Location location{"store100", "Table 3", LocationType::table};
  BeaconEntry beacon;
  Table3() {
    beacon.beacon_id = *parse_uuid("bc0c82d4-d881-5fe0-a68c-3ed7c3562715");
    beacon.uuid = *parse_uuid("550e8400-e29b-41d4-a716-446655440000");
    beacon.major = 100;
    beacon.minor = 13;
  }
  Identification identification(double confidence) const {
    return Identification{0, &location, &beacon, -50, confidence};
  }
};

TEST(Emit, EventIdMatchesTheSpecTestVector) {
  const Uuid id =
      event_id_for("cust123", "store100", "Table 3", *parse_rfc3339("2025-03-02T12:00:00.123Z"),
                   "0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10");
  EXPECT_EQ(format_uuid_string(id), "10ef298c-1c10-55df-9149-b492e3cf5787");
}

TEST(Emit, WrittenEventCarriesTheSpecExampleFields) {
  const Table3 table;
  EventWriter writer;
  const Sighting sighting = example_sighting();
  const auto event = writer.write(sighting, table.identification(0.95), IdentificationKind::arrival,
                                  *parse_rfc3339("2025-03-02T12:00:00.140Z"));
  EXPECT_EQ(event.event_id, "10ef298c-1c10-55df-9149-b492e3cf5787");

  rapidjson::Document doc;
  doc.Parse(event.value.data(), event.value.size());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["event_id"].GetString(), "10ef298c-1c10-55df-9149-b492e3cf5787");
  EXPECT_STREQ(doc["event_type"].GetString(), "CustomerIdentified");
  EXPECT_STREQ(doc["timestamp"].GetString(), "2025-03-02T12:00:00.140Z");
  EXPECT_STREQ(doc["version"].GetString(), "v1");
  const auto& data = doc["data"];
  EXPECT_STREQ(data["customer_id"].GetString(), "cust123");
  EXPECT_STREQ(data["location"].GetString(), "Table 3");
  EXPECT_DOUBLE_EQ(data["confidence"].GetDouble(), 0.95);
  EXPECT_STREQ(data["beacon"]["uuid"].GetString(), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(data["beacon"]["major"].GetInt(), 100);
  EXPECT_EQ(data["beacon"]["minor"].GetInt(), 13);
  EXPECT_EQ(data["beacon"]["rssi"].GetInt(), -50);
  EXPECT_STREQ(data["detected_at"].GetString(), "2025-03-02T12:00:00.123Z");
  EXPECT_STREQ(data["store_id"].GetString(), "store100");
  EXPECT_STREQ(data["location_type"].GetString(), "table");
  EXPECT_STREQ(data["source"].GetString(), "beacon");
  EXPECT_STREQ(data["beacon_id"].GetString(), "bc0c82d4-d881-5fe0-a68c-3ed7c3562715");
  EXPECT_STREQ(data["sighting_id"].GetString(), "0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10");
  EXPECT_STREQ(data["identification"].GetString(), "arrival");
  EXPECT_FALSE(data.HasMember("qr_code"));
}

TEST(Emit, QrEventHasQrCodeAndNoBeacon) {
  const Table3 table;
  EventWriter writer;
  Sighting sighting = example_sighting();
  sighting.source = Source::qr;
  sighting.qr_code = "TS-store100-T3";
  const Identification identification{0, &table.location, nullptr, 0, 1.0};
  const auto event = writer.write(sighting, identification, IdentificationKind::move, 0);
  rapidjson::Document doc;
  doc.Parse(event.value.data(), event.value.size());
  ASSERT_FALSE(doc.HasParseError());
  const auto& data = doc["data"];
  EXPECT_FALSE(data.HasMember("beacon"));
  EXPECT_FALSE(data.HasMember("beacon_id"));
  EXPECT_STREQ(data["qr_code"].GetString(), "TS-store100-T3");
  EXPECT_STREQ(data["source"].GetString(), "qr");
  EXPECT_STREQ(data["identification"].GetString(), "move");
  EXPECT_DOUBLE_EQ(data["confidence"].GetDouble(), 1.0);
}

TEST(Emit, StringsWithQuotesAndControlCharactersAreEscaped) {
  const Table3 table;
  EventWriter writer;
  Sighting sighting = example_sighting();
  const std::string tricky = "a\"b\\c\n\x01\xc3\xa9";
  sighting.sighting_id = tricky;
  const auto event =
      writer.write(sighting, table.identification(0.9), IdentificationKind::arrival, 0);
  rapidjson::Document doc;
  doc.Parse(event.value.data(), event.value.size());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_EQ(std::string(doc["data"]["sighting_id"].GetString()), tricky);
}

TEST(Emit, ConfidenceIsWrittenWithAtMostThreeDecimals) {
  const Table3 table;
  EventWriter writer;
  const auto event =
      writer.write(example_sighting(), table.identification(round_confidence(0.8125)),
                   IdentificationKind::arrival, 0);
  EXPECT_NE(event.value.find("\"confidence\":0.813,"), std::string_view::npos) << event.value;
}

TEST(Emit, SameInputGivesTheSameEventIdWhateverTheEmitTime) {
  const Table3 table;
  EventWriter writer;
  const std::string first(
      writer.write(example_sighting(), table.identification(0.9), IdentificationKind::arrival, 1)
          .event_id);
  const std::string second(
      writer
          .write(example_sighting(), table.identification(0.9), IdentificationKind::arrival, 99999)
          .event_id);
  EXPECT_EQ(first, second);
}

}  // namespace
}  // namespace tastesync
