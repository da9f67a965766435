#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// The contract's formulas (docs/contract.md) recomputed independently of the product's code, so a
// test compares the binary's output with the contract rather than with itself.
namespace tastesync::testing {

// The namespace of event ids (docs/contract.md#event-id).
inline constexpr std::string_view kEventIdNamespace = "7f1c2b9e-4d3a-4c5e-9b1a-2e6f8d0c4a31";

// RFC 4122 §4.3 name-based UUID with SHA-1 (version 5), lower-case 8-4-4-4-12.
std::string uuid_v5(std::string_view namespace_uuid, std::string_view name);

// docs/contract.md#event-id: UUID v5 over customer_id \n store_id \n location \n detected_at \n
// sighting_id.
std::string expected_event_id(std::string_view customer_id, std::string_view store_id,
                              std::string_view location, std::string_view detected_at,
                              std::string_view sighting_id);

// Kafka's Utils.murmur2 (the Java client), as the signed int Java returns.
std::int32_t murmur2(std::string_view key);
// The Java client's partitioner (murmur2 of the key, sign bit cleared, modulo the partition
// count), which docs/contract.md#topics asks every producer to use.
std::int32_t murmur2_partition(std::string_view key, std::int32_t partitions);

// "YYYY-MM-DDTHH:MM:SS.mmmZ" (docs/contract.md#customer-identified) <-> milliseconds since the
// epoch.
std::string canonical_time(std::int64_t epoch_ms);
std::int64_t epoch_ms(std::string_view canonical);

// A Sighting v1 (docs/contract.md#sighting) from beacon `major`/`minor` of the fixtures'
// deployment UUID.
struct BeaconSighting {
  std::string sighting_id{};
  std::string customer_id{};
  int major = 100;
  int minor = 13;
  int rssi_dbm = -50;
  std::optional<int> tx_power_dbm = -59;
  std::string detected_at{};
};
std::string to_json(const BeaconSighting& sighting);
// The usual one: `customer_id` heard at -50 dBm from beacon 100/`minor` at `detected_at_ms`.
BeaconSighting beacon_sighting(std::string sighting_id, std::string customer_id, int minor,
                               std::int64_t detected_at_ms);
std::string qr_sighting_json(std::string_view sighting_id, std::string_view customer_id,
                             std::string_view code, std::string_view detected_at);

// The fixtures' registry (tests/fixtures/registry.json).
inline constexpr std::string_view kDeploymentUuid = "550e8400-e29b-41d4-a716-446655440000";

// Parses a record value; the document has HasParseError() set when it is not JSON.
rapidjson::Document parse_json(const std::optional<std::string>& value);
// A string member by JSON pointer ("/data/location"); "" when absent or not a string.
std::string json_string(const rapidjson::Value& root, const char* pointer);

}  // namespace tastesync::testing
