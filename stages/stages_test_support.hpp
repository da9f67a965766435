#pragma once

// Builders shared by the tests of the stages and of the state layer (tests only: both test
// targets define TASTESYNC_FIXTURES_DIR). Header-only, so that no product target carries them.

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "common/event_time.hpp"
#include "common/uuid.hpp"
#include "stages/customer_state.hpp"
#include "stages/registry.hpp"
#include "stages/sighting.hpp"

namespace tastesync::stage_testing {

inline constexpr EpochMs kT0 = 1740916800000;  // 2025-03-02T12:00:00Z

// The fixtures' registry (tests/fixtures/registry.json).
inline std::shared_ptr<const Registry> fixture_registry() {
  std::ifstream file(std::string(TASTESYNC_FIXTURES_DIR) + "/registry.json");
  std::ostringstream text;
  text << file.rdbuf();
  return Registry::from_json(text.str()).value();
}

// A Kafka record as the topology sees it, owning its bytes.
struct Record {
  std::string key;
  std::string value;
  std::int64_t timestamp_ms;
};

inline RecordView view(const Record& record, std::size_t offset) {
  return {record.key, record.value, record.timestamp_ms, static_cast<std::int64_t>(offset)};
}

// A beacon sighting of the fixtures' deployment (major 100), its record 50 ms after detection.
inline Record beacon_record(const std::string& customer, const std::string& sighting_id, int minor,
                            int rssi, EpochMs t_ms) {
  const std::string value =
      R"({"sighting_id":")" + sighting_id + R"(","customer_id":")" + customer +
      R"(","beacon":{"uuid":"550e8400-e29b-41d4-a716-446655440000","major":100,"minor":)" +
      std::to_string(minor) + R"(,"rssi":)" + std::to_string(rssi) + R"(},"detected_at":")" +
      format_canonical_string(t_ms) + R"("})";
  return {customer, value, t_ms + 50};
}

// A registered QR scan of the fixtures' store100 (`code`: "TS-store100-T1".."T6"), its record
// 50 ms after detection.
inline Record qr_record(const std::string& customer, const std::string& sighting_id,
                        const std::string& code, EpochMs t_ms) {
  const std::string value = R"({"sighting_id":")" + sighting_id + R"(","customer_id":")" +
                            customer + R"(","source":"qr","qr":{"code":")" + code +
                            R"("},"detected_at":")" + format_canonical_string(t_ms) + R"("})";
  return {customer, value, t_ms + 50};
}

// A customer state with every field set (an identification, remembered ids, a track, a pending
// move): what a codec or a reset must carry or clear.
inline CustomerState sample_state() {
  CustomerState state;
  state.last_activity_ms = 1740916800123;
  state.last_offset = 812;
  state.since_offset = 640;
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
  track.belief = 0.875F;
  state.tracks.push_back(track);
  state.move_candidate = MoveCandidate{"store100", "Table 4", 1740916800050, 2};
  state.reading_variance = 30.5F;
  state.level_offset_db = -4.25F;
  return state;
}

}  // namespace tastesync::stage_testing
