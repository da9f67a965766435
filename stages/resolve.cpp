#include "stages/resolve.hpp"

namespace tastesync {

Result<Resolved, DropReason> Resolver::resolve(const Sighting& sighting) const {
  Resolved resolved;
  if (sighting.source == Source::qr) {
    const QrEntry* qr = registry_->find_qr(sighting.qr_code);
    if (qr == nullptr) return Failure{DropReason::unknown_qr};
    if (qr->status == EntryStatus::inactive) return Failure{DropReason::inactive_qr};
    if (qr->status == EntryStatus::maintenance) return Failure{DropReason::maintenance_qr};
    resolved.qr = qr;
    resolved.location_index = qr->location_index;
  } else {
    const BeaconReading& reading = sighting.beacon;
    const BeaconEntry* beacon = registry_->find_beacon(reading.uuid, reading.major, reading.minor);
    if (beacon == nullptr) return Failure{DropReason::unknown_beacon};
    if (beacon->status == EntryStatus::inactive) return Failure{DropReason::inactive_beacon};
    if (beacon->status == EntryStatus::maintenance) return Failure{DropReason::maintenance_beacon};
    resolved.beacon = beacon;
    resolved.location_index = beacon->location_index;
  }
  resolved.location = &registry_->location(resolved.location_index);
  return resolved;
}

std::string_view drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::duplicate:
      return "duplicate";
    case DropReason::beyond_lateness:
      return "beyond_lateness";
    case DropReason::unknown_beacon:
      return "unknown_beacon";
    case DropReason::inactive_beacon:
      return "inactive_beacon";
    case DropReason::maintenance_beacon:
      return "maintenance_beacon";
    case DropReason::unknown_qr:
      return "unknown_qr";
    case DropReason::inactive_qr:
      return "inactive_qr";
    case DropReason::maintenance_qr:
      return "maintenance_qr";
    case DropReason::low_confidence:
      return "low_confidence";
    case DropReason::pending_move:
      return "pending_move";
    case DropReason::late:
      return "late";
    case DropReason::suppressed:
      return "suppressed";
  }
  return "unknown";
}

std::string_view identification_kind_name(IdentificationKind kind) {
  switch (kind) {
    case IdentificationKind::arrival:
      return "arrival";
    case IdentificationKind::move:
      return "move";
    case IdentificationKind::still_here:
      return "still_here";
  }
  return "arrival";
}

}  // namespace tastesync
