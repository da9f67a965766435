#include "stages/emit.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <tuple>

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

// The event as rapidjson's Writer makes it member by member: how EventWriter wrote it until
// docs/bench.md#issue-17-19, kept here as the oracle its output must equal byte for byte.
std::string reference_event(const Sighting& sighting, const Identification& identification,
                            IdentificationKind kind, EpochMs emitted_at_ms) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> out(buffer);
  const auto string = [&](std::string_view text) {
    out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  };
  const Location& location = *identification.location;
  const std::string event_id =
      format_uuid_string(event_id_for(sighting.customer_id, location.store_id, location.name,
                                      sighting.detected_at_ms, sighting.sighting_id));
  out.StartObject();
  out.Key("event_id");
  string(event_id);
  out.Key("event_type");
  string("CustomerIdentified");
  out.Key("timestamp");
  string(format_canonical_string(emitted_at_ms));
  out.Key("version");
  string("v1");
  out.Key("data");
  out.StartObject();
  out.Key("customer_id");
  string(sighting.customer_id);
  out.Key("location");
  string(location.name);
  out.Key("confidence");
  out.Double(identification.confidence);
  if (identification.beacon != nullptr) {
    out.Key("beacon");
    out.StartObject();
    out.Key("uuid");
    string(format_uuid_string(identification.beacon->uuid));
    out.Key("major");
    out.Uint(identification.beacon->major);
    out.Key("minor");
    out.Uint(identification.beacon->minor);
    out.Key("rssi");
    out.Int(identification.rssi_dbm);
    out.EndObject();
  }
  out.Key("detected_at");
  string(format_canonical_string(sighting.detected_at_ms));
  out.Key("store_id");
  string(location.store_id);
  out.Key("location_type");
  string(location_type_name(location.type));
  out.Key("source");
  string(sighting.source == Source::qr ? "qr" : "beacon");
  if (identification.beacon != nullptr) {
    out.Key("beacon_id");
    string(format_uuid_string(identification.beacon->beacon_id));
  } else {
    out.Key("qr_code");
    string(sighting.qr_code);
  }
  out.Key("sighting_id");
  string(sighting.sighting_id);
  out.Key("identification");
  string(identification_kind_name(kind));
  out.EndObject();
  out.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

TEST(Emit, EventsAreWhatRapidjsonsWriterMakesOfThem) {
  Table3 table;
  EventWriter writer;
  std::size_t compared = 0;
  const auto expect_same = [&](const Sighting& sighting, const Identification& identification,
                               IdentificationKind kind, EpochMs emitted_at_ms) {
    const auto event = writer.write(sighting, identification, kind, emitted_at_ms);
    ASSERT_EQ(std::string(event.value),
              reference_event(sighting, identification, kind, emitted_at_ms));
    ++compared;
  };
  // Every byte in every string that comes from outside, alone and among others.
  for (int byte = 0; byte < 256; ++byte) {
    const std::string one(1, static_cast<char>(byte));
    const std::string among = "a" + one + "b\xc3\xa9" + one;
    for (const std::string& text : {one, among}) {
      const std::string sighting_id = text + "-id";  // a Sighting views its strings
      Sighting sighting = example_sighting();
      sighting.customer_id = text;
      sighting.sighting_id = sighting_id;
      table.location.name = text;
      table.location.store_id = "store" + text;
      expect_same(sighting, table.identification(0.9), IdentificationKind::arrival, byte);
      sighting.source = Source::qr;
      sighting.qr_code = text;
      expect_same(sighting, Identification{0, &table.location, nullptr, 0, 1.0},
                  IdentificationKind::move, -byte);
    }
  }
  // The numbers at their ends, every kind and location type.
  table.location.name = "Table 3";
  table.location.store_id = "store100";
  for (const double confidence : {0.0, 0.001, 0.5, 0.8, round_confidence(0.8125), 0.999, 1.0}) {
    for (const auto& [major, minor, rssi] :
         {std::tuple{0, 0, -100}, std::tuple{65535, 65535, -1}, std::tuple{100, 13, -50}}) {
      table.beacon.major = static_cast<std::uint16_t>(major);
      table.beacon.minor = static_cast<std::uint16_t>(minor);
      for (const auto kind : {IdentificationKind::arrival, IdentificationKind::move,
                              IdentificationKind::still_here}) {
        for (const auto type :
             {LocationType::entrance, LocationType::table, LocationType::counter}) {
          table.location.type = type;
          expect_same(example_sighting(),
                      Identification{0, &table.location, &table.beacon, rssi, confidence}, kind,
                      kLastCanonicalMs);
        }
      }
    }
  }
  EXPECT_EQ(compared, 256u * 2 * 2 + 7u * 3 * 3 * 3);
}

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
