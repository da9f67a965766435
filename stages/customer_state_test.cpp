#include "customer_state.hpp"

#include <gtest/gtest.h>

namespace tastesync {
namespace {

CustomerState sample_state() {
  CustomerState state;
  state.last_activity_ms = 1740916800123;
  state.last_emitted = LastIdentification{"store100", "Table 3", 1740916800000};
  state.seen = {{sighting_id_hash("a"), 1740916800000}, {sighting_id_hash("b"), 1740916800100}};
  BeaconTrack track;
  track.beacon_id = *parse_uuid("bc0c82d4-d881-5fe0-a68c-3ed7c3562715");
  track.reported_tx_power_dbm = -59;
  track.newest_ms = 1740916800100;
  track.rssi_dbm = -57.25F;
  track.variance = 8.125F;
  track.readings = 7;
  track.last_rssi_dbm = -61;
  state.tracks.push_back(track);
  state.move_candidate = MoveCandidate{"store100", "Table 4", 1740916800050, 2};
  return state;
}

TEST(CustomerState, EncodingRoundTrips) {
  const CustomerState original = sample_state();
  std::string bytes;
  encode_customer_state(original, bytes);
  CustomerState decoded;
  ASSERT_TRUE(decode_customer_state(bytes, decoded));
  EXPECT_EQ(decoded.last_activity_ms, original.last_activity_ms);
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

TEST(CustomerState, ResetKeepsTheDurabilityMark) {
  CustomerState state = sample_state();
  state.durability.pending_offset = 7;
  state.reset();
  EXPECT_FALSE(state.last_emitted.has_value());
  EXPECT_TRUE(state.tracks.empty());
  EXPECT_EQ(state.durability.pending_offset, 7);
}

TEST(CustomerState, LastActivityIsReadableWithoutDecoding) {
  std::string bytes;
  encode_customer_state(sample_state(), bytes);
  EXPECT_EQ(encoded_last_activity(bytes), std::optional<EpochMs>(1740916800123));
}

TEST(CustomerState, TruncatedOrCorruptBytesAreRejected) {
  std::string bytes;
  encode_customer_state(sample_state(), bytes);
  CustomerState decoded;
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(decode_customer_state(std::string_view(bytes).substr(0, size), decoded)) << size;
  }
  std::string wrong_version = bytes;
  wrong_version[0] = 99;
  EXPECT_FALSE(decode_customer_state(wrong_version, decoded));
  EXPECT_FALSE(encoded_last_activity(wrong_version).has_value());
  EXPECT_FALSE(decode_customer_state(bytes + "x", decoded));
}

TEST(CustomerState, SightingIdHashIsStable) {
  // Persisted in RocksDB: a change here would make restarts forget duplicates.
  EXPECT_EQ(sighting_id_hash("0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10"),
            sighting_id_hash("0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10"));
  EXPECT_NE(sighting_id_hash("a"), sighting_id_hash("b"));
  EXPECT_EQ(sighting_id_hash(""), 0xf52a15e9a9b5e89bULL);  // pinned: FNV-1a basis, then splitmix64
}

TEST(PartitionState, EvictsOnlyCustomersOlderThanTheHorizon) {
  PartitionState partition;
  partition.find_or_create("old").last_activity_ms = 1000;
  partition.find_or_create("new").last_activity_ms = 5000;
  EXPECT_EQ(partition.evict_older_than(2000), 1u);
  EXPECT_EQ(partition.find("old"), nullptr);
  EXPECT_NE(partition.find("new"), nullptr);
}

TEST(PartitionState, EvictionSparesCustomersWithUncheckpointedChanges) {
  PartitionState partition;
  partition.find_or_create("old").durability.pending_offset = 3;
  EXPECT_EQ(partition.evict_older_than(2000), 0u);
  EXPECT_NE(partition.find("old"), nullptr);
}

TEST(PartitionState, WatermarkOnlyMovesForward) {
  PartitionState partition;
  partition.advance_watermark(100);
  partition.advance_watermark(50);
  EXPECT_EQ(partition.watermark_ms(), 100);
}

}  // namespace
}  // namespace tastesync
