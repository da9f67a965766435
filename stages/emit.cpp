#include "stages/emit.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace tastesync {
namespace {

void key(rapidjson::Writer<rapidjson::StringBuffer>& writer, std::string_view name) {
  writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
}

void string(rapidjson::Writer<rapidjson::StringBuffer>& writer, std::string_view value) {
  writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

// The UUID v5 name of docs/contract.md#event-id, built into a reused buffer.
void event_id_name(std::string& name, std::string_view customer_id, std::string_view store_id,
                   std::string_view location, const CanonicalTime& detected_at,
                   std::string_view sighting_id) {
  name.clear();
  name.append(customer_id).append("\n").append(store_id).append("\n").append(location);
  name.append("\n").append(detected_at.data(), detected_at.size()).append("\n").append(sighting_id);
}

}  // namespace

struct EventWriter::Impl {
  UuidV5Maker event_id_of;
  std::string name;  // the UUID v5 name, reused
  UuidText event_id{};
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buffer};
};

EventWriter::EventWriter() : impl_(std::make_unique<Impl>()) {}
EventWriter::~EventWriter() = default;

Uuid event_id_for(std::string_view customer_id, std::string_view store_id,
                  std::string_view location, EpochMs detected_at_ms, std::string_view sighting_id) {
  std::string name;
  event_id_name(name, customer_id, store_id, location, format_canonical(detected_at_ms),
                sighting_id);
  return uuid_v5(kEventIdNamespace, name);
}

EventWriter::Event EventWriter::write(const Sighting& sighting,
                                      const Identification& identification, IdentificationKind kind,
                                      EpochMs emitted_at_ms) {
  Impl& w = *impl_;
  const Location& location = *identification.location;
  const CanonicalTime detected_at = format_canonical(sighting.detected_at_ms);
  const CanonicalTime timestamp = format_canonical(emitted_at_ms);

  event_id_name(w.name, sighting.customer_id, location.store_id, location.name, detected_at,
                sighting.sighting_id);
  w.event_id = format_uuid(w.event_id_of(kEventIdNamespace, w.name));
  const std::string_view event_id(w.event_id.data(), w.event_id.size());

  w.buffer.Clear();
  w.writer.Reset(w.buffer);
  auto& out = w.writer;
  out.StartObject();
  key(out, "event_id");
  string(out, event_id);
  key(out, "event_type");
  string(out, "CustomerIdentified");
  key(out, "timestamp");
  string(out, {timestamp.data(), timestamp.size()});
  key(out, "version");
  string(out, "v1");
  key(out, "data");
  out.StartObject();
  key(out, "customer_id");
  string(out, sighting.customer_id);
  key(out, "location");
  string(out, location.name);
  key(out, "confidence");
  out.Double(identification.confidence);
  if (identification.beacon != nullptr) {
    const BeaconEntry& beacon = *identification.beacon;
    const UuidText uuid = format_uuid(beacon.uuid);
    key(out, "beacon");
    out.StartObject();
    key(out, "uuid");
    string(out, {uuid.data(), uuid.size()});
    key(out, "major");
    out.Uint(beacon.major);
    key(out, "minor");
    out.Uint(beacon.minor);
    key(out, "rssi");
    out.Int(identification.rssi_dbm);
    out.EndObject();
  }
  key(out, "detected_at");
  string(out, {detected_at.data(), detected_at.size()});
  key(out, "store_id");
  string(out, location.store_id);
  key(out, "location_type");
  string(out, location_type_name(location.type));
  key(out, "source");
  string(out, sighting.source == Source::qr ? "qr" : "beacon");
  if (identification.beacon != nullptr) {
    const UuidText beacon_id = format_uuid(identification.beacon->beacon_id);
    key(out, "beacon_id");
    string(out, {beacon_id.data(), beacon_id.size()});
  } else {
    key(out, "qr_code");
    string(out, sighting.qr_code);
  }
  key(out, "sighting_id");
  string(out, sighting.sighting_id);
  key(out, "identification");
  string(out, identification_kind_name(kind));
  out.EndObject();
  out.EndObject();
  return Event{event_id, {w.buffer.GetString(), w.buffer.GetSize()}};
}

}  // namespace tastesync
