#include "stages/emit.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace tastesync {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// The bytes rapidjson's Writer escapes in a UTF-8 string (its escape table: the control
// characters, the quote and the backslash); every other byte it copies as it is.
bool needs_escaping(std::string_view text) {
  bool escape = false;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    escape |= byte < 0x20 || byte == '"' || byte == '\\';
  }
  return escape;
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
  std::string out;  // the event, reused
  // A value rapidjson writes (a number, a string that needs escaping), reused.
  rapidjson::StringBuffer scratch;
  JsonWriter writer{scratch};

  // Text that is JSON as it stands (a key and its punctuation, a UUID, a time).
  void raw(std::string_view text) { out.append(text); }
  void quoted(std::string_view text) {
    out.push_back('"');
    out.append(text);
    out.push_back('"');
  }
  // A string from outside (an id, a name): quoted as it is when rapidjson would copy every byte,
  // else rapidjson's Writer escapes it.
  void string(std::string_view text) {
    if (!needs_escaping(text)) {
      quoted(text);
      return;
    }
    value([&] { writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size())); });
  }
  template <typename Write>
  void value(Write&& write) {
    scratch.Clear();
    writer.Reset(scratch);
    write();
    out.append(scratch.GetString(), scratch.GetSize());
  }
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

  // The document is the same, byte for byte, as rapidjson's Writer makes it member by member
  // (Emit.EventsAreWhatRapidjsonsWriterMakesOfThem), but its fixed parts are copied as they are:
  // the Writer's call and escape check per member and per byte were two thirds of an event's
  // cost (docs/bench.md#issue-17-19).
  w.out.clear();
  w.raw(R"({"event_id":)");
  w.quoted(event_id);
  w.raw(R"(,"event_type":"CustomerIdentified","timestamp":)");
  w.quoted({timestamp.data(), timestamp.size()});
  w.raw(R"(,"version":"v1","data":{"customer_id":)");
  w.string(sighting.customer_id);
  w.raw(R"(,"location":)");
  w.string(location.name);
  w.raw(R"(,"confidence":)");
  w.value([&] { w.writer.Double(identification.confidence); });
  if (identification.beacon != nullptr) {
    const BeaconEntry& beacon = *identification.beacon;
    const UuidText uuid = format_uuid(beacon.uuid);
    w.raw(R"(,"beacon":{"uuid":)");
    w.quoted({uuid.data(), uuid.size()});
    w.raw(R"(,"major":)");
    w.value([&] { w.writer.Uint(beacon.major); });
    w.raw(R"(,"minor":)");
    w.value([&] { w.writer.Uint(beacon.minor); });
    w.raw(R"(,"rssi":)");
    w.value([&] { w.writer.Int(identification.rssi_dbm); });
    w.raw("}");
  }
  w.raw(R"(,"detected_at":)");
  w.quoted({detected_at.data(), detected_at.size()});
  w.raw(R"(,"store_id":)");
  w.string(location.store_id);
  w.raw(R"(,"location_type":)");
  w.quoted(location_type_name(location.type));
  w.raw(R"(,"source":)");
  w.quoted(sighting.source == Source::qr ? "qr" : "beacon");
  if (identification.beacon != nullptr) {
    const UuidText beacon_id = format_uuid(identification.beacon->beacon_id);
    w.raw(R"(,"beacon_id":)");
    w.quoted({beacon_id.data(), beacon_id.size()});
  } else {
    w.raw(R"(,"qr_code":)");
    w.string(sighting.qr_code);
  }
  w.raw(R"(,"sighting_id":)");
  w.string(sighting.sighting_id);
  w.raw(R"(,"identification":)");
  w.quoted(identification_kind_name(kind));
  w.raw("}}");
  return Event{event_id, w.out};
}

}  // namespace tastesync
