#include "sinks/event/sink_event.hpp"

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

namespace tastesync {
namespace {

using Error = Failure<std::string>;

constexpr std::size_t kMaxUtf8 = 4;  // bytes per code point

Result<std::string, std::string> text(simdjson::dom::object object, const char* field,
                                      std::size_t max_chars) {
  std::string_view value;
  if (object[field].get_string().get(value) != simdjson::SUCCESS) {
    return Error{std::string("'") + field + "' is missing or not a string"};
  }
  if (value.empty() || value.size() > max_chars) {
    return Error{std::string("'") + field + "' must be 1.." + std::to_string(max_chars) + " bytes"};
  }
  return std::string(value);
}

// The fields every event has: ids, where, how, when and the confidence. A reason on failure.
std::optional<std::string> read_common(simdjson::dom::object envelope, simdjson::dom::object data,
                                       SinkEvent& event) {
  struct Field {
    simdjson::dom::object object;
    const char* name;
    std::size_t max_chars;
    std::string* out;
  };
  const Field fields[] = {
      {envelope, "event_id", 36, &event.event_id},
      // Byte limits: the schema's limits count code points, up to kMaxUtf8 bytes each.
      {data, "customer_id", kMaxUtf8 * 64, &event.customer_id},
      {data, "store_id", kMaxUtf8 * 64, &event.store_id},
      {data, "location", kMaxUtf8 * 32, &event.location},
      {data, "location_type", 16, &event.location_type},
      {data, "source", 16, &event.source},
      {data, "identification", 16, &event.identification},
      {data, "sighting_id", kMaxUtf8 * 64, &event.sighting_id},
      {data, "detected_at", 40, &event.detected_at},
  };
  for (const Field& field : fields) {
    auto value = text(field.object, field.name, field.max_chars);
    if (!value) return value.error();
    *field.out = std::move(value.value());
  }
  if (!parse_uuid(event.event_id)) return "'event_id' is not a canonical UUID";
  if (event.location_type != "entrance" && event.location_type != "table" &&
      event.location_type != "counter") {
    return "'location_type' is not entrance, table or counter";
  }
  if (event.identification != "arrival" && event.identification != "move" &&
      event.identification != "still_here") {
    return "'identification' is not arrival, move or still_here";
  }
  const auto detected = parse_rfc3339(event.detected_at);
  if (!detected) return "'detected_at' is not an RFC 3339 time";
  event.detected_at_ms = *detected;
  event.detected_at = format_canonical_string(*detected);

  double confidence = 0;
  if (data["confidence"].get_double().get(confidence) != simdjson::SUCCESS ||
      !std::isfinite(confidence) || confidence < 0 || confidence > 1) {
    return "'confidence' is missing or not a number in [0, 1]";
  }
  // -0 passes the range check; "%.3f" would print it "-0.000", which is no number of the
  // contract's form (docs/contract.md#customer-identified).
  if (confidence == 0) confidence = 0;
  char formatted[16];
  std::snprintf(formatted, sizeof formatted, "%.3f", confidence);
  event.confidence = formatted;
  return std::nullopt;
}

std::optional<std::string> read_beacon(simdjson::dom::object data, SinkEvent& event) {
  auto beacon_id = text(data, "beacon_id", 36);
  if (!beacon_id || !parse_uuid(beacon_id.value())) {
    return "'beacon_id' is missing or not a canonical UUID on a beacon event";
  }
  event.beacon_id = std::move(beacon_id.value());
  simdjson::dom::object beacon;
  if (data["beacon"].get_object().get(beacon) != simdjson::SUCCESS) {
    return "'beacon' is missing on a beacon event";
  }
  auto uuid = text(beacon, "uuid", 36);
  if (!uuid || !parse_uuid(uuid.value())) return "'beacon.uuid' is not a canonical UUID";
  event.beacon_uuid = std::move(uuid.value());
  std::int64_t major = 0;
  std::int64_t minor = 0;
  if (beacon["major"].get_int64().get(major) != simdjson::SUCCESS || major < 0 || major > 65535) {
    return "'beacon.major' is not an integer in 0..65535";
  }
  if (beacon["minor"].get_int64().get(minor) != simdjson::SUCCESS || minor < 0 || minor > 65535) {
    return "'beacon.minor' is not an integer in 0..65535";
  }
  event.beacon_major = static_cast<int>(major);
  event.beacon_minor = static_cast<int>(minor);
  return std::nullopt;
}

std::optional<std::string> read_qr(simdjson::dom::object data, SinkEvent& event) {
  auto code = text(data, "qr_code", kMaxUtf8 * 256);
  if (!code) return code.error() + " on a QR event";
  event.qr_code = std::move(code.value());
  return std::nullopt;
}

}  // namespace

Result<SinkEvent, std::string> SinkEventParser::parse(std::string_view json) {
  simdjson::dom::element root;
  if (auto error = parser_.parse(json.data(), json.size()).get(root); error) {
    return Error{std::string("not JSON: ") + simdjson::error_message(error)};
  }
  simdjson::dom::object envelope;
  if (root.get_object().get(envelope) != simdjson::SUCCESS) return Error{"not a JSON object"};
  std::string_view kind;
  if (envelope["event_type"].get_string().get(kind) != simdjson::SUCCESS ||
      kind != "CustomerIdentified") {
    return Error{"'event_type' is not CustomerIdentified"};
  }
  std::string_view version;
  if (envelope["version"].get_string().get(version) != simdjson::SUCCESS || version != "v1") {
    return Error{"'version' is not v1"};
  }
  simdjson::dom::object data;
  if (envelope["data"].get_object().get(data) != simdjson::SUCCESS) {
    return Error{"'data' is missing or not an object"};
  }

  SinkEvent event;
  if (auto problem = read_common(envelope, data, event)) return Error{std::move(*problem)};
  std::optional<std::string> problem;
  if (event.source == "beacon") {
    problem = read_beacon(data, event);
  } else if (event.source == "qr") {
    problem = read_qr(data, event);
  } else {
    problem = "'source' is not beacon or qr";
  }
  if (problem) return Error{std::move(*problem)};
  return event;
}

}  // namespace tastesync
