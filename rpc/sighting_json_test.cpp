#include "rpc/sighting_json.hpp"

#include <gtest/gtest.h>

#include "stages/parse.hpp"

namespace tastesync {
namespace {

constexpr std::int64_t kNowMs = 1740916800000;  // 2025-03-02T12:00:00Z

v1::Sighting beacon_sighting() {
  v1::Sighting sighting;
  sighting.set_sighting_id("s-1");
  sighting.set_customer_id("cust123");
  sighting.mutable_beacon()->set_uuid("550e8400-e29b-41d4-a716-446655440000");
  sighting.mutable_beacon()->set_major(100);
  sighting.mutable_beacon()->set_minor(13);
  sighting.mutable_beacon()->set_rssi(-50);
  sighting.set_detected_at("2025-03-02T12:00:00.123Z");
  return sighting;
}

// The code the parse stage gives the JSON of `sighting`, or "" when it passes.
std::string verdict(const v1::Sighting& sighting) {
  const std::string json = sighting_json(sighting);
  RecordView record;
  if (sighting.has_customer_id()) record.key = sighting.customer_id();
  record.value = json;
  record.timestamp_ms = kNowMs;
  SightingParser parser;
  auto parsed = parser.parse(record);
  return parsed ? "" : std::string(parse_error_code_name(parsed.error().code));
}

TEST(SightingJsonTest, WritesExactlyTheFieldsTheCallerSet) {
  v1::Sighting sighting = beacon_sighting();
  EXPECT_EQ(sighting_json(sighting),
            R"({"sighting_id":"s-1","customer_id":"cust123","beacon":{"uuid":)"
            R"("550e8400-e29b-41d4-a716-446655440000","major":100,"minor":13,"rssi":-50},)"
            R"("detected_at":"2025-03-02T12:00:00.123Z"})");
  sighting.mutable_device()->set_platform("ios");
  sighting.mutable_beacon()->set_tx_power(-59);
  EXPECT_EQ(verdict(sighting), "");
  EXPECT_NE(sighting_json(sighting).find(R"("tx_power":-59)"), std::string::npos);
  EXPECT_NE(sighting_json(sighting).find(R"("device":{"platform":"ios"})"), std::string::npos);
}

TEST(SightingJsonTest, TheParseStageJudgesACallAsItJudgesARecord) {
  EXPECT_EQ(verdict(beacon_sighting()), "");

  v1::Sighting no_id = beacon_sighting();
  no_id.clear_sighting_id();
  EXPECT_EQ(verdict(no_id), "missing_field");

  v1::Sighting big_minor = beacon_sighting();
  big_minor.mutable_beacon()->set_minor(70000);
  EXPECT_EQ(verdict(big_minor), "out_of_range");

  v1::Sighting zero_rssi = beacon_sighting();
  zero_rssi.mutable_beacon()->set_rssi(0);
  EXPECT_EQ(verdict(zero_rssi), "out_of_range");

  v1::Sighting bad_uuid = beacon_sighting();
  bad_uuid.mutable_beacon()->set_uuid("not-a-uuid");
  EXPECT_EQ(verdict(bad_uuid), "bad_uuid");

  v1::Sighting bad_time = beacon_sighting();
  bad_time.set_detected_at("yesterday");
  EXPECT_EQ(verdict(bad_time), "bad_timestamp");

  v1::Sighting old = beacon_sighting();
  old.set_detected_at("2025-02-01T12:00:00Z");
  EXPECT_EQ(verdict(old), "too_old");

  v1::Sighting fax = beacon_sighting();
  fax.set_source("fax");
  EXPECT_EQ(verdict(fax), "unknown_source");

  v1::Sighting control = beacon_sighting();
  control.set_customer_id(std::string("cu\x01st", 5));
  EXPECT_EQ(verdict(control), "out_of_range");

  v1::Sighting huge = beacon_sighting();
  huge.mutable_device()->set_platform(std::string(5000, 'x'));
  EXPECT_EQ(verdict(huge), "too_large");

  v1::Sighting qr;
  qr.set_sighting_id("s-2");
  qr.set_customer_id("cust123");
  qr.set_source("qr");
  qr.set_detected_at("2025-03-02T12:00:00Z");
  EXPECT_EQ(verdict(qr), "missing_field");
  qr.mutable_qr()->set_code("store100-table-3");
  EXPECT_EQ(verdict(qr), "");
}

TEST(SightingJsonTest, QuotesAndControlCharactersAreEscapedNotInjected) {
  v1::Sighting sighting = beacon_sighting();
  sighting.set_sighting_id(R"(x","customer_id":"someone-else)");
  const std::string json = sighting_json(sighting);
  RecordView record;
  record.key = "cust123";
  record.value = json;
  record.timestamp_ms = kNowMs;
  SightingParser parser;
  auto parsed = parser.parse(record);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->customer_id, "cust123");
  EXPECT_EQ(parsed->sighting_id, R"(x","customer_id":"someone-else)");
}

}  // namespace
}  // namespace tastesync
