#include "state/customer_state_codec.hpp"

#include <gtest/gtest.h>

#include "stages/stages_test_support.hpp"

namespace tastesync {
namespace {

using stage_testing::sample_state;

TEST(CustomerStateCodec, EncodingRoundTrips) {
  const CustomerState original = sample_state();
  std::string bytes;
  encode_customer_state(original, bytes);
  CustomerState decoded;
  ASSERT_TRUE(decode_customer_state(bytes, decoded));
  EXPECT_EQ(decoded.last_activity_ms, original.last_activity_ms);
  EXPECT_EQ(decoded.last_offset, 812);
  EXPECT_EQ(decoded.since_offset, 640);
  ASSERT_TRUE(decoded.last_emitted.has_value());
  EXPECT_EQ(decoded.last_emitted->store_id, "store100");
  EXPECT_EQ(decoded.last_emitted->location, "Table 3");
  EXPECT_EQ(decoded.last_emitted->detected_at_ms, 1740916800000);
  EXPECT_TRUE(decoded.seen.empty()) << "sighting ids are persisted apart";
  ASSERT_EQ(decoded.tracks.size(), 1u);
  EXPECT_EQ(decoded.tracks[0].beacon_id, original.tracks[0].beacon_id);
  EXPECT_EQ(decoded.tracks[0].reported_tx_power_dbm, -59);
  EXPECT_EQ(decoded.tracks[0].newest_ms, 1740916800100);
  EXPECT_EQ(decoded.tracks[0].rssi_dbm, -57.25F);
  EXPECT_EQ(decoded.tracks[0].variance, 8.125F);
  EXPECT_EQ(decoded.tracks[0].readings, 7);
  EXPECT_EQ(decoded.tracks[0].last_rssi_dbm, -61);
  ASSERT_TRUE(decoded.move_candidate.has_value());
  EXPECT_EQ(decoded.move_candidate->location, "Table 4");
  EXPECT_EQ(decoded.move_candidate->since_ms, 1740916800050);
  EXPECT_EQ(decoded.move_candidate->readings, 2);
}

TEST(CustomerStateCodec, LastActivityAndOffsetAreReadableWithoutDecoding) {
  std::string bytes;
  encode_customer_state(sample_state(), bytes);
  const auto expiry = encoded_expiry(bytes);
  ASSERT_TRUE(expiry.has_value());
  EXPECT_EQ(expiry->last_activity_ms, 1740916800123);
  EXPECT_EQ(expiry->last_offset, 812);
}

TEST(CustomerStateCodec, TheVersionBeforeOffsetsStillDecodes) {
  // Version 3 is version 4 without the two offsets after the last activity.
  std::string bytes;
  encode_customer_state(sample_state(), bytes);
  std::string version3 = bytes.substr(0, 9) + bytes.substr(25);
  version3[0] = 3;
  CustomerState decoded;
  ASSERT_TRUE(decode_customer_state(version3, decoded));
  EXPECT_EQ(decoded.last_activity_ms, 1740916800123);
  EXPECT_EQ(decoded.last_offset, -1);
  EXPECT_EQ(decoded.since_offset, -1);
  ASSERT_EQ(decoded.tracks.size(), 1u);
  EXPECT_EQ(encoded_expiry(version3)->last_offset, -1);
}

TEST(CustomerStateCodec, TruncatedOrCorruptBytesAreRejected) {
  std::string bytes;
  encode_customer_state(sample_state(), bytes);
  CustomerState decoded;
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(decode_customer_state(std::string_view(bytes).substr(0, size), decoded)) << size;
  }
  std::string wrong_version = bytes;
  wrong_version[0] = 99;
  EXPECT_FALSE(decode_customer_state(wrong_version, decoded));
  EXPECT_FALSE(encoded_expiry(wrong_version).has_value());
  EXPECT_FALSE(decode_customer_state(bytes + "x", decoded));
}

}  // namespace
}  // namespace tastesync
