#include "rpc/sighting_json.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace tastesync {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void text(Writer& writer, const char* key, const std::string& value) {
  writer.Key(key);
  writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

std::string sighting_json(const v1::Sighting& sighting) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartObject();
  if (sighting.has_sighting_id()) text(writer, "sighting_id", sighting.sighting_id());
  if (sighting.has_customer_id()) text(writer, "customer_id", sighting.customer_id());
  if (sighting.has_source()) text(writer, "source", sighting.source());
  if (sighting.has_beacon()) {
    const v1::Beacon& beacon = sighting.beacon();
    writer.Key("beacon");
    writer.StartObject();
    if (beacon.has_uuid()) text(writer, "uuid", beacon.uuid());
    const auto integer = [&](const char* key, bool present, std::int64_t value) {
      if (!present) return;
      writer.Key(key);
      writer.Int64(value);
    };
    integer("major", beacon.has_major(), beacon.major());
    integer("minor", beacon.has_minor(), beacon.minor());
    integer("rssi", beacon.has_rssi(), beacon.rssi());
    integer("tx_power", beacon.has_tx_power(), beacon.tx_power());
    writer.EndObject();
  }
  if (sighting.has_qr()) {
    writer.Key("qr");
    writer.StartObject();
    if (sighting.qr().has_code()) text(writer, "code", sighting.qr().code());
    writer.EndObject();
  }
  if (sighting.has_detected_at()) text(writer, "detected_at", sighting.detected_at());
  if (sighting.has_device()) {
    writer.Key("device");
    writer.StartObject();
    if (sighting.device().has_platform()) text(writer, "platform", sighting.device().platform());
    writer.EndObject();
  }
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace tastesync
