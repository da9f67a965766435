#pragma once

#include <cstdint>
#include <memory>

#include "common/result.hpp"
#include "stages/outcome.hpp"
#include "stages/registry.hpp"
#include "stages/sighting.hpp"

namespace tastesync {

struct Resolved {
  std::uint32_t location_index = 0;
  const Location* location = nullptr;
  const BeaconEntry* beacon = nullptr;  // null for QR scans
  const QrEntry* qr = nullptr;          // null for beacon sightings
};

// Sighting -> the registry entry it names. Unknown, inactive and maintenance entries are drops,
// not errors: a phone hearing a neighbour's beacon is normal.
class Resolver {
 public:
  explicit Resolver(std::shared_ptr<const Registry> registry) : registry_(std::move(registry)) {}

  Result<Resolved, DropReason> resolve(const Sighting& sighting) const;

  // Swapped between records by the owner of the thread that calls resolve().
  void set_registry(std::shared_ptr<const Registry> registry) { registry_ = std::move(registry); }
  const Registry& registry() const { return *registry_; }

 private:
  std::shared_ptr<const Registry> registry_;
};

}  // namespace tastesync
