#pragma once

#include <string>

#include "common/event_time.hpp"
#include "sinks/event/sink_event.hpp"

namespace tastesync::testing {

// The events the sink tests write: the example of docs/contract.md#customer-identified with the
// customer, store, location and time a test chooses. The event id is a UUID (the PostgreSQL column
// is one) and, like the sighting id, derived from those four, so two events of one test differ
// in their ids whenever they differ in any of them.
SinkEvent beacon_event(std::string customer_id, std::string store_id, std::string location,
                       EpochMs detected_at_ms);
// A QR scan at the counter: no beacon, a qr_code.
SinkEvent qr_event(std::string customer_id, std::string store_id, std::string location,
                   EpochMs detected_at_ms);
// An erasure's tombstone as the sink runner reads it (docs/operations.md#forget).
SinkEvent erasure(std::string customer_id, EpochMs requested_at_ms,
                  std::string request_id = "req-1");

}  // namespace tastesync::testing
