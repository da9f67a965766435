#include "registry/registry_store.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <optional>
#include <stdexcept>

#include "common/uuid.hpp"

namespace tastesync {
namespace {

constexpr const char* kBeaconsQuery =
    "SELECT beacon_id::text, uuid::text, major, minor, store_id, location, location_type,"
    " status, tx_power, radius_m FROM beacons ORDER BY beacon_id";
constexpr const char* kQrQuery =
    "SELECT code, store_id, location, location_type, status FROM qr_codes ORDER BY code";

template <typename T>
std::optional<T> optional_field(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<T>();
}

Uuid uuid_field(const pqxx::field& field) {
  // The column type is uuid, so PostgreSQL's text form is always canonical.
  return parse_uuid(field.c_str()).value();
}

LocationType location_type_field(const pqxx::field& field, const std::string& where) {
  const auto type = parse_location_type(field.c_str());
  if (!type) throw std::runtime_error(where + ": unknown location_type " + field.c_str());
  return *type;
}

EntryStatus status_field(const pqxx::field& field, const std::string& where) {
  const auto status = parse_entry_status(field.c_str());
  if (!status) throw std::runtime_error(where + ": unknown status " + field.c_str());
  return *status;
}

std::uint32_t location_of(Registry& registry, const pqxx::row& row, int store_column,
                          const std::string& where) {
  const std::string store = row[store_column].c_str();
  const std::string name = row[store_column + 1].c_str();
  const LocationType type = location_type_field(row[store_column + 2], where);
  const auto before = registry.locations().size();
  const std::uint32_t index = registry.intern_location(store, name, type);
  if (index < before && registry.location(index).type != type) {
    throw std::runtime_error(where + ": location '" + name + "' of " + store +
                             " was already given another type");
  }
  return index;
}

}  // namespace

std::shared_ptr<const Registry> load_registry_from_postgres(pqxx::connection& connection) {
  pqxx::read_transaction read(connection, "load registry");
  auto registry = std::make_shared<Registry>();
  for (const auto& row : read.exec(kBeaconsQuery)) {
    const std::string where = std::string("beacon ") + row[0].c_str();
    BeaconEntry entry;
    entry.beacon_id = uuid_field(row[0]);
    entry.uuid = uuid_field(row[1]);
    entry.major = static_cast<std::uint16_t>(row[2].as<int>());
    entry.minor = static_cast<std::uint16_t>(row[3].as<int>());
    entry.location_index = location_of(*registry, row, 4, where);
    entry.status = status_field(row[7], where);
    entry.tx_power_dbm = optional_field<int>(row[8]);
    entry.radius_m = optional_field<double>(row[9]);
    if (auto added = registry->add_beacon(entry); !added) {
      throw std::runtime_error(where + ": " + added.error());
    }
  }
  for (const auto& row : read.exec(kQrQuery)) {
    const std::string where = std::string("QR code ") + row[0].c_str();
    QrEntry entry{row[0].c_str(), location_of(*registry, row, 1, where),
                  status_field(row[4], where)};
    if (auto added = registry->add_qr(std::move(entry)); !added) {
      throw std::runtime_error(where + ": " + added.error());
    }
  }
  read.commit();
  return registry;
}

ImportReport import_registry(pqxx::connection& connection, const Registry& registry) {
  pqxx::work work(connection, "import registry");
  ImportReport report;
  for (const BeaconEntry& beacon : registry.beacons()) {
    const Location& location = registry.location(beacon.location_index);
    work.exec_params(
        "INSERT INTO beacons (beacon_id, uuid, major, minor, store_id, location, location_type,"
        " status, tx_power, radius_m) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (beacon_id) DO UPDATE SET uuid = EXCLUDED.uuid, major = EXCLUDED.major,"
        " minor = EXCLUDED.minor, store_id = EXCLUDED.store_id, location = EXCLUDED.location,"
        " location_type = EXCLUDED.location_type, status = EXCLUDED.status,"
        " tx_power = EXCLUDED.tx_power, radius_m = EXCLUDED.radius_m, updated_at = now()",
        format_uuid_string(beacon.beacon_id), format_uuid_string(beacon.uuid),
        static_cast<int>(beacon.major), static_cast<int>(beacon.minor), location.store_id,
        location.name, std::string(location_type_name(location.type)),
        std::string(entry_status_name(beacon.status)), beacon.tx_power_dbm, beacon.radius_m);
    ++report.beacons;
  }
  for (const QrEntry& qr : registry.qr_codes()) {
    const Location& location = registry.location(qr.location_index);
    work.exec_params(
        "INSERT INTO qr_codes (code, store_id, location, location_type, status)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET"
        " store_id = EXCLUDED.store_id, location = EXCLUDED.location,"
        " location_type = EXCLUDED.location_type, status = EXCLUDED.status, updated_at = now()",
        qr.code, location.store_id, location.name, std::string(location_type_name(location.type)),
        std::string(entry_status_name(qr.status)));
    ++report.qr_codes;
  }
  work.commit();
  return report;
}

std::string export_registry_json(pqxx::connection& connection) {
  pqxx::read_transaction read(connection, "export registry");
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> out(buffer);
  out.SetIndent(' ', 1);
  const auto location = [&out](const pqxx::row& row, int store_column) {
    out.Key("store_id");
    out.String(row[store_column].c_str());
    out.Key("location");
    out.StartObject();
    out.Key("name");
    out.String(row[store_column + 1].c_str());
    out.Key("type");
    out.String(row[store_column + 2].c_str());
    out.EndObject();
  };
  out.StartObject();
  out.Key("version");
  out.String("v1");
  out.Key("beacons");
  out.StartArray();
  for (const auto& row : read.exec(kBeaconsQuery)) {
    out.StartObject();
    out.Key("beacon_id");
    out.String(row[0].c_str());
    out.Key("uuid");
    out.String(row[1].c_str());
    out.Key("major");
    out.Int(row[2].as<int>());
    out.Key("minor");
    out.Int(row[3].as<int>());
    location(row, 4);
    out.Key("status");
    out.String(row[7].c_str());
    if (!row[8].is_null()) {
      out.Key("tx_power");
      out.Int(row[8].as<int>());
    }
    if (!row[9].is_null()) {
      out.Key("radius_m");
      out.Double(row[9].as<double>());
    }
    out.EndObject();
  }
  out.EndArray();
  out.Key("qr_codes");
  out.StartArray();
  for (const auto& row : read.exec(kQrQuery)) {
    out.StartObject();
    out.Key("code");
    out.String(row[0].c_str());
    location(row, 1);
    out.Key("status");
    out.String(row[4].c_str());
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
  read.commit();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace tastesync
