// The parse stage (docs/contract.md#parse, #sighting-errors). Over 400 lines because it is one
// walk over one document: the member table, the duplicate-key and unknown-member checks, and the
// beacon and QR readers share the parser's state, and splitting them would spread one record's
// checks over files a reviewer must read together.
#include "stages/parse.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <vector>

#include "common/erasure.hpp"
#include "stages/id_hash.hpp"
#include "stages/parse_text.hpp"

namespace tastesync {
namespace {

using parse_text::count_code_points;
using parse_text::has_control_character;
using parse_text::quoted;
using parse_text::type_name;
using parse_text::wrong_type;

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr std::size_t kMaxIdCodePoints = 64;
constexpr std::size_t kMaxQrCodePoints = 256;
constexpr std::int64_t kMinRssiDbm = -100;
constexpr std::int64_t kMaxRssiDbm = -1;
constexpr std::int64_t kMaxBeaconNumber = 65535;
// Objects up to this many keys are checked for duplicates pairwise; larger ones are sorted.
constexpr std::size_t kPairwiseKeyLimit = 16;

constexpr std::array<std::string_view, kParseErrorCodeCount> kCodeNames = {
    "invalid_json", "missing_field", "wrong_type",        "out_of_range",
    "bad_uuid",     "bad_timestamp", "too_far_in_future", "too_old",
    "too_large",    "invalid_utf8",  "unknown_source",    "key_mismatch",
};
static_assert(static_cast<std::size_t>(ParseErrorCode::key_mismatch) + 1 == kParseErrorCodeCount);

Failure<ParseError> fail(ParseErrorCode code, std::string message) {
  return Failure{ParseError{code, std::move(message)}};
}

// The object a member belongs to, and how the walk treats an object value.
enum class ObjectKind : std::uint8_t { root, beacon, qr, device, other };

// The members parse reads, in the order of kMembers.
enum class Member : std::uint8_t {
  sighting_id,
  customer_id,
  source,
  beacon,
  qr,
  detected_at,
  device,
  beacon_uuid,
  beacon_major,
  beacon_minor,
  beacon_rssi,
  beacon_tx_power,
  qr_code,
  device_platform
};
constexpr std::size_t kMemberCount = 14;

struct MemberSpec {
  std::string_view key;
  std::string_view path;  // names the member in error messages
  ObjectKind parent;
  ObjectKind kind;  // how the walk treats the member's value if it is an object
};

constexpr std::array<MemberSpec, kMemberCount> kMembers = {{
    {"sighting_id", "sighting_id", ObjectKind::root, ObjectKind::other},
    {"customer_id", "customer_id", ObjectKind::root, ObjectKind::other},
    {"source", "source", ObjectKind::root, ObjectKind::other},
    {"beacon", "beacon", ObjectKind::root, ObjectKind::beacon},
    {"qr", "qr", ObjectKind::root, ObjectKind::qr},
    {"detected_at", "detected_at", ObjectKind::root, ObjectKind::other},
    {"device", "device", ObjectKind::root, ObjectKind::device},
    {"uuid", "beacon.uuid", ObjectKind::beacon, ObjectKind::other},
    {"major", "beacon.major", ObjectKind::beacon, ObjectKind::other},
    {"minor", "beacon.minor", ObjectKind::beacon, ObjectKind::other},
    {"rssi", "beacon.rssi", ObjectKind::beacon, ObjectKind::other},
    {"tx_power", "beacon.tx_power", ObjectKind::beacon, ObjectKind::other},
    {"code", "qr.code", ObjectKind::qr, ObjectKind::other},
    {"platform", "device.platform", ObjectKind::device, ObjectKind::other},
}};

constexpr std::size_t index_of(Member member) {
  return static_cast<std::size_t>(member);
}
static_assert(kMembers[index_of(Member::device_platform)].path == "device.platform");
static_assert(kMembers[index_of(Member::beacon_uuid)].path == "beacon.uuid");

// Compares the keys that are not members (duplicate_key_from); members are found by their slot,
// below. Keys are short and mostly differ early: a byte loop that stops at the first difference
// was cheaper than a call to memcmp.
bool same_key(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// kMembers lists each parent's members together; these are their [first, last) ranges.
struct MemberRange {
  std::size_t first = 0;
  std::size_t last = 0;
};

constexpr MemberRange members_of(ObjectKind parent) {
  MemberRange range;
  while (range.first < kMembers.size() && kMembers[range.first].parent != parent) ++range.first;
  range.last = range.first;
  while (range.last < kMembers.size() && kMembers[range.last].parent == parent) ++range.last;
  return range;
}

constexpr std::array<MemberRange, 4> kMemberRanges = {
    members_of(ObjectKind::root), members_of(ObjectKind::beacon), members_of(ObjectKind::qr),
    members_of(ObjectKind::device)};
static_assert(kMemberRanges[3].last == kMemberCount);

// A key's slot in its object's table of members: from its length and first two bytes, which
// tell apart the members of each object (checked below). Finding a key's member is one read of
// the table and one comparison of the candidate in words. A scan of the object's members by
// these three values was about half of the parse's walk (docs/bench.md#issue-17-24); a byte
// loop over every member's key before it, a quarter (docs/bench.md#issue-17-15).
constexpr std::size_t kMemberSlots = 16;

constexpr std::size_t slot_of(std::size_t size, char first, char second) {
  return (size + static_cast<unsigned char>(first) + static_cast<unsigned char>(second)) %
         kMemberSlots;
}

// Members' keys are 2 to 16 bytes: slot_of reads two, same_short_key compares up to 16.
constexpr std::size_t kMinMemberKey = 2;
constexpr std::size_t kMaxMemberKey = 16;
static_assert(std::ranges::all_of(kMembers, [](const MemberSpec& m) {
  return m.key.size() >= kMinMemberKey && m.key.size() <= kMaxMemberKey;
}));

// kMemberSlotTables[parent][slot]: the member of `parent` in that slot, or kMemberCount.
using MemberSlotTable = std::array<std::uint8_t, kMemberSlots>;
constexpr std::array<MemberSlotTable, kMemberRanges.size()> kMemberSlotTables = [] {
  std::array<MemberSlotTable, kMemberRanges.size()> tables{};
  for (MemberSlotTable& table : tables) table.fill(kMemberCount);
  for (std::size_t parent = 0; parent < kMemberRanges.size(); ++parent) {
    for (std::size_t i = kMemberRanges[parent].first; i < kMemberRanges[parent].last; ++i) {
      const std::string_view key = kMembers[i].key;
      tables[parent][slot_of(key.size(), key[0], key[1])] = static_cast<std::uint8_t>(i);
    }
  }
  return tables;
}();

// Every member kept its slot: none was overwritten by another of the same object.
constexpr bool slots_tell_members_apart() {
  std::size_t placed = 0;
  for (const MemberSlotTable& table : kMemberSlotTables) {
    placed += static_cast<std::size_t>(
        std::ranges::count_if(table, [](std::uint8_t member) { return member != kMemberCount; }));
  }
  return placed == kMemberCount;
}
static_assert(slots_tell_members_apart());

template <typename Word>
Word load(const char* bytes) {
  Word word;
  std::memcpy(&word, bytes, sizeof word);
  return word;
}

// Two overlapping loads from each end cover any length from 2 to 2 * sizeof(Word).
template <typename Word>
bool same_ends(const char* a, const char* b, std::size_t size) {
  return load<Word>(a) == load<Word>(b) &&
         load<Word>(a + size - sizeof(Word)) == load<Word>(b + size - sizeof(Word));
}

// `a` and `b` are the same size, 2 to 16 bytes (a member key's).
bool same_short_key(const char* a, const char* b, std::size_t size) {
  if (size >= 8) return same_ends<std::uint64_t>(a, b, size);
  if (size >= 4) return same_ends<std::uint32_t>(a, b, size);
  return same_ends<std::uint16_t>(a, b, size);
}

std::optional<std::size_t> member_named(ObjectKind parent, std::string_view key) {
  if (key.size() < kMinMemberKey || key.size() > kMaxMemberKey) return std::nullopt;
  const std::size_t candidate =
      kMemberSlotTables[static_cast<std::size_t>(parent)][slot_of(key.size(), key[0], key[1])];
  if (candidate == kMemberCount || kMembers[candidate].key.size() != key.size() ||
      !same_short_key(kMembers[candidate].key.data(), key.data(), key.size())) {
    return std::nullopt;
  }
  return candidate;
}

bool is_container(element value) {
  const element_type type = value.type();
  return type == element_type::OBJECT || type == element_type::ARRAY;
}

// Saturating, so that a hostile record timestamp near the int64 limits cannot overflow.
EpochMs add_saturating(EpochMs a, std::int64_t b) {
  EpochMs sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<EpochMs>::max() : std::numeric_limits<EpochMs>::min();
}

EpochMs subtract_saturating(EpochMs a, std::int64_t b) {
  EpochMs difference = 0;
  if (!__builtin_sub_overflow(a, b, &difference)) return difference;
  return b > 0 ? std::numeric_limits<EpochMs>::min() : std::numeric_limits<EpochMs>::max();
}

// The errors of the member readers below, built out of their way: every valid record passes
// through them a dozen times.
[[gnu::cold]] ParseError missing(std::string_view path) {
  return ParseError{ParseErrorCode::missing_field, std::string(path) + ": missing"};
}

[[gnu::cold]] ParseError not_a(std::string_view path, std::string_view expected, element value) {
  return ParseError{ParseErrorCode::wrong_type, wrong_type(path, expected, value)};
}

// Why `value` is not an integer in [min, max].
[[gnu::cold]] ParseError integer_error(std::string_view path, element value, std::int64_t min,
                                       std::int64_t max) {
  std::int64_t number = 0;
  std::uint64_t big_number = 0;  // simdjson stores only integers above INT64_MAX as UINT64
  std::string shown;
  if (value.get(number) == simdjson::SUCCESS) {
    shown = std::to_string(number);
  } else if (value.type() == element_type::UINT64 && value.get(big_number) == simdjson::SUCCESS) {
    shown = std::to_string(big_number);
  } else {
    return not_a(path, "an integer", value);
  }
  return ParseError{ParseErrorCode::out_of_range, std::string(path) + ": " + shown +
                                                      " is outside " + std::to_string(min) + ".." +
                                                      std::to_string(max)};
}

}  // namespace

std::string_view parse_error_code_name(ParseErrorCode code) {
  const auto index = static_cast<std::size_t>(code);
  return index < kCodeNames.size() ? kCodeNames[index] : std::string_view("unknown");
}

struct SightingParser::Impl {
  explicit Impl(ParseOptions parse_options);
  Result<Sighting, ParseError> parse(const RecordView& record);

  std::optional<std::string_view> walk(element value, ObjectKind kind);
  std::optional<std::string_view> duplicate_key_from(std::size_t first);

  using Error = std::optional<ParseError>;
  std::optional<element> find(Member member, bool required, Error& error) const;
  bool check_object(Member member, bool required, Error& error) const;
  std::optional<std::string_view> read_string(Member member, bool required, Error& error) const;
  std::optional<std::string_view> read_bounded_string(Member member, std::size_t max_code_points,
                                                      Error& error) const;
  // False when the member is absent and optional, or wrong (then `error` says why). Not an
  // optional: one assembled in memory and read back whole stalled every call (a failed store
  // forward, docs/bench.md#issue-17-15).
  bool read_integer(Member member, bool required, std::int64_t min, std::int64_t max,
                    std::int64_t& out, Error& error) const;
  Error read_beacon(BeaconReading& out) const;
  Error read_qr(std::string_view& out) const;
  Error read_detected_at(const RecordView& record, EpochMs& out) const;

  ParseOptions options_;
  std::unique_ptr<char[]> buffer_;  // max_record_bytes + SIMDJSON_PADDING, reused
  simdjson::dom::parser json_;
  std::vector<std::string_view> keys_;  // the walk's stack of the open objects' other keys
  std::array<element, kMemberCount> members_{};
  std::uint32_t found_ = 0;  // bit i: kMembers[i] is in this record
};

SightingParser::Impl::Impl(ParseOptions parse_options)
    : options_(parse_options),
      buffer_(std::make_unique<char[]>(options_.max_record_bytes + simdjson::SIMDJSON_PADDING)) {
  // Parsing max_record_bytes of blanks makes simdjson size its document and tape for the largest
  // record now (and then report EMPTY), instead of growing them on the hot path.
  std::memset(buffer_.get(), ' ', options_.max_record_bytes);
  const auto warm_up = json_.parse(buffer_.get(), options_.max_record_bytes, false).error();
  if (warm_up == simdjson::MEMALLOC) throw std::bad_alloc();
  // A key takes at least 4 bytes ("":0), so this bounds the keys of any accepted record.
  keys_.reserve(options_.max_record_bytes / 4 + 1);
}

// One pass over the document does two jobs: it rejects duplicate keys in every object at every
// level (compared after unescaping, so {"a":1,"\u0061":2} counts), and it records where the
// members parse reads are, so that no object is searched again. A member key can only equal the
// same member key, so members are checked through found_ and only the other keys are compared
// with each other: a record without unknown fields costs no comparisons. Returns a duplicate.
std::optional<std::string_view> SightingParser::Impl::walk(element value, ObjectKind kind) {
  simdjson::dom::array items;
  if (value.get(items) == simdjson::SUCCESS) {
    for (const element item : items) {
      if (!is_container(item)) continue;
      if (const auto duplicate = walk(item, ObjectKind::other)) return duplicate;
    }
    return std::nullopt;
  }
  object fields;
  if (value.get(fields) != simdjson::SUCCESS) return std::nullopt;

  const std::size_t first = keys_.size();
  for (auto field = fields.begin(), end = fields.end(); field != end; ++field) {
    const std::string_view key = field.key();
    const element field_value = field.value();
    ObjectKind field_kind = ObjectKind::other;
    const auto index = kind == ObjectKind::other ? std::nullopt : member_named(kind, key);
    if (index) {
      const std::uint32_t bit = 1U << *index;
      if ((found_ & bit) != 0) return key;
      found_ |= bit;
      members_[*index] = field_value;
      field_kind = kMembers[*index].kind;
    } else {
      keys_.push_back(key);
    }
    if (!is_container(field_value)) continue;
    if (const auto duplicate = walk(field_value, field_kind)) return duplicate;
  }
  // Fewer than two other keys (a sighting's objects, nearly always): nothing to compare.
  if (keys_.size() - first < 2) {
    keys_.resize(first);
    return std::nullopt;
  }
  const auto duplicate = duplicate_key_from(first);
  keys_.resize(first);
  return duplicate;
}

// The keys of one object are keys_[first, end).
std::optional<std::string_view> SightingParser::Impl::duplicate_key_from(std::size_t first) {
  const auto begin = keys_.begin() + static_cast<std::ptrdiff_t>(first);
  if (keys_.size() - first <= kPairwiseKeyLimit) {
    for (auto i = begin; i != keys_.end(); ++i) {
      for (auto j = begin; j != i; ++j) {
        if (same_key(*i, *j)) return *i;
      }
    }
    return std::nullopt;
  }
  std::sort(begin, keys_.end());
  const auto duplicate = std::adjacent_find(begin, keys_.end());
  if (duplicate == keys_.end()) return std::nullopt;
  return *duplicate;
}

// JSON null counts as absent for optional members (producers that serialise unset members as
// null are common) but is a wrong type for required ones: a producer bug worth seeing in the DLQ
// as such. nullopt with `error` unset: an optional member that is absent.
std::optional<element> SightingParser::Impl::find(Member member, bool required,
                                                  Error& error) const {
  const std::size_t index = index_of(member);
  if ((found_ & (1U << index)) == 0) {
    if (required) error = missing(kMembers[index].path);
    return std::nullopt;
  }
  if (!required && members_[index].is_null()) return std::nullopt;
  return members_[index];
}

bool SightingParser::Impl::check_object(Member member, bool required, Error& error) const {
  const auto value = find(member, required, error);
  if (!value) return false;
  if (value->type() == element_type::OBJECT) return true;
  error = not_a(kMembers[index_of(member)].path, "an object", *value);
  return false;
}

std::optional<std::string_view> SightingParser::Impl::read_string(Member member, bool required,
                                                                  Error& error) const {
  const auto value = find(member, required, error);
  if (!value) return std::nullopt;
  std::string_view text;
  if (value->get(text) == simdjson::SUCCESS) return text;
  error = not_a(kMembers[index_of(member)].path, "a string", *value);
  return std::nullopt;
}

std::optional<std::string_view> SightingParser::Impl::read_bounded_string(
    Member member, std::size_t max_code_points, Error& error) const {
  const auto text = read_string(member, true, error);
  if (!text) return std::nullopt;
  const std::size_t length = count_code_points(*text);
  if (length >= 1 && length <= max_code_points) return text;
  error = ParseError{ParseErrorCode::out_of_range,
                     std::string(kMembers[index_of(member)].path) + ": " + std::to_string(length) +
                         " characters, expected 1.." + std::to_string(max_code_points)};
  return std::nullopt;
}

// Integers only: 100.0 and 1e2 are numbers written as non-integers, a wrong type for a member
// that is an integer by definition. Integers beyond 64 bits never get here: simdjson rejects
// the whole document (invalid_json).
bool SightingParser::Impl::read_integer(Member member, bool required, std::int64_t min,
                                        std::int64_t max, std::int64_t& out, Error& error) const {
  const auto value = find(member, required, error);
  if (!value) return false;
  if (value->get(out) == simdjson::SUCCESS && out >= min && out <= max) return true;
  error = integer_error(kMembers[index_of(member)].path, *value, min, max);
  return false;
}

// Checks run in a fixed order so that a record with several faults always gets the same code:
//   too_large; invalid_utf8 (any invalid byte wins over invalid_json); invalid_json (syntax, not
//   one object, then duplicate keys); sighting_id; customer_id; key_mismatch; source;
//   beacon.{uuid, major, minor, rssi, tx_power} or qr.code; detected_at (its own format, then
//   the record timestamp's presence, then the skew window); device.platform.
Result<Sighting, ParseError> SightingParser::Impl::parse(const RecordView& record) {
  const std::string_view value = record.value;
  if (value.size() > options_.max_record_bytes) {
    return fail(ParseErrorCode::too_large, "record of " + std::to_string(value.size()) +
                                               " bytes exceeds " +
                                               std::to_string(options_.max_record_bytes));
  }
  if (!value.empty()) std::memcpy(buffer_.get(), value.data(), value.size());

  element root;
  if (const auto error = json_.parse(buffer_.get(), value.size(), false).get(root)) {
    // simdjson reports the first problem it meets; a record with invalid bytes is invalid_utf8
    // whatever else is wrong with it, so the code does not depend on where the bytes are.
    if (error == simdjson::UTF8_ERROR || !simdjson::validate_utf8(value.data(), value.size())) {
      return fail(ParseErrorCode::invalid_utf8, "record is not valid UTF-8");
    }
    return fail(ParseErrorCode::invalid_json,
                std::string("record is not valid JSON: ") + simdjson::error_message(error));
  }
  if (root.type() != element_type::OBJECT) {
    return fail(ParseErrorCode::invalid_json,
                "record is " + std::string(type_name(root)) + ", not an object");
  }
  keys_.clear();
  found_ = 0;
  if (const auto duplicate = walk(root, ObjectKind::root)) {
    return fail(ParseErrorCode::invalid_json, "duplicate key " + quoted(*duplicate));
  }

  Sighting sighting;
  Error error;
  const auto sighting_id = read_bounded_string(Member::sighting_id, kMaxIdCodePoints, error);
  if (!sighting_id) return Failure{std::move(*error)};
  sighting.sighting_id = *sighting_id;
  sighting.sighting_id_hash = sighting_id_hash(*sighting_id);

  const auto customer_id = read_bounded_string(Member::customer_id, kMaxIdCodePoints, error);
  if (!customer_id) return Failure{std::move(*error)};
  if (has_control_character(*customer_id)) {
    return fail(ParseErrorCode::out_of_range,
                "customer_id: " + quoted(*customer_id) + " contains a control character");
  }
  sighting.customer_id = *customer_id;
  sighting.customer_id_hash = customer_id_hash(*customer_id);

  if (!record.key) {
    return fail(ParseErrorCode::key_mismatch,
                "record has no key; customer_id is " + quoted(*customer_id));
  }
  if (*record.key != *customer_id) {
    return fail(ParseErrorCode::key_mismatch, "customer_id " + quoted(*customer_id) +
                                                  " differs from the record key " +
                                                  quoted(*record.key));
  }

  const auto source = read_string(Member::source, false, error);
  if (error) return Failure{std::move(*error)};
  if (!source || *source == "beacon") {
    sighting.source = Source::beacon;
    error = read_beacon(sighting.beacon);
  } else if (*source == "qr") {
    sighting.source = Source::qr;
    error = read_qr(sighting.qr_code);
  } else {
    return fail(ParseErrorCode::unknown_source,
                "source: " + quoted(*source) + " is neither \"beacon\" nor \"qr\"");
  }
  if (error) return Failure{std::move(*error)};

  error = read_detected_at(record, sighting.detected_at_ms);
  if (error) return Failure{std::move(*error)};

  if (check_object(Member::device, false, error)) {
    if (const auto platform = read_string(Member::device_platform, false, error)) {
      sighting.platform = *platform;
    }
  }
  if (error) return Failure{std::move(*error)};
  return sighting;
}

SightingParser::Impl::Error SightingParser::Impl::read_beacon(BeaconReading& out) const {
  Error error;
  if (!check_object(Member::beacon, true, error)) return error;

  const auto uuid_text = read_string(Member::beacon_uuid, true, error);
  if (!uuid_text) return error;
  const auto uuid = parse_uuid(*uuid_text);
  if (!uuid) {
    return ParseError{ParseErrorCode::bad_uuid,
                      "beacon.uuid: " + quoted(*uuid_text) + " is not a canonical 8-4-4-4-12 UUID"};
  }
  std::int64_t major = 0;
  if (!read_integer(Member::beacon_major, true, 0, kMaxBeaconNumber, major, error)) return error;
  std::int64_t minor = 0;
  if (!read_integer(Member::beacon_minor, true, 0, kMaxBeaconNumber, minor, error)) return error;
  std::int64_t rssi = 0;
  if (!read_integer(Member::beacon_rssi, true, kMinRssiDbm, kMaxRssiDbm, rssi, error)) {
    return error;
  }
  std::int64_t tx_power = 0;
  const bool has_tx_power =
      read_integer(Member::beacon_tx_power, false, kMinRssiDbm, kMaxRssiDbm, tx_power, error);
  if (error) return error;

  out.uuid = *uuid;
  out.major = static_cast<std::uint16_t>(major);
  out.minor = static_cast<std::uint16_t>(minor);
  out.rssi_dbm = static_cast<int>(rssi);
  out.tx_power_dbm.reset();
  if (has_tx_power) out.tx_power_dbm = static_cast<int>(tx_power);
  return std::nullopt;
}

SightingParser::Impl::Error SightingParser::Impl::read_qr(std::string_view& out) const {
  Error error;
  if (!check_object(Member::qr, true, error)) return error;
  const auto code = read_bounded_string(Member::qr_code, kMaxQrCodePoints, error);
  if (!code) return error;
  out = *code;
  return std::nullopt;
}

// The window is relative to the record's Kafka timestamp, never the wall clock, so a replay
// accepts and rejects exactly what the first run did.
SightingParser::Impl::Error SightingParser::Impl::read_detected_at(const RecordView& record,
                                                                   EpochMs& out) const {
  Error error;
  const auto text = read_string(Member::detected_at, true, error);
  if (!text) return error;
  const auto detected_at = parse_rfc3339(*text);
  if (!detected_at) {
    return ParseError{ParseErrorCode::bad_timestamp,
                      "detected_at: " + quoted(*text) + " is not an RFC 3339 date-time"};
  }
  if (!record.timestamp_ms) {
    return ParseError{ParseErrorCode::bad_timestamp,
                      "record has no timestamp to check detected_at against"};
  }
  const EpochMs timestamp = *record.timestamp_ms;
  if (*detected_at > add_saturating(timestamp, options_.max_future_skew_ms)) {
    return ParseError{ParseErrorCode::too_far_in_future,
                      "detected_at: " + format_canonical_string(*detected_at) + " is more than " +
                          std::to_string(options_.max_future_skew_ms) +
                          " ms after the record timestamp " + std::to_string(timestamp)};
  }
  if (*detected_at < subtract_saturating(timestamp, options_.max_past_skew_ms)) {
    return ParseError{ParseErrorCode::too_old,
                      "detected_at: " + format_canonical_string(*detected_at) + " is more than " +
                          std::to_string(options_.max_past_skew_ms) +
                          " ms before the record timestamp " + std::to_string(timestamp)};
  }
  out = *detected_at;
  return std::nullopt;
}

std::optional<ParseError> check_forget_request(const std::optional<std::string_view>& key,
                                               std::string_view request_id) {
  if (!valid_erasure_request_id(request_id)) {
    return ParseError{ParseErrorCode::out_of_range,
                      std::string(kForgetHeader) + " " + quoted(request_id) +
                          " is not a request id (1..64 printable ASCII characters)"};
  }
  if (!key) return ParseError{ParseErrorCode::key_mismatch, "erasure request has no key"};
  if (!simdjson::validate_utf8(key->data(), key->size())) {
    return ParseError{ParseErrorCode::invalid_utf8, "erasure request key is not valid UTF-8"};
  }
  const std::size_t length = count_code_points(*key);
  if (length < 1 || length > kMaxIdCodePoints || has_control_character(*key)) {
    return ParseError{ParseErrorCode::out_of_range,
                      "erasure request key " + quoted(*key) + " is not a customer id (1.." +
                          std::to_string(kMaxIdCodePoints) + " characters, no control character)"};
  }
  return std::nullopt;
}

std::optional<ParseError> timestamp_ahead_of_wall_clock(const RecordView& record, EpochMs now_ms,
                                                        const ParseOptions& options) {
  if (!record.timestamp_ms ||
      *record.timestamp_ms <= add_saturating(now_ms, options.max_future_skew_ms)) {
    return std::nullopt;
  }
  return ParseError{ParseErrorCode::too_far_in_future,
                    "record timestamp " + std::to_string(*record.timestamp_ms) + " is more than " +
                        std::to_string(options.max_future_skew_ms) +
                        " ms ahead of the wall clock " + std::to_string(now_ms)};
}

std::optional<ParseError> detected_at_ahead_of_wall_clock(const Sighting& sighting, EpochMs now_ms,
                                                          const ParseOptions& options) {
  if (sighting.detected_at_ms <= add_saturating(now_ms, options.max_future_skew_ms)) {
    return std::nullopt;
  }
  return ParseError{ParseErrorCode::too_far_in_future,
                    "detected_at: " + format_canonical_string(sighting.detected_at_ms) +
                        " is more than " + std::to_string(options.max_future_skew_ms) +
                        " ms ahead of the wall clock " + std::to_string(now_ms)};
}

SightingParser::SightingParser(ParseOptions options) : impl_(std::make_unique<Impl>(options)) {}

SightingParser::~SightingParser() = default;

Result<Sighting, ParseError> SightingParser::parse(const RecordView& record) {
  return impl_->parse(record);
}

}  // namespace tastesync
