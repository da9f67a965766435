#include "state/customer_state_codec.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>

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
  EXPECT_EQ(decoded.tracks[0].belief, 0.875F);
  ASSERT_TRUE(decoded.move_candidate.has_value());
  EXPECT_EQ(decoded.move_candidate->location, "Table 4");
  EXPECT_EQ(decoded.move_candidate->since_ms, 1740916800050);
  EXPECT_EQ(decoded.move_candidate->readings, 2);
  EXPECT_EQ(decoded.reading_variance, 30.5F);
  EXPECT_EQ(decoded.level_offset_db, -4.25F);
}

// Where the sample's one track's belief is: before the move candidate's flag, its store id
// ("store100" with its length) and the length of its location ("Table 4").
std::size_t belief_position(const std::string& version5) {
  return version5.rfind("Table 4") - 2 - 8 - 2 - 1 - 4;
}

// Version 5: no scan window flag at the end (the sample has no window: one byte).
std::string version5_of(const std::string& version6) {
  std::string bytes = version6.substr(0, version6.size() - 1);
  bytes[0] = 5;
  return bytes;
}

// Version 4: no belief after the one track, no reading variance or level offset at the end.
std::string version4_of(const std::string& version6) {
  const std::string version5 = version5_of(version6);
  std::string bytes = version5.substr(0, version5.size() - 8);
  bytes.erase(belief_position(version5), 4);
  bytes[0] = 4;
  return bytes;
}

TEST(CustomerStateCodec, AScanWindowRoundTrips) {
  CustomerState original = sample_state();
  original.scan_window = ScanWindow{original.tracks[0].beacon_id, 1740916830000, -171.5F, 3.0F};
  std::string bytes;
  encode_customer_state(original, bytes);
  CustomerState decoded;
  ASSERT_TRUE(decode_customer_state(bytes, decoded));
  ASSERT_TRUE(decoded.scan_window.has_value());
  EXPECT_EQ(*decoded.scan_window, *original.scan_window);
  EXPECT_EQ(decoded.level_offset_db, -4.25F);

  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::string not_a_count = bytes;
  std::memcpy(not_a_count.data() + bytes.size() - 4, &nan, 4);
  EXPECT_FALSE(decode_customer_state(not_a_count, decoded));
  std::string too_loud = bytes;
  const float loud = 1e6F;
  std::memcpy(too_loud.data() + bytes.size() - 8, &loud, 4);
  EXPECT_FALSE(decode_customer_state(too_loud, decoded));
}

TEST(CustomerStateCodec, TheVersionBeforeScanWindowsStillDecodesWithNone) {
  std::string bytes;
  encode_customer_state(sample_state(), bytes);
  const std::string version5 = version5_of(bytes);
  CustomerState decoded;
  decoded.scan_window = ScanWindow{};
  ASSERT_TRUE(decode_customer_state(version5, decoded));
  EXPECT_FALSE(decoded.scan_window.has_value());
  EXPECT_EQ(decoded.tracks[0].belief, 0.875F);
  EXPECT_EQ(decoded.level_offset_db, -4.25F);
  EXPECT_FALSE(decode_customer_state(version5 + '\0', decoded));
}

TEST(CustomerStateCodec, LastActivityAndOffsetAreReadableWithoutDecoding) {
  std::string bytes;
  encode_customer_state(sample_state(), bytes);
  const auto expiry = encoded_expiry(bytes);
  ASSERT_TRUE(expiry.has_value());
  EXPECT_EQ(expiry->last_activity_ms, 1740916800123);
  EXPECT_EQ(expiry->last_offset, 812);
}

// Found by tests/fuzz/state_decode_fuzz.cpp: a last activity near the smallest int64 made the
// tracks' times (last activity minus their age) overflow. The changelog is outside input.
TEST(CustomerStateCodec, TimesWithoutACanonicalFormDoNotDecode) {
  std::string bytes;
  encode_customer_state(sample_state(), bytes);
  CustomerState decoded;
  ASSERT_TRUE(decode_customer_state(bytes, decoded));
  std::string hostile = bytes;
  for (std::size_t i = 1; i <= 8; ++i) hostile[i] = i == 8 ? '\x80' : '\0';  // int64 min
  EXPECT_FALSE(decode_customer_state(hostile, decoded));
  CustomerState late = sample_state();
  late.last_emitted->detected_at_ms = std::numeric_limits<EpochMs>::max();
  encode_customer_state(late, hostile);
  EXPECT_FALSE(decode_customer_state(hostile, decoded)) << "the last identification's time";
  late = sample_state();
  late.move_candidate->since_ms = std::numeric_limits<EpochMs>::min();
  encode_customer_state(late, hostile);
  EXPECT_FALSE(decode_customer_state(hostile, decoded)) << "the move candidate's";
}

TEST(CustomerStateCodec, TheVersionBeforeBeliefsStillDecodesWithNone) {
  std::string bytes;
  encode_customer_state(sample_state(), bytes);
  const std::string version4 = version4_of(bytes);
  CustomerState decoded;
  ASSERT_TRUE(decode_customer_state(version4, decoded));
  EXPECT_EQ(decoded.last_offset, 812);
  ASSERT_EQ(decoded.tracks.size(), 1u);
  EXPECT_EQ(decoded.tracks[0].rssi_dbm, -57.25F);
  EXPECT_EQ(decoded.tracks[0].belief, 0.0F) << "a customer just seen believes in no location";
  ASSERT_TRUE(decoded.move_candidate.has_value());
  EXPECT_EQ(decoded.move_candidate->readings, 2);
  EXPECT_EQ(decoded.reading_variance, 0.0F);
  EXPECT_EQ(encoded_expiry(version4)->last_offset, 812);
  EXPECT_FALSE(decode_customer_state(version4.substr(0, version4.size() - 1), decoded));
}

TEST(CustomerStateCodec, TheVersionBeforeOffsetsStillDecodes) {
  // Version 3 is version 4 without the two offsets after the last activity.
  std::string bytes;
  encode_customer_state(sample_state(), bytes);
  bytes = version4_of(bytes);
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
  std::string not_a_probability = bytes;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(not_a_probability.data() + belief_position(version5_of(bytes)), &nan, 4);
  EXPECT_FALSE(decode_customer_state(not_a_probability, decoded));
  std::string not_a_variance = bytes;
  std::memcpy(not_a_variance.data() + bytes.size() - 9, &nan, 4);
  EXPECT_FALSE(decode_customer_state(not_a_variance, decoded));
  std::string not_an_offset = bytes;
  std::memcpy(not_an_offset.data() + bytes.size() - 5, &nan, 4);
  EXPECT_FALSE(decode_customer_state(not_an_offset, decoded));
}

// Version 6 byte for byte, as RocksDB and the changelog hold it: a change of the encoder that
// changes a byte needs a new version (docs/design.md#state). Two tracks, a move candidate and a
// scan window; then a state with nothing in it.
TEST(CustomerStateCodec, VersionSixIsByteForByteWhatStorageHolds) {
  CustomerState state = sample_state();
  BeaconTrack second = state.tracks[0];
  second.beacon_id[15] = 0x16;
  second.newest_ms = 1740916799000;
  second.rssi_dbm = -80.5F;
  second.last_rssi_dbm = -82;
  second.reported_tx_power_dbm = 0;
  second.belief = 0.0625F;
  second.readings = 255;
  state.tracks.push_back(second);
  state.scan_window = ScanWindow{second.beacon_id, 1740916810123, -300.5F, 5.0F};
  const auto hex = [](const std::string& bytes) {
    std::string text;
    for (const unsigned char byte : bytes) {
      text += "0123456789abcdef"[byte >> 4];
      text += "0123456789abcdef"[byte & 15];
    }
    return text;
  };
  std::string bytes;
  encode_customer_state(state, bytes);
  EXPECT_EQ(hex(bytes),
            "067b3aba56950100002c03000000000000800200000000000001080073746f72"
            "6531303007005461626c652033003aba569501000002bc0c82d4d8815fe0a68c"
            "3ed7c356271517000000000065c20000024107c3c50000603fbc0c82d4d8815f"
            "e0a68c3ed7c3562716630400000000a1c200000241ffae000000803d01080073"
            "746f726531303007005461626c652034323aba5695010000020000f441000088"
            "c001bc0c82d4d8815fe0a68c3ed7c35627168b61ba5695010000004096c30000"
            "a040");
  encode_customer_state(CustomerState{}, bytes);
  EXPECT_EQ(hex(bytes),
            "060000000000000000ffffffffffffffffffffffffffffffff000000000000000000000000");
}

TEST(CustomerStateCodec, AppendingLeavesWhatWasThereAndAddsTheEncoding) {
  const CustomerState state = sample_state();
  std::string alone;
  encode_customer_state(state, alone);
  std::string arena = "earlier bytes";
  EXPECT_EQ(append_customer_state(state, arena), alone.size());
  EXPECT_EQ(arena, "earlier bytes" + alone);
}

}  // namespace
}  // namespace tastesync
