#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/event_time.hpp"
#include "common/uuid.hpp"

namespace tastesync {

enum class Source : std::uint8_t { beacon, qr };

struct BeaconReading {
  Uuid uuid{};
  std::uint16_t major = 0;
  std::uint16_t minor = 0;
  int rssi_dbm = 0;
  std::optional<int> tx_power_dbm;  // measured power at 1 m as the phone reported it
};

// A validated Sighting v1 (docs/contract.md#sighting). The string views point into the parser's
// buffers and stay valid until the parser parses the next record: the stages finish with a
// sighting before that.
struct Sighting {
  std::string_view sighting_id;
  std::string_view customer_id;
  Source source = Source::beacon;
  BeaconReading beacon;      // meaningful when source == beacon
  std::string_view qr_code;  // meaningful when source == qr
  EpochMs detected_at_ms = 0;
  std::string_view platform;  // empty when the device did not say
  // The ids' hashes as the state takes them (stages/id_hash.hpp), set by the parser: on the
  // parse thread for most records, off the pipeline thread (docs/design.md#parse-ahead).
  std::uint64_t sighting_id_hash = 0;
  std::size_t customer_id_hash = 0;
};

// A Kafka record as the parse stage sees it: no librdkafka types cross into stages/.
struct RecordView {
  std::optional<std::string_view> key;  // nullopt: the record has no key
  std::string_view value;
  std::optional<std::int64_t> timestamp_ms;  // nullopt: the record has no timestamp
  // Its offset in the partition; increasing from record to record. The customer cap forgets the
  // customers whose newest record is oldest by it.
  std::int64_t offset = 0;
};

}  // namespace tastesync
