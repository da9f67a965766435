#include "tests/support/sink_events.hpp"

#include <utility>

#include "common/uuid.hpp"

namespace tastesync::testing {
namespace {

// Any fixed namespace will do: the ids only need to be distinct and stable within the tests.
constexpr Uuid kTestNamespace = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

SinkEvent base_event(std::string customer_id, std::string store_id, std::string location,
                     EpochMs detected_at_ms, std::string_view source) {
  const std::string name = customer_id + "\n" + store_id + "\n" + location + "\n" +
                           std::string(source) + "\n" + std::to_string(detected_at_ms);
  SinkEvent event;
  event.event_id = format_uuid_string(tastesync::uuid_v5(kTestNamespace, "event\n" + name));
  event.sighting_id = format_uuid_string(tastesync::uuid_v5(kTestNamespace, "sighting\n" + name));
  event.customer_id = std::move(customer_id);
  event.store_id = std::move(store_id);
  event.location = std::move(location);
  event.source = std::string(source);
  event.identification = "arrival";
  event.confidence = "0.950";
  event.detected_at_ms = detected_at_ms;
  event.detected_at = format_canonical_string(detected_at_ms);
  return event;
}

}  // namespace

SinkEvent beacon_event(std::string customer_id, std::string store_id, std::string location,
                       EpochMs detected_at_ms) {
  SinkEvent event = base_event(std::move(customer_id), std::move(store_id), std::move(location),
                               detected_at_ms, "beacon");
  event.location_type = "table";
  event.beacon_id = "bc0c82d4-d881-5fe0-a68c-3ed7c3562715";
  event.beacon_uuid = "550e8400-e29b-41d4-a716-446655440000";
  event.beacon_major = 100;
  event.beacon_minor = 13;
  return event;
}

SinkEvent qr_event(std::string customer_id, std::string store_id, std::string location,
                   EpochMs detected_at_ms) {
  SinkEvent event = base_event(std::move(customer_id), std::move(store_id), std::move(location),
                               detected_at_ms, "qr");
  event.location_type = "counter";
  event.qr_code = "QR-COUNTER-1";
  return event;
}

SinkEvent erasure(std::string customer_id, EpochMs requested_at_ms, std::string request_id) {
  SinkEvent event;
  event.customer_id = std::move(customer_id);
  event.detected_at_ms = requested_at_ms;
  event.forget_request = std::move(request_id);
  return event;
}

}  // namespace tastesync::testing
