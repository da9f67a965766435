#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/event_time.hpp"
#include "common/result.hpp"
#include "common/uuid.hpp"

namespace tastesync {

// What the sinks store of a CustomerIdentified v1 event (docs/contract.md#customer-identified,
// docs/contract.md#sinks). Strings are copied out of the record so a batch outlives the
// consumer's buffers.
struct SinkEvent {
  std::string event_id;
  std::string customer_id;
  std::string store_id;
  std::string location;
  std::string location_type;
  std::string source;          // "beacon" or "qr"
  std::string identification;  // "arrival", "move" or "still_here"
  std::string sighting_id;
  // Three decimals, as the contract stores it (docs/contract.md#redis): "0.950".
  std::string confidence;
  EpochMs detected_at_ms = 0;
  std::string detected_at;  // canonical UTC form
  // Beacon events only.
  std::optional<std::string> beacon_id;
  std::optional<std::string> beacon_uuid;
  std::optional<int> beacon_major;
  std::optional<int> beacon_minor;
  // QR events only.
  std::optional<std::string> qr_code;
  // An erasure's tombstone instead of an event (docs/operations.md#forget): its request id. Only
  // customer_id and detected_at_ms (the request's time) are set beside it.
  std::optional<std::string> forget_request;
};

// Parses and checks records of customer-events. The error is the reason a sink's dead-letter
// record carries; it names the field at fault. One per sink thread: it reuses its buffers.
class SinkEventParser {
 public:
  Result<SinkEvent, std::string> parse(std::string_view json);

 private:
  simdjson::dom::parser parser_;
};

}  // namespace tastesync
