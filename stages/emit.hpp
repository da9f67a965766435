#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/uuid.hpp"
#include "stages/outcome.hpp"
#include "stages/registry.hpp"
#include "stages/score.hpp"
#include "stages/sighting.hpp"

namespace tastesync {

// The namespace for event ids (docs/contract.md#event-id).
inline constexpr Uuid kEventIdNamespace = {0x7f, 0x1c, 0x2b, 0x9e, 0x4d, 0x3a, 0x4c, 0x5e,
                                           0x9b, 0x1a, 0x2e, 0x6f, 0x8d, 0x0c, 0x4a, 0x31};

// UUID v5 over customer_id, store_id, location, canonical detected_at and sighting_id joined by
// newlines: a replay or a redelivery of the same sighting yields the same id.
Uuid event_id_for(std::string_view customer_id, std::string_view store_id,
                  std::string_view location, EpochMs detected_at_ms, std::string_view sighting_id);

// Serialises CustomerIdentified v1: its fixed parts as they are, and its numbers and every string
// that needs escaping through rapidjson's Writer (its escaping, not ours). One instance per
// thread; the buffers are reused, so the views returned stay valid until the next write().
class EventWriter {
 public:
  EventWriter();
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  struct Event {
    std::string_view event_id;  // canonical text
    std::string_view value;     // the JSON document
  };

  Event write(const Sighting& sighting, const Identification& identification,
              IdentificationKind kind, EpochMs emitted_at_ms);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tastesync
