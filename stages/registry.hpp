#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "common/uuid.hpp"

namespace tastesync {

enum class LocationType : std::uint8_t { entrance, table, counter };
enum class EntryStatus : std::uint8_t { active, inactive, maintenance };

std::string_view location_type_name(LocationType type);
std::string_view entry_status_name(EntryStatus status);
std::optional<LocationType> parse_location_type(std::string_view text);
std::optional<EntryStatus> parse_entry_status(std::string_view text);

// A place in a store. Identity is (store_id, name): several beacons may mark one location.
struct Location {
  std::string store_id;
  std::string name;
  LocationType type = LocationType::table;
  std::uint32_t store_index = 0;  // Registry::locations_in_store() counts by it

  // A customer's current location is kept by store and name (docs/contract.md#state).
  bool is(std::string_view store, std::string_view location_name) const {
    return store_id == store && name == location_name;
  }
};

struct BeaconEntry {
  Uuid beacon_id{};
  Uuid uuid{};
  std::uint16_t major = 0;
  std::uint16_t minor = 0;
  std::uint32_t location_index = 0;
  EntryStatus status = EntryStatus::active;
  std::optional<int> tx_power_dbm;  // calibrated at installation; preferred over the phone's value
  std::optional<double> radius_m;   // how close counts as "at" it; else its location type's
};

struct QrEntry {
  std::string code;
  std::uint32_t location_index = 0;
  EntryStatus status = EntryStatus::active;
};

// The beacon and QR registry of docs/contract.md#registry, immutable once built and shared by
// pointer, so a newer version can replace it between records without locking the hot path.
class Registry {
 public:
  // Parses the fixtures' registry.json format; the error names the entry and field at fault.
  static Result<std::shared_ptr<const Registry>, std::string> from_json(std::string_view text);

  const BeaconEntry* find_beacon(const Uuid& uuid, std::uint16_t major, std::uint16_t minor) const;
  const BeaconEntry* find_beacon_by_id(const Uuid& beacon_id) const;
  const QrEntry* find_qr(std::string_view code) const;
  const Location& location(std::uint32_t index) const { return locations_[index]; }

  const std::vector<BeaconEntry>& beacons() const { return beacons_; }
  const std::vector<QrEntry>& qr_codes() const { return qr_codes_; }
  const std::vector<Location>& locations() const { return locations_; }
  // How many locations the registry lists in this location's store.
  std::uint32_t locations_in_store(const Location& location) const {
    return store_sizes_[location.store_index];
  }

  // Builders used by the loaders (file, database): entries refer to locations by index.
  std::uint32_t intern_location(std::string_view store_id, std::string_view name,
                                LocationType type);
  // Fail with a message when an identity, beacon_id or code is already present.
  Status<std::string> add_beacon(BeaconEntry entry);
  Status<std::string> add_qr(QrEntry entry);

 private:
  struct IdentityHash {
    std::size_t operator()(const std::pair<Uuid, std::uint32_t>& key) const;
  };
  struct UuidHash {
    std::size_t operator()(const Uuid& key) const;
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const;
  };

  std::vector<Location> locations_;
  std::vector<std::uint32_t> store_sizes_;  // by Location::store_index
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> store_indexes_;
  std::vector<BeaconEntry> beacons_;
  std::vector<QrEntry> qr_codes_;
  std::unordered_map<std::pair<Uuid, std::uint32_t>, std::uint32_t, IdentityHash> by_identity_;
  std::unordered_map<Uuid, std::uint32_t, UuidHash> by_beacon_id_;
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> by_qr_code_;
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> by_location_;
};

}  // namespace tastesync
