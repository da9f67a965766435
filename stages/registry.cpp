#include "stages/registry.hpp"

#include <simdjson.h>

#include <cstring>
#include <functional>

namespace tastesync {
namespace {

std::size_t code_points(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

std::string location_key(std::string_view store_id, std::string_view name) {
  std::string key;
  key.reserve(store_id.size() + name.size() + 1);
  key.append(store_id).push_back('\0');
  key.append(name);
  return key;
}

// Reads the registry JSON. Each helper returns an error text naming `where` and the field.
class EntryReader {
 public:
  EntryReader(simdjson::dom::object object, std::string where)
      : object_(object), where_(std::move(where)) {}

  Result<std::string_view, std::string> string(const char* field, std::size_t max_chars) const {
    std::string_view value;
    if (object_[field].get_string().get(value) != simdjson::SUCCESS) {
      return Failure{where_ + ": '" + field + "' is missing or not a string"};
    }
    const std::size_t length = code_points(value);
    if (length == 0 || length > max_chars) {
      return Failure{where_ + ": '" + field + "' must be 1.." + std::to_string(max_chars) +
                     " characters"};
    }
    return value;
  }

  Result<std::int64_t, std::string> integer(const char* field, std::int64_t min,
                                            std::int64_t max) const {
    std::int64_t value = 0;
    if (object_[field].get_int64().get(value) != simdjson::SUCCESS) {
      return Failure{where_ + ": '" + field + "' is missing or not an integer"};
    }
    if (value < min || value > max) {
      return Failure{where_ + ": '" + field + "' must be in " + std::to_string(min) + ".." +
                     std::to_string(max)};
    }
    return value;
  }

  Result<double, std::string> number(const char* field, double min, double max) const {
    double value = 0;
    if (object_[field].get_double().get(value) != simdjson::SUCCESS) {
      return Failure{where_ + ": '" + field + "' is not a number"};
    }
    if (!(value >= min && value <= max)) {
      return Failure{where_ + ": '" + field + "' must be in " + std::to_string(min) + ".." +
                     std::to_string(max)};
    }
    return value;
  }

  bool has(const char* field) const {
    simdjson::dom::element element;
    return object_[field].get(element) == simdjson::SUCCESS && !element.is_null();
  }

  Result<Uuid, std::string> uuid(const char* field) const {
    auto text = string(field, 64);
    if (!text) return Failure{text.error()};
    const auto parsed = parse_uuid(*text);
    if (!parsed) return Failure{where_ + ": '" + field + "' is not a canonical UUID"};
    return *parsed;
  }

  Result<EntryStatus, std::string> status() const {
    auto text = string("status", 16);
    if (!text) return Failure{text.error()};
    const auto parsed = parse_entry_status(*text);
    if (!parsed) {
      return Failure{where_ + ": 'status' must be one of active, inactive, maintenance"};
    }
    return *parsed;
  }

  Result<std::uint32_t, std::string> location(Registry& registry) const {
    auto store = string("store_id", 64);
    if (!store) return Failure{store.error()};
    simdjson::dom::object location;
    if (object_["location"].get_object().get(location) != simdjson::SUCCESS) {
      return Failure{where_ + ": 'location' is missing or not an object"};
    }
    const EntryReader reader(location, where_ + ".location");
    auto name = reader.string("name", 32);
    if (!name) return Failure{name.error()};
    auto type_text = reader.string("type", 16);
    if (!type_text) return Failure{type_text.error()};
    const auto type = parse_location_type(*type_text);
    if (!type) {
      return Failure{where_ + ".location: 'type' must be one of entrance, table, counter"};
    }
    const auto before = registry.locations().size();
    const std::uint32_t index = registry.intern_location(*store, *name, *type);
    if (index < before && registry.location(index).type != *type) {
      return Failure{where_ + ": location '" + std::string(*name) + "' of " + std::string(*store) +
                     " was already given another type"};
    }
    return index;
  }

 private:
  simdjson::dom::object object_;
  std::string where_;
};

Status<std::string> read_beacon(Registry& registry, simdjson::dom::object object,
                                std::size_t index) {
  const EntryReader reader(object, "beacons[" + std::to_string(index) + "]");
  BeaconEntry entry;
  auto beacon_id = reader.uuid("beacon_id");
  if (!beacon_id) return Failure{beacon_id.error()};
  auto uuid = reader.uuid("uuid");
  if (!uuid) return Failure{uuid.error()};
  auto major = reader.integer("major", 0, 65535);
  if (!major) return Failure{major.error()};
  auto minor = reader.integer("minor", 0, 65535);
  if (!minor) return Failure{minor.error()};
  auto status = reader.status();
  if (!status) return Failure{status.error()};
  auto location = reader.location(registry);
  if (!location) return Failure{location.error()};
  if (reader.has("tx_power")) {
    auto tx_power = reader.integer("tx_power", -100, -1);
    if (!tx_power) return Failure{tx_power.error()};
    entry.tx_power_dbm = static_cast<int>(*tx_power);
  }
  if (reader.has("radius_m")) {
    auto radius = reader.number("radius_m", 0.1, 50.0);
    if (!radius) return Failure{radius.error()};
    entry.radius_m = *radius;
  }
  entry.beacon_id = *beacon_id;
  entry.uuid = *uuid;
  entry.major = static_cast<std::uint16_t>(*major);
  entry.minor = static_cast<std::uint16_t>(*minor);
  entry.status = *status;
  entry.location_index = *location;
  auto added = registry.add_beacon(entry);
  if (!added) return Failure{"beacons[" + std::to_string(index) + "]: " + added.error()};
  return Done{};
}

Status<std::string> read_qr(Registry& registry, simdjson::dom::object object, std::size_t index) {
  const EntryReader reader(object, "qr_codes[" + std::to_string(index) + "]");
  auto code = reader.string("code", 256);
  if (!code) return Failure{code.error()};
  auto status = reader.status();
  if (!status) return Failure{status.error()};
  auto location = reader.location(registry);
  if (!location) return Failure{location.error()};
  auto added = registry.add_qr(QrEntry{std::string(*code), *location, *status});
  if (!added) return Failure{"qr_codes[" + std::to_string(index) + "]: " + added.error()};
  return Done{};
}

std::size_t mix(std::size_t seed, std::uint64_t value) {
  // boost::hash_combine's constant; enough for table lookups (not persisted anywhere).
  return seed ^
         (std::hash<std::uint64_t>{}(value) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

std::size_t hash_uuid(const Uuid& uuid) {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::memcpy(&high, uuid.data(), 8);
  std::memcpy(&low, uuid.data() + 8, 8);
  return mix(mix(0, high), low);
}

}  // namespace

std::string_view location_type_name(LocationType type) {
  switch (type) {
    case LocationType::entrance:
      return "entrance";
    case LocationType::table:
      return "table";
    case LocationType::counter:
      return "counter";
  }
  return "table";
}

std::string_view entry_status_name(EntryStatus status) {
  switch (status) {
    case EntryStatus::active:
      return "active";
    case EntryStatus::inactive:
      return "inactive";
    case EntryStatus::maintenance:
      return "maintenance";
  }
  return "inactive";
}

std::optional<LocationType> parse_location_type(std::string_view text) {
  if (text == "entrance") return LocationType::entrance;
  if (text == "table") return LocationType::table;
  if (text == "counter") return LocationType::counter;
  return std::nullopt;
}

std::optional<EntryStatus> parse_entry_status(std::string_view text) {
  if (text == "active") return EntryStatus::active;
  if (text == "inactive") return EntryStatus::inactive;
  if (text == "maintenance") return EntryStatus::maintenance;
  return std::nullopt;
}

std::size_t Registry::IdentityHash::operator()(const std::pair<Uuid, std::uint32_t>& key) const {
  return mix(hash_uuid(key.first), key.second);
}

std::size_t Registry::UuidHash::operator()(const Uuid& key) const {
  return hash_uuid(key);
}

std::size_t Registry::StringHash::operator()(std::string_view text) const {
  return std::hash<std::string_view>{}(text);
}

Result<std::shared_ptr<const Registry>, std::string> Registry::from_json(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (const auto error = parser.parse(simdjson::padded_string(text)).get_object().get(root);
      error != simdjson::SUCCESS) {
    return Failure{std::string("registry is not a JSON object: ") + simdjson::error_message(error)};
  }
  auto registry = std::make_shared<Registry>();
  simdjson::dom::array beacons;
  if (root["beacons"].get_array().get(beacons) != simdjson::SUCCESS) {
    return Failure{std::string("registry: 'beacons' is missing or not an array")};
  }
  std::size_t index = 0;
  for (const auto element : beacons) {
    simdjson::dom::object object;
    if (element.get_object().get(object) != simdjson::SUCCESS) {
      return Failure{"beacons[" + std::to_string(index) + "] is not an object"};
    }
    if (auto read = read_beacon(*registry, object, index); !read) return Failure{read.error()};
    ++index;
  }
  simdjson::dom::array qr_codes;
  if (const auto error = root["qr_codes"].get_array().get(qr_codes); error == simdjson::SUCCESS) {
    index = 0;
    for (const auto element : qr_codes) {
      simdjson::dom::object object;
      if (element.get_object().get(object) != simdjson::SUCCESS) {
        return Failure{"qr_codes[" + std::to_string(index) + "] is not an object"};
      }
      if (auto read = read_qr(*registry, object, index); !read) return Failure{read.error()};
      ++index;
    }
  } else if (error != simdjson::NO_SUCH_FIELD) {
    return Failure{std::string("registry: 'qr_codes' is not an array")};
  }
  return std::shared_ptr<const Registry>(std::move(registry));
}

const BeaconEntry* Registry::find_beacon(const Uuid& uuid, std::uint16_t major,
                                         std::uint16_t minor) const {
  const auto it = by_identity_.find({uuid, static_cast<std::uint32_t>(major) << 16 | minor});
  return it == by_identity_.end() ? nullptr : &beacons_[it->second];
}

const BeaconEntry* Registry::find_beacon_by_id(const Uuid& beacon_id) const {
  const auto it = by_beacon_id_.find(beacon_id);
  return it == by_beacon_id_.end() ? nullptr : &beacons_[it->second];
}

const QrEntry* Registry::find_qr(std::string_view code) const {
  const auto it = by_qr_code_.find(code);
  return it == by_qr_code_.end() ? nullptr : &qr_codes_[it->second];
}

std::uint32_t Registry::intern_location(std::string_view store_id, std::string_view name,
                                        LocationType type) {
  std::string key = location_key(store_id, name);
  if (const auto it = by_location_.find(key); it != by_location_.end()) return it->second;
  const auto index = static_cast<std::uint32_t>(locations_.size());
  auto store = store_indexes_.find(store_id);
  if (store == store_indexes_.end()) {
    store = store_indexes_
                .emplace(std::string(store_id), static_cast<std::uint32_t>(store_sizes_.size()))
                .first;
    store_sizes_.push_back(0);
  }
  ++store_sizes_[store->second];
  locations_.push_back(Location{std::string(store_id), std::string(name), type, store->second});
  by_location_.emplace(std::move(key), index);
  return index;
}

Status<std::string> Registry::add_beacon(BeaconEntry entry) {
  const auto index = static_cast<std::uint32_t>(beacons_.size());
  const std::pair<Uuid, std::uint32_t> identity{
      entry.uuid, static_cast<std::uint32_t>(entry.major) << 16 | entry.minor};
  if (by_identity_.contains(identity)) {
    return Failure{"(uuid, major, minor) " + format_uuid_string(entry.uuid) + ", " +
                   std::to_string(entry.major) + ", " + std::to_string(entry.minor) +
                   " is registered twice"};
  }
  if (by_beacon_id_.contains(entry.beacon_id)) {
    return Failure{"beacon_id " + format_uuid_string(entry.beacon_id) + " is registered twice"};
  }
  by_identity_.emplace(identity, index);
  by_beacon_id_.emplace(entry.beacon_id, index);
  beacons_.push_back(entry);
  return Done{};
}

Status<std::string> Registry::add_qr(QrEntry entry) {
  if (by_qr_code_.contains(entry.code)) {
    return Failure{"QR code '" + entry.code + "' is registered twice"};
  }
  by_qr_code_.emplace(entry.code, static_cast<std::uint32_t>(qr_codes_.size()));
  qr_codes_.push_back(std::move(entry));
  return Done{};
}

}  // namespace tastesync
