// The whole record path on hostile input (docs/design.md, "Time that cannot be hijacked",
// "Bounded memory", "Dead letters that always fit"): a sequence of records — keys, values,
// record timestamps, headers, and the wall clock they meet — through Topology::process on one
// partition's state, and every dead letter through make_dead_letter. Invariants, checked on every
// input:
//   - nothing crashes, and every outcome is well formed (a dead letter has a code, an event has
//     an id and parses as JSON);
//   - the watermark never moves back and never passes the wall clock;
//   - live customers never exceed the cap;
//   - a dead letter (and its metadata-only form) always fits message.max.bytes;
//   - the same records give the same outcomes, also across an encode/decode of the state half
//     way (a restart).
#include <fuzzer/FuzzedDataProvider.h>
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "kafka/dead_letter.hpp"
#include "stages/topology.hpp"
#include "state/customer_state_codec.hpp"

namespace {

using namespace tastesync;

constexpr EpochMs kBaseMs = 1740916800000;  // 2025-03-02T12:00:00Z
constexpr std::size_t kCap = 4;             // customers per partition: small, so it binds
constexpr std::size_t kMaxRecords = 64;

void check(bool invariant) {
  if (!invariant) __builtin_trap();
}

std::shared_ptr<const Registry> fixture_registry() {
  std::ifstream file(std::string(TASTESYNC_FIXTURES_DIR) + "/registry.json");
  std::ostringstream text;
  text << file.rdbuf();
  auto registry = Registry::from_json(text.str());
  check(registry.ok());
  return *registry;
}

struct FuzzRecord {
  std::int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
  std::optional<EpochMs> timestamp_ms;
  std::vector<Header> headers;
  EpochMs now_ms = 0;
};

// Mostly near-valid sightings of a few customers at the fixtures' beacons, at times around a
// base, so the state path is reached; sometimes anything at all.
FuzzRecord next_record(FuzzedDataProvider& in, bool& big_header_left) {
  FuzzRecord record;
  const std::string customer = "c" + std::to_string(in.ConsumeIntegralInRange<int>(0, 15));
  const EpochMs t_ms = kBaseMs + in.ConsumeIntegralInRange<std::int64_t>(-600000, 7200000);
  if (in.ConsumeBool()) {
    record.value = in.ConsumeRandomLengthString(512);
  } else {
    const int minor = in.PickValueInArray({1, 11, 12, 13, 14, 20, 999});
    record.value = R"({"sighting_id":")" + in.ConsumeRandomLengthString(8) +
                   R"(","customer_id":")" + customer +
                   R"(","beacon":{"uuid":"550e8400-e29b-41d4-a716-446655440000","major":100,)"
                   R"("minor":)" +
                   std::to_string(minor) + R"(,"rssi":)" +
                   std::to_string(in.ConsumeIntegralInRange<int>(-100, -1)) +
                   R"(},"detected_at":")" + format_canonical_string(t_ms) + R"("})";
  }
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      break;  // no key
    case 1:
      record.key = in.ConsumeRandomLengthString(80);
      break;
    default:
      record.key = customer;
  }
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      break;  // no timestamp
    case 1:
      record.timestamp_ms = in.ConsumeIntegral<std::int64_t>();
      break;
    default:
      record.timestamp_ms = t_ms + in.ConsumeIntegralInRange<std::int64_t>(-400000, 400000);
  }
  const int header_count = in.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < header_count; ++i) {
    Header header{in.ConsumeBool() ? "dlq." + in.ConsumeRandomLengthString(12)
                                   : in.ConsumeRandomLengthString(16),
                  std::nullopt};
    if (big_header_left && in.ConsumeIntegralInRange<int>(0, 7) == 0) {
      // One large header an input at most (an original dlq.* one must not make even a
      // metadata-only dead letter too large).
      header.value = std::string(in.ConsumeIntegralInRange<std::size_t>(0, 1200000), 'h');
      big_header_left = false;
    } else if (in.ConsumeBool()) {
      header.value = in.ConsumeRandomLengthString(64);
    }
    record.headers.push_back(std::move(header));
  }
  record.now_ms = t_ms + in.ConsumeIntegralInRange<std::int64_t>(-600000, 600000);
  return record;
}

struct Observed {
  Outcome::Kind kind;
  DropReason reason;
  std::string event_id;
  bool operator==(const Observed&) const = default;
};

std::size_t live_customers(const Topology& topology, const PartitionState& partition) {
  const EpochMs horizon = topology.expiry_horizon(partition.watermark_ms());
  std::size_t live = 0;
  partition.for_each([&](const std::string&, const CustomerState& state) {
    live += state.last_activity_ms >= horizon && !partition.evicted(state);
  });
  return live;
}

// `ordered`: offsets have only increased so far (the pipeline stops a partition whose offsets go
// back; the cap is only promised for increasing ones, but nothing may crash either way).
Observed process(Topology& topology, PartitionState& partition, const FuzzRecord& record,
                 bool ordered, std::size_t max_message_bytes) {
  static simdjson::dom::parser reader;
  RecordView view;
  if (record.key) view.key = *record.key;
  view.value = record.value;
  view.timestamp_ms = record.timestamp_ms;
  view.offset = record.offset;
  const EpochMs watermark_before = partition.watermark_ms();
  const Outcome outcome = topology.process(view, partition, record.now_ms);
  check(partition.watermark_ms() >= watermark_before);
  check(partition.watermark_ms() <= std::max(watermark_before, record.now_ms));
  check(!ordered || live_customers(topology, partition) <= kCap);
  Observed observed{outcome.kind, outcome.drop_reason, std::string(outcome.event_id)};
  if (outcome.kind == Outcome::Kind::dead_letter) {
    check(outcome.error != nullptr);
    check(static_cast<std::size_t>(outcome.error->code) < kParseErrorCodeCount);
    RecordBytes bytes{view.key, record.value, {}};
    for (const Header& header : record.headers)
      bytes.headers.push_back({header.name, header.value});
    const DeadLetter letter = make_dead_letter(
        bytes,
        {{"dlq.error.code", std::string(parse_error_code_name(outcome.error->code))},
         {"dlq.error.message", bounded_reason(outcome.error->message)}},
        max_message_bytes);
    check(letter.wire_bytes() <= max_message_bytes);
    check(metadata_only(letter).wire_bytes() <= max_message_bytes);
  } else if (outcome.kind == Outcome::Kind::event) {
    check(outcome.event_id.size() == 36);
    simdjson::dom::element event;
    check(reader.parse(std::string(outcome.event_value)).get(event) == simdjson::SUCCESS);
  }
  return observed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::shared_ptr<const Registry> registry = fixture_registry();
  FuzzedDataProvider in(data, size);
  TopologyOptions options;
  options.max_customers_per_partition = kCap;
  const std::size_t max_message_bytes = in.ConsumeIntegralInRange<std::size_t>(4096, 1000000);
  std::vector<FuzzRecord> records;
  std::vector<bool> ordered;  // per record: offsets increased up to it
  std::int64_t offset = 0;
  bool big_header_left = true;
  while (in.remaining_bytes() > 0 && records.size() < kMaxRecords) {
    // Gaps (compaction, transaction markers), and now and then a jump back (a log truncated).
    const bool back = in.ConsumeIntegralInRange<int>(0, 31) == 0;
    offset = back ? in.ConsumeIntegralInRange<std::int64_t>(0, offset)
                  : offset + in.ConsumeIntegralInRange<std::int64_t>(1, 3);
    ordered.push_back((ordered.empty() || ordered.back()) && !back);
    records.push_back(next_record(in, big_header_left));
    records.back().offset = offset;
  }

  Topology straight_topology(registry, options);
  PartitionState straight;
  std::vector<Observed> reference;
  for (std::size_t i = 0; i < records.size(); ++i) {
    reference.push_back(
        process(straight_topology, straight, records[i], ordered[i], max_message_bytes));
  }

  // The same records with a restart half way: state encoded and decoded, progress restored.
  Topology first_topology(registry, options);
  PartitionState first;
  const std::size_t half = records.size() / 2;
  for (std::size_t i = 0; i < half; ++i) {
    check(process(first_topology, first, records[i], ordered[i], max_message_bytes) ==
          reference[i]);
  }
  // What StateStore::restore loads: customers neither expired nor evicted.
  PartitionState restored;
  restored.restore_progress(first.progress());
  const EpochMs horizon = first_topology.expiry_horizon(first.watermark_ms());
  first.for_each([&](const std::string& id, const CustomerState& state) {
    if (state.last_activity_ms < horizon || first.evicted(state)) return;
    std::string bytes;
    encode_customer_state(state, bytes);
    CustomerState decoded;
    check(decode_customer_state(bytes, decoded));
    decoded.seen = state.seen;  // kept apart in RocksDB, restored beside the state
    restored.insert(id, std::move(decoded));
  });
  Topology second_topology(registry, options);
  second_topology.normalize_restored(restored);
  for (std::size_t i = half; i < records.size(); ++i) {
    check(process(second_topology, restored, records[i], ordered[i], max_message_bytes) ==
          reference[i]);
  }
  return 0;
}
