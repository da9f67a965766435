#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "stages/emit.hpp"
#include "stages/parse.hpp"
#include "tests/fuzz/fuzz_record.hpp"

// Whatever a valid sighting carries (quotes, backslashes, control characters in sighting_id,
// any UTF-8), the event written for it is one valid JSON document whose strings read back
// exactly, with the event id docs/contract.md#event-id defines. Inputs use parse_fuzz's layout,
// so its corpus seeds this target too.
namespace {

void check(bool invariant) {
  if (!invariant) __builtin_trap();
}

std::string_view field(simdjson::dom::element element, const char* name) {
  std::string_view value;
  check(element[name].get_string().get(value) == simdjson::SUCCESS);
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static tastesync::SightingParser parser;
  static tastesync::EventWriter writer;
  static simdjson::dom::parser reader;

  const tastesync::fuzz::Record record = tastesync::fuzz::decode(data, size);
  const auto parsed =
      parser.parse(tastesync::RecordView{record.key, record.value, record.timestamp_ms});
  if (!parsed.ok()) return 0;
  const tastesync::Sighting& sighting = *parsed;

  // Names from the input too (valid UTF-8, as the registry's are), to exercise their escaping.
  const tastesync::Location location{std::string(sighting.customer_id),
                                     std::string(sighting.sighting_id),
                                     tastesync::LocationType::table};
  tastesync::BeaconEntry beacon;
  beacon.uuid = sighting.beacon.uuid;
  beacon.major = sighting.beacon.major;
  beacon.minor = sighting.beacon.minor;
  const bool is_qr = sighting.source == tastesync::Source::qr;
  const tastesync::Identification identification{0, &location, is_qr ? nullptr : &beacon,
                                                 sighting.beacon.rssi_dbm,
                                                 tastesync::round_confidence(0.9)};
  const auto event = writer.write(sighting, identification, tastesync::IdentificationKind::arrival,
                                  sighting.detected_at_ms);

  simdjson::dom::element document;
  check(reader.parse(event.value.data(), event.value.size()).get(document) == simdjson::SUCCESS);
  check(field(document, "event_id") == event.event_id);
  const auto expected_id = tastesync::format_uuid_string(
      tastesync::event_id_for(sighting.customer_id, location.store_id, location.name,
                              sighting.detected_at_ms, sighting.sighting_id));
  check(event.event_id == expected_id);
  simdjson::dom::element payload;
  check(document["data"].get(payload) == simdjson::SUCCESS);
  check(field(payload, "customer_id") == sighting.customer_id);
  check(field(payload, "sighting_id") == sighting.sighting_id);
  check(field(payload, "location") == location.name);
  check(field(payload, "store_id") == location.store_id);
  check(field(payload, "detected_at") ==
        tastesync::format_canonical_string(sighting.detected_at_ms));
  if (is_qr) {
    check(field(payload, "qr_code") == sighting.qr_code);
  } else {
    std::int64_t rssi = 0;
    check(payload["beacon"]["rssi"].get_int64().get(rssi) == simdjson::SUCCESS);
    check(rssi == sighting.beacon.rssi_dbm);
  }
  return 0;
}
