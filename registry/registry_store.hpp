#pragma once

#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "stages/registry.hpp"

namespace tastesync {

// The registry of docs/contract.md#registry as PostgreSQL holds it (tables beacons and qr_codes,
// docs/contract.md#postgres).

// Reads the whole registry in one transaction (one snapshot). Throws std::runtime_error naming
// the row at fault when the rows do not make a registry (e.g. one location given two types).
std::shared_ptr<const Registry> load_registry_from_postgres(pqxx::connection& connection);

struct ImportReport {
  std::size_t beacons = 0;
  std::size_t qr_codes = 0;
};

// Upserts every entry of `registry` by beacon_id / code in one transaction; entries the
// database has and `registry` lacks are left alone (an import never deletes).
ImportReport import_registry(pqxx::connection& connection, const Registry& registry);

// The database's registry in the fixtures' JSON format, entries sorted by beacon_id and code,
// so that import followed by export round-trips.
std::string export_registry_json(pqxx::connection& connection);

}  // namespace tastesync
