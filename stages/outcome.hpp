#pragma once

#include <cstdint>
#include <string_view>

namespace tastesync {

// Why an accepted sighting produced no event. Every drop is counted by reason: a drop nobody can
// see is how stream processors lose data silently.
enum class DropReason : std::uint8_t {
  duplicate,        // same sighting_id for the customer within the duplicate window
  beyond_lateness,  // older than the partition's watermark minus the allowed lateness
  unknown_beacon,   // not in the registry (a neighbour's beacon: normal)
  inactive_beacon,
  maintenance_beacon,
  unknown_qr,
  inactive_qr,
  maintenance_qr,
  low_confidence,  // score below the threshold
  pending_move,    // another location looks nearer, not yet for the dwell (hysteresis)
  late,            // detected_at <= the last emitted identification's
  suppressed,      // same location within the interval: nothing new to say
};
inline constexpr std::size_t kDropReasonCount = 12;

std::string_view drop_reason_name(DropReason reason);

enum class IdentificationKind : std::uint8_t { arrival, move, still_here };
inline constexpr std::size_t kIdentificationKindCount = 3;

std::string_view identification_kind_name(IdentificationKind kind);

}  // namespace tastesync
