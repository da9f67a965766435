// The parse stage's cases, one per rule of docs/contract.md#sighting and #sighting-errors.
// Over 400 lines because every error code and edge of the schema has its own named test.
#include "stages/parse.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cctype>
#include <fstream>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "stages/id_hash.hpp"

namespace tastesync {
namespace {

constexpr std::string_view kKey = "cust123";
constexpr std::int64_t kRecordTimestampMs = 1740916800500;  // 2025-03-02T12:00:00.500Z
constexpr std::string_view kValid =
    R"({"sighting_id": "s-1", "customer_id": "cust123", "source": "beacon", )"
    R"("beacon": {"uuid": "550e8400-e29b-41d4-a716-446655440000", "major": 100, "minor": 13, )"
    R"("rssi": -50, "tx_power": -59}, "detected_at": "2025-03-02T12:00:00.123Z", )"
    R"("device": {"platform": "ios"}})";
constexpr std::string_view kBeaconObject =
    R"({"uuid": "550e8400-e29b-41d4-a716-446655440000", "major": 100, "minor": 13, )"
    R"("rssi": -50, "tx_power": -59})";
constexpr std::string_view kValidQr =
    R"({"sighting_id": "q-1", "customer_id": "cust123", "source": "qr", )"
    R"("qr": {"code": "TS-store100-T3"}, "detected_at": "2025-03-02T12:00:00.123Z"})";

// `base` with the first `from` replaced by `to`; throws (a test failure) if `from` is absent,
// so a typo cannot turn a test into one that checks the unmodified record.
std::string with(std::string_view base, std::string_view from, std::string_view to) {
  const std::size_t at = base.find(from);
  if (at == std::string_view::npos) throw std::logic_error("not in record: " + std::string(from));
  return std::string(base.substr(0, at)) + std::string(to) +
         std::string(base.substr(at + from.size()));
}

// `base` with `fields` added as its first members.
std::string with_fields(std::string_view base, std::string_view fields) {
  return "{" + std::string(fields) + ", " + std::string(base.substr(1));
}

std::string repeat(std::string_view text, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += text;
  return out;
}

std::string numbered_keys(std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    out += (i ? ", \"k" : "\"k") + std::to_string(i) + "\": 0";
  }
  return out;
}

std::string nested_objects(std::size_t depth, std::string_view innermost) {
  return repeat(R"({"x": )", depth) + std::string(innermost) + repeat("}", depth);
}

std::string describe(const Result<Sighting, ParseError>& result) {
  if (result.ok()) return "parsed ok";
  return std::string(parse_error_code_name(result.error().code)) + ": " + result.error().message;
}

class Parse : public testing::Test {
 protected:
  Result<Sighting, ParseError> parse(
      std::string_view value, std::optional<std::string_view> key = kKey,
      std::optional<std::int64_t> timestamp_ms = kRecordTimestampMs) {
    return parser_.parse(RecordView{key, value, timestamp_ms});
  }

  testing::AssertionResult fails_with(ParseErrorCode expected, std::string_view value,
                                      std::optional<std::string_view> key = kKey) {
    const auto result = parse(value, key);
    if (!result.ok() && result.error().code == expected) return testing::AssertionSuccess();
    return testing::AssertionFailure()
           << "expected " << parse_error_code_name(expected) << ", got " << describe(result);
  }

  // The sighting, or nullopt and a test failure naming the error.
  std::optional<Sighting> accepted(std::string_view value,
                                   std::optional<std::string_view> key = kKey,
                                   std::int64_t timestamp_ms = kRecordTimestampMs) {
    auto result = parse(value, key, timestamp_ms);
    if (result.ok()) return *result;
    ADD_FAILURE() << describe(result);
    return std::nullopt;
  }

  SightingParser parser_;
};

TEST_F(Parse, ValidRecordGivesEveryField) {
  const auto s = accepted(kValid);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->sighting_id, "s-1");
  EXPECT_EQ(s->customer_id, "cust123");
  EXPECT_EQ(s->source, Source::beacon);
  EXPECT_EQ(format_uuid_string(s->beacon.uuid), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(s->beacon.major, 100);
  EXPECT_EQ(s->beacon.minor, 13);
  EXPECT_EQ(s->beacon.rssi_dbm, -50);
  EXPECT_EQ(s->beacon.tx_power_dbm, -59);
  EXPECT_EQ(format_canonical_string(s->detected_at_ms), "2025-03-02T12:00:00.123Z");
  EXPECT_EQ(s->platform, "ios");
  // The hashes the state takes them by, computed with the parse (docs/design.md#parse-ahead).
  EXPECT_EQ(s->sighting_id_hash, sighting_id_hash("s-1"));
  EXPECT_EQ(s->customer_id_hash, customer_id_hash("cust123"));
}

TEST_F(Parse, ValidQrScanGivesCode) {
  const auto s = accepted(kValidQr);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->source, Source::qr);
  EXPECT_EQ(s->qr_code, "TS-store100-T3");
  EXPECT_EQ(s->platform, "");
}

TEST_F(Parse, TopLevelScalarIsInvalidJson) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json, R"("cust123")"));
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json, "42"));
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json, "null"));
}

TEST_F(Parse, WhitespaceOnlyIsInvalidJson) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json, " \n\t "));
}

TEST_F(Parse, SurroundingWhitespaceIsAccepted) {
  EXPECT_TRUE(accepted(" \n" + std::string(kValid) + "\r\n"));
}

TEST_F(Parse, DuplicateKeyInNestedObjectIsInvalidJson) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json,
                         with(kValid, R"("rssi": -50)", R"("rssi": -50, "rssi": -60)")));
}

TEST_F(Parse, DuplicateKeyInUnknownArrayOfObjectsIsInvalidJson) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json,
                         with_fields(kValid, R"("extra": [{"a": 1}, {"b": 1, "b": 2}])")));
}

TEST_F(Parse, DuplicateKeyAfterUnescapingIsInvalidJson) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json,
                         with_fields(kValid, R"("customer\u005fid": "cust123")")));
}

TEST_F(Parse, DuplicateUnknownKeyIsInvalidJson) {
  EXPECT_TRUE(
      fails_with(ParseErrorCode::invalid_json, with_fields(kValid, R"("x": 1, "y": 2, "x": 3)")));
}

TEST_F(Parse, DuplicateMemberWithAnotherTypeIsInvalidJson) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json, with_fields(kValid, R"("beacon": 5)")));
}

TEST_F(Parse, DuplicateKeyInsideAnUnusedQrObjectIsInvalidJson) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json,
                         with_fields(kValid, R"("qr": {"code": "a", "code": "b"})")));
}

TEST_F(Parse, DuplicateKeyAmongManyKeysIsInvalidJson) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json,
                         with_fields(kValid, numbered_keys(40) + R"(, "k7": 1)")));
}

TEST_F(Parse, ManyDistinctKeysAreAccepted) {
  EXPECT_TRUE(accepted(with_fields(kValid, numbered_keys(40))));
}

TEST_F(Parse, SameKeyInSiblingObjectsIsAccepted) {
  EXPECT_TRUE(accepted(with_fields(kValid, R"("x": {"rssi": 1}, "y": {"rssi": 2})")));
}

TEST_F(Parse, MalformedValueInUnknownFieldIsInvalidJson) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json, with_fields(kValid, R"("x": 01)")));
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json, with_fields(kValid, R"("x": [1, 2,])")));
}

// simdjson cannot represent integers beyond 64 bits and rejects the document.
TEST_F(Parse, IntegerBeyond64BitsIsInvalidJson) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json,
                         with_fields(kValid, R"("x": 99999999999999999999)")));
}

TEST_F(Parse, LoneSurrogateEscapeIsInvalidJson) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json, with(kValid, "s-1", R"(s\ud800)")));
}

TEST_F(Parse, DeeplyNestedUnknownObjectsAreIgnored) {
  EXPECT_TRUE(accepted(with_fields(kValid, R"("x": )" + nested_objects(500, "[true]"))));
}

TEST_F(Parse, DuplicateKeyDeepInUnknownObjectsIsInvalidJson) {
  EXPECT_TRUE(
      fails_with(ParseErrorCode::invalid_json,
                 with_fields(kValid, R"("x": )" + nested_objects(100, R"({"a":1,"a":1})"))));
}

TEST_F(Parse, InvalidUtf8InUnknownFieldIsInvalidUtf8) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_utf8, with_fields(kValid, "\"x\": \"\xC0\xAF\"")));
}

TEST_F(Parse, InvalidUtf8WinsOverBrokenJson) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_utf8, "{\"sighting_id\": \"\xFF"));
}

TEST_F(Parse, RecordOfExactlyMaxBytesIsAccepted) {
  std::string record = with_fields(kValid, R"("pad": "")");
  record = with(record, R"("pad": "")", "\"pad\": \"" + repeat("p", 4096 - record.size()) + "\"");
  ASSERT_EQ(record.size(), 4096U);
  EXPECT_TRUE(accepted(record));
}

TEST_F(Parse, RecordOneByteOverMaxIsTooLargeWhateverItHolds) {
  EXPECT_TRUE(fails_with(ParseErrorCode::too_large, repeat("\xFF", 4097)));
}

TEST(ParseOptions, MaxRecordBytesIsConfigurable) {
  SightingParser parser(ParseOptions{.max_record_bytes = 100});
  const auto result = parser.parse(RecordView{kKey, kValid, kRecordTimestampMs});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ParseErrorCode::too_large);
}

TEST_F(Parse, SightingIdOf64MultibyteCharactersIsAccepted) {
  EXPECT_TRUE(accepted(with(kValid, "s-1", repeat("\xC3\xA9", 64))));
}

TEST_F(Parse, SightingIdOf65MultibyteCharactersIsOutOfRange) {
  EXPECT_TRUE(
      fails_with(ParseErrorCode::out_of_range, with(kValid, "s-1", repeat("\xC3\xA9", 65))));
}

TEST_F(Parse, SightingIdEmptyIsOutOfRange) {
  EXPECT_TRUE(fails_with(ParseErrorCode::out_of_range, with(kValid, R"("s-1")", R"("")")));
}

TEST_F(Parse, SightingIdEscapesAreUnescaped) {
  const auto s = accepted(with(kValid, "s-1", R"(s\u00e9\n)"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->sighting_id, "s\xC3\xA9\n");
}

TEST_F(Parse, SightingIdAsNumberIsWrongType) {
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type, with(kValid, R"("s-1")", "1")));
}

TEST_F(Parse, RequiredFieldNullIsWrongType) {
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type, with(kValid, R"("s-1")", "null")));
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type, with(kValid, R"("cust123")", "null")));
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type, with(kValid, "-50", "null")));
}

TEST_F(Parse, CustomerIdOf64FourByteCharactersIsAccepted) {
  const std::string id = repeat("\xF0\x9F\x98\x80", 64);
  EXPECT_TRUE(accepted(with(kValid, "cust123", id), id));
}

TEST_F(Parse, CustomerIdOf65FourByteCharactersIsOutOfRange) {
  const std::string id = repeat("\xF0\x9F\x98\x80", 65);
  EXPECT_TRUE(fails_with(ParseErrorCode::out_of_range, with(kValid, "cust123", id), id));
}

TEST_F(Parse, EscapedCustomerIdMatchesUnescapedKey) {
  const auto s = accepted(with(kValid, "cust123", R"(cust\u0031)"), "cust1");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->customer_id, "cust1");
}

TEST_F(Parse, C0ControlInCustomerIdIsOutOfRange) {
  EXPECT_TRUE(fails_with(ParseErrorCode::out_of_range, with(kValid, "cust123", R"(cu\u001fst)"),
                         "cu\x1fst"));
  EXPECT_TRUE(fails_with(ParseErrorCode::out_of_range, with(kValid, "cust123", R"(cu\u0000st)"),
                         std::string_view("cu\0st", 5)));
}

TEST_F(Parse, DeleteInCustomerIdIsOutOfRange) {
  EXPECT_TRUE(fails_with(ParseErrorCode::out_of_range, with(kValid, "cust123", R"(cu\u007fst)"),
                         "cu\x7fst"));
}

TEST_F(Parse, C1ControlInCustomerIdIsOutOfRange) {
  EXPECT_TRUE(fails_with(ParseErrorCode::out_of_range, with(kValid, "cust123", R"(cu\u0085st)"),
                         "cu\xC2\x85st"));
  EXPECT_TRUE(fails_with(ParseErrorCode::out_of_range, with(kValid, "cust123", "cu\xC2\x9Fst"),
                         "cu\xC2\x9Fst"));
}

TEST_F(Parse, NoBreakSpaceAfterC1RangeIsAccepted) {
  EXPECT_TRUE(accepted(with(kValid, "cust123", R"(cu\u00a0st)"), "cu\xC2\xA0st"));
}

TEST_F(Parse, KeyDifferingOnlyInCaseIsKeyMismatch) {
  EXPECT_TRUE(fails_with(ParseErrorCode::key_mismatch, kValid, "Cust123"));
}

TEST_F(Parse, EmptyKeyIsKeyMismatch) {
  EXPECT_TRUE(fails_with(ParseErrorCode::key_mismatch, kValid, ""));
}

TEST_F(Parse, SourceNullMeansBeacon) {
  const auto s = accepted(with(kValid, R"("beacon",)", "null,"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->source, Source::beacon);
}

TEST_F(Parse, SourceIsCaseSensitive) {
  EXPECT_TRUE(
      fails_with(ParseErrorCode::unknown_source, with(kValid, R"("beacon",)", R"("Beacon",)")));
}

TEST_F(Parse, SourceEmptyIsUnknownSource) {
  EXPECT_TRUE(fails_with(ParseErrorCode::unknown_source, with(kValid, R"("beacon",)", R"("",)")));
}

TEST_F(Parse, SourceAsNumberIsWrongType) {
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type, with(kValid, R"("beacon",)", "1,")));
}

TEST_F(Parse, BeaconMissingForBeaconSourceIsMissingField) {
  EXPECT_TRUE(
      fails_with(ParseErrorCode::missing_field, with(kValid, R"("beacon": {)", R"("b": {)")));
}

TEST_F(Parse, BeaconNotAnObjectIsWrongType) {
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type, with(kValid, kBeaconObject, "[1]")));
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type, with(kValid, kBeaconObject, "null")));
}

TEST_F(Parse, BeaconMissingUuidIsMissingField) {
  EXPECT_TRUE(fails_with(ParseErrorCode::missing_field, with(kValid, R"("uuid")", R"("id")")));
}

TEST_F(Parse, BeaconMissingMajorIsMissingField) {
  EXPECT_TRUE(fails_with(ParseErrorCode::missing_field, with(kValid, R"("major")", R"("maj")")));
}

TEST_F(Parse, UuidAsNumberIsWrongType) {
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type,
                         with(kValid, R"("550e8400-e29b-41d4-a716-446655440000")", "7")));
}

TEST_F(Parse, UuidWithBracesIsBadUuid) {
  EXPECT_TRUE(
      fails_with(ParseErrorCode::bad_uuid, with(kValid, "550e8400-e29b-41d4-a716-446655440000",
                                                "{550e8400-e29b-41d4-a716-446655440000}")));
}

TEST_F(Parse, UuidWithNonHexDigitIsBadUuid) {
  EXPECT_TRUE(fails_with(ParseErrorCode::bad_uuid, with(kValid, "550e8400", "550g8400")));
}

TEST_F(Parse, MajorAndMinorBoundsAreAccepted) {
  const auto s = accepted(
      with(with(kValid, "\"major\": 100", "\"major\": 0"), "\"minor\": 13", "\"minor\": 65535"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->beacon.major, 0);
  EXPECT_EQ(s->beacon.minor, 65535);
}

TEST_F(Parse, MinorAbove65535IsOutOfRange) {
  EXPECT_TRUE(
      fails_with(ParseErrorCode::out_of_range, with(kValid, "\"minor\": 13", "\"minor\": 65536")));
}

TEST_F(Parse, MajorWrittenWithFractionIsWrongType) {
  EXPECT_TRUE(
      fails_with(ParseErrorCode::wrong_type, with(kValid, "\"major\": 100", "\"major\": 100.0")));
}

TEST_F(Parse, RssiWrittenWithExponentIsWrongType) {
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type, with(kValid, "-50", "-5e1")));
}

TEST_F(Parse, RssiAsBooleanIsWrongType) {
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type, with(kValid, "-50", "true")));
}

TEST_F(Parse, RssiZeroIsOutOfRange) {
  EXPECT_TRUE(fails_with(ParseErrorCode::out_of_range, with(kValid, "-50", "0")));
}

TEST_F(Parse, RssiMinus100IsAccepted) {
  EXPECT_TRUE(accepted(with(kValid, "-50", "-100")));
}

TEST_F(Parse, RssiMinus101IsOutOfRange) {
  EXPECT_TRUE(fails_with(ParseErrorCode::out_of_range, with(kValid, "-50", "-101")));
}

TEST_F(Parse, RssiAboveInt64IsOutOfRange) {
  EXPECT_TRUE(
      fails_with(ParseErrorCode::out_of_range, with(kValid, "-50", "18446744073709551615")));
}

TEST_F(Parse, TxPowerNullMeansAbsent) {
  const auto s = accepted(with(kValid, "-59", "null"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->beacon.tx_power_dbm, std::nullopt);
}

TEST_F(Parse, TxPowerMinus101IsOutOfRange) {
  EXPECT_TRUE(fails_with(ParseErrorCode::out_of_range, with(kValid, "-59", "-101")));
}

TEST_F(Parse, TxPowerAsStringIsWrongType) {
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type, with(kValid, "-59", R"("-59")")));
}

// Member keys are found by a slot made from their length and first two bytes, then compared
// whole: a key that differs from a member's anywhere after those bytes, or has them swapped
// (the same slot), is an unknown field, so the member it resembles is missing.
TEST_F(Parse, KeysLikeAMemberButForOneLaterByteAreUnknownFields) {
  const std::vector<std::pair<std::string_view, std::string_view>> near_misses = {
      {R"("sighting_id")", R"("sighting_iD")"},
      {R"("sighting_id")", R"("sightinG_id")"},
      {R"("customer_id")", R"("cuStomer_id")"},
      {R"("detected_at")", R"("detected_aT")"},
      {R"("uuid")", R"("uuiD")"},
      {R"("major")", R"("majoR")"},
      {R"("minor")", R"("miNor")"},
      {R"("rssi")", R"("rsSi")"},
      {R"("platform")", R"("platforM")"},
      {R"("beacon": )", R"("beacoN": )"},
      {R"("sighting_id")", R"("isghting_id")"},
      {R"("customer_id")", R"("ucstomer_id")"},
      {R"("detected_at")", R"("edtected_at")"},
      {R"("major")", R"("amjor")"},
      {R"("minor")", R"("imnor")"},
      {R"("rssi")", R"("srsi")"},
      {R"("platform")", R"("lpatform")"},
      {R"("beacon": )", R"("ebacon": )"},
  };
  for (const auto& [member, near_miss] : near_misses) {
    const std::string record = with(kValid, member, near_miss);
    if (member == R"("platform")") {
      // device.platform is optional: the record is accepted, without one.
      const auto sighting = accepted(record);
      ASSERT_TRUE(sighting) << near_miss;
      EXPECT_EQ(sighting->platform, "") << near_miss;
    } else {
      EXPECT_TRUE(fails_with(ParseErrorCode::missing_field, record)) << near_miss;
    }
  }
  for (const std::string_view twin : {R"("tx_poweR")", R"("xt_power")"}) {
    const auto without_tx_power = accepted(with(kValid, R"("tx_power")", twin));
    ASSERT_TRUE(without_tx_power) << twin;
    EXPECT_FALSE(without_tx_power->beacon.tx_power_dbm.has_value()) << twin;
  }
  EXPECT_TRUE(fails_with(ParseErrorCode::missing_field, with(kValidQr, R"("qr": )", R"("qR": )")));
  EXPECT_TRUE(fails_with(ParseErrorCode::missing_field, with(kValidQr, R"("qr": )", R"("rq": )")));
  EXPECT_TRUE(fails_with(ParseErrorCode::missing_field, with(kValidQr, R"("code")", R"("ocde")")));
  // Without its source a scan is taken for a beacon sighting, which then has no beacon.
  EXPECT_TRUE(
      fails_with(ParseErrorCode::missing_field, with(kValidQr, R"("source")", R"("sourcE")")));
}

// A member's key in another object is an unknown field there.
TEST_F(Parse, MembersKeysInAnotherObjectAreUnknownFields) {
  const auto moved = accepted(
      with(kValid, R"("major")", R"("sighting_id": "elsewhere", "customer_id": 7, "major")"));
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->beacon.major, 100);
  EXPECT_EQ(moved->sighting_id, "s-1");
  const auto at_root =
      accepted(with(kValid, R"("detected_at")", R"("uuid": 1, "rssi": "x", "detected_at")"));
  ASSERT_TRUE(at_root);
  EXPECT_EQ(at_root->beacon.rssi_dbm, -50);
}

TEST_F(Parse, UnknownFieldsInsideBeaconAreIgnored) {
  EXPECT_TRUE(accepted(with(kValid, R"("major")", R"("battery": {"pct": 80}, "major")")));
}

TEST_F(Parse, BeaconSourceIgnoresMalformedQr) {
  EXPECT_TRUE(accepted(with_fields(kValid, R"("qr": {"code": 5, "x": ""})")));
}

TEST_F(Parse, QrSourceNeedsNoBeacon) {
  EXPECT_TRUE(accepted(kValidQr));
}

TEST_F(Parse, QrCodeOf256CharactersIsAccepted) {
  EXPECT_TRUE(accepted(with(kValidQr, "TS-store100-T3", repeat("\xC3\xA9", 256))));
}

TEST_F(Parse, QrCodeOf257CharactersIsOutOfRange) {
  EXPECT_TRUE(
      fails_with(ParseErrorCode::out_of_range, with(kValidQr, "TS-store100-T3", repeat("q", 257))));
}

TEST_F(Parse, QrCodeEmptyIsOutOfRange) {
  EXPECT_TRUE(fails_with(ParseErrorCode::out_of_range, with(kValidQr, "TS-store100-T3", "")));
}

TEST_F(Parse, QrMissingIsMissingField) {
  EXPECT_TRUE(fails_with(ParseErrorCode::missing_field, with(kValidQr, R"("qr":)", R"("q":)")));
}

TEST_F(Parse, QrNotAnObjectIsWrongType) {
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type,
                         with(kValidQr, R"({"code": "TS-store100-T3"})", R"("TS-store100-T3")")));
}

TEST_F(Parse, QrCodeAsNumberIsWrongType) {
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type, with(kValidQr, R"("TS-store100-T3")", "3")));
}

TEST_F(Parse, DetectedAtAsNumberIsWrongType) {
  EXPECT_TRUE(fails_with(ParseErrorCode::wrong_type,
                         with(kValid, R"("2025-03-02T12:00:00.123Z")", "1740916800123")));
}

TEST_F(Parse, DetectedAtOnFeb29OfALeapYearIsAccepted) {
  const auto s = accepted(with(kValid, "2025-03-02T12:00:00.123Z", "2024-02-29T12:00:00Z"), kKey,
                          1709208000000);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->detected_at_ms, 1709208000000);
}

TEST_F(Parse, DetectedAtOnFeb29OfANonLeapYearIsBadTimestamp) {
  EXPECT_TRUE(fails_with(ParseErrorCode::bad_timestamp,
                         with(kValid, "2025-03-02T12:00:00.123Z", "2025-02-29T12:00:00Z")));
}

TEST_F(Parse, DetectedAtExactly24HoursBeforeRecordIsAccepted) {
  EXPECT_TRUE(accepted(with(kValid, "2025-03-02T12:00:00.123Z", "2025-03-01T12:00:00.500Z")));
}

TEST_F(Parse, DetectedAtOneMsBeyond24HoursIsTooOld) {
  EXPECT_TRUE(fails_with(ParseErrorCode::too_old,
                         with(kValid, "2025-03-02T12:00:00.123Z", "2025-03-01T12:00:00.499Z")));
}

TEST_F(Parse, DetectedAtOneMsBeyond5MinutesAheadIsTooFarInFuture) {
  EXPECT_TRUE(fails_with(ParseErrorCode::too_far_in_future,
                         with(kValid, "2025-03-02T12:00:00.123Z", "2025-03-02T12:05:00.501Z")));
}

TEST(ParseOptions, SkewWindowIsConfigurable) {
  SightingParser parser(ParseOptions{.max_future_skew_ms = 0, .max_past_skew_ms = 100});
  const auto future = parser.parse(RecordView{kKey, kValid, 1740916800122});
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().code, ParseErrorCode::too_far_in_future);
  const auto old = parser.parse(RecordView{kKey, kValid, 1740916800224});
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, ParseErrorCode::too_old);
  EXPECT_TRUE(parser.parse(RecordView{kKey, kValid, 1740916800223}).ok());
}

TEST_F(Parse, ExtremeRecordTimestampsDoNotOverflow) {
  const auto max = parse(kValid, kKey, std::numeric_limits<std::int64_t>::max());
  ASSERT_FALSE(max.ok());
  EXPECT_EQ(max.error().code, ParseErrorCode::too_old);
  const auto min = parse(kValid, kKey, std::numeric_limits<std::int64_t>::min());
  ASSERT_FALSE(min.ok());
  EXPECT_EQ(min.error().code, ParseErrorCode::too_far_in_future);
}

TEST_F(Parse, DeviceNullMeansAbsent) {
  const auto s = accepted(with(kValid, R"({"platform": "ios"})", "null"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->platform, "");
}

TEST_F(Parse, PlatformNullMeansAbsent) {
  const auto s = accepted(with(kValid, R"("ios")", "null"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->platform, "");
}

TEST_F(Parse, DeviceNotAnObjectIsWrongType) {
  EXPECT_TRUE(
      fails_with(ParseErrorCode::wrong_type, with(kValid, R"({"platform": "ios"})", R"("ios")")));
}

TEST_F(Parse, AnyPlatformStringIsAccepted) {
  const auto s = accepted(with(kValid, R"("ios")", R"("kaios")"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->platform, "kaios");
}

TEST_F(Parse, DuplicateKeyIsReportedBeforeFieldChecks) {
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json, R"({"a": 1, "a": 2})"));
}

TEST_F(Parse, SightingIdIsCheckedBeforeCustomerId) {
  const auto result = parse("{}");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ParseErrorCode::missing_field);
  EXPECT_EQ(result.error().message, "sighting_id: missing");
}

TEST_F(Parse, CustomerIdIsCheckedBeforeKey) {
  EXPECT_TRUE(fails_with(ParseErrorCode::out_of_range, with(kValid, "cust123", ""), "other"));
}

TEST_F(Parse, KeyIsCheckedBeforeSource) {
  EXPECT_TRUE(
      fails_with(ParseErrorCode::key_mismatch, with(kValid, R"("beacon",)", R"("nfc",)"), "other"));
}

TEST_F(Parse, SourceIsCheckedBeforeBeaconFields) {
  EXPECT_TRUE(fails_with(ParseErrorCode::unknown_source,
                         with(with(kValid, R"("beacon",)", R"("nfc",)"), "-50", "0")));
}

TEST_F(Parse, BeaconFieldsAreCheckedInSpecOrder) {
  const std::string bad_rssi = with(kValid, "-50", "0");
  EXPECT_TRUE(fails_with(ParseErrorCode::bad_uuid, with(bad_rssi, "550e8400-", "550e8400")));
  EXPECT_TRUE(
      fails_with(ParseErrorCode::wrong_type, with(bad_rssi, "\"minor\": 13", "\"minor\": 1.5")));
}

TEST_F(Parse, BeaconIsCheckedBeforeDetectedAt) {
  EXPECT_TRUE(fails_with(ParseErrorCode::out_of_range,
                         with(with(kValid, "-50", "0"), "2025-03-02T12", "2025-03-01T00")));
}

TEST_F(Parse, DetectedAtIsCheckedBeforeDevice) {
  EXPECT_TRUE(fails_with(ParseErrorCode::too_old, with(with(kValid, R"({"platform": "ios"})", "7"),
                                                       "2025-03-02T12", "2025-03-01T00")));
}

TEST_F(Parse, ErrorMessageNamesFieldAndProblem) {
  const auto result = parse(with(kValid, "-50", "3"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "beacon.rssi: 3 is outside -100..-1");
}

TEST_F(Parse, ErrorMessageEscapesControlCharacters) {
  const auto result = parse(with(kValid, "cust123", R"(cu\u0007st)"), "cu\x07st");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, R"(customer_id: "cu\u0007st" contains a control character)");
}

TEST_F(Parse, OptionalFieldsOfAnEarlierRecordDoNotLeakIntoTheNext) {
  ASSERT_TRUE(accepted(kValid));
  const auto s = accepted(
      with(with(kValid, R"(, "tx_power": -59)", ""), R"(, "device": {"platform": "ios"})", ""));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->beacon.tx_power_dbm, std::nullopt);
  EXPECT_EQ(s->platform, "");
}

TEST_F(Parse, ParserRecoversAfterEveryKindOfError) {
  EXPECT_TRUE(fails_with(ParseErrorCode::too_large, repeat(" ", 5000)));
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_utf8, "\xFF"));
  EXPECT_TRUE(fails_with(ParseErrorCode::invalid_json, R"({"a": [)"));
  EXPECT_TRUE(fails_with(ParseErrorCode::key_mismatch, kValid, std::nullopt));
  EXPECT_TRUE(accepted(kValid));
}

TEST_F(Parse, ManyRecordsThroughOneParserEachGiveTheirOwnFields) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "s-" + std::to_string(i);
    const std::string rssi = "\"rssi\": " + std::to_string(-1 - i % 100);
    const auto s = accepted(with(with(kValid, "\"s-1\"", '"' + id + '"'), "\"rssi\": -50", rssi));
    ASSERT_TRUE(s);
    EXPECT_EQ(s->sighting_id, id);
    EXPECT_EQ(s->beacon.rssi_dbm, -1 - i % 100);
  }
}

TEST_F(Parse, ViewsStayValidWhenTheInputIsOverwritten) {
  std::string value(kValid);
  const auto result = parse(value);
  ASSERT_TRUE(result.ok());
  value.assign(value.size(), 'x');
  EXPECT_EQ(result->sighting_id, "s-1");
  EXPECT_EQ(result->customer_id, "cust123");
  EXPECT_EQ(result->platform, "ios");
}

TEST(ParseParsers, TwoParsersDoNotShareStorage) {
  SightingParser first;
  SightingParser second;
  const auto a = first.parse(RecordView{kKey, kValid, kRecordTimestampMs});
  const auto b = second.parse(RecordView{kKey, with(kValid, "s-1", "s-2"), kRecordTimestampMs});
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->sighting_id, "s-1");
  EXPECT_EQ(b->sighting_id, "s-2");
}

TEST(ParseErrorCodeName, IsTheSpecSpelling) {
  const std::vector<std::string_view> expected = {
      "invalid_json", "missing_field", "wrong_type",        "out_of_range",
      "bad_uuid",     "bad_timestamp", "too_far_in_future", "too_old",
      "too_large",    "invalid_utf8",  "unknown_source",    "key_mismatch"};
  ASSERT_EQ(expected.size(), kParseErrorCodeCount);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(parse_error_code_name(static_cast<ParseErrorCode>(i)), expected[i]);
  }
}

// tests/fixtures/parse_cases.jsonl: one test per line (format in tests/fixtures/README.md).
struct FixtureCase {
  std::string name;
  std::string test_name;
  std::optional<std::string> key;
  std::optional<std::int64_t> timestamp_ms;
  std::string value;
  std::string expect;
  std::string detected_at_utc;
};

// gtest prints a test parameter through PrintTo: the fixture name is all a reader needs.
void PrintTo(const FixtureCase& c, std::ostream* out) {  // NOLINT(readability-identifier-naming)
  *out << c.name;
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// "valid, rssi -1 and -100" -> "ValidRssi1And100": gtest names allow only letters and digits.
std::string test_name_for(std::string_view name, std::set<std::string>& taken) {
  std::string out;
  bool start_word = true;
  for (const char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      start_word = true;
      continue;
    }
    out += start_word ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    start_word = false;
  }
  while (!taken.insert(out).second) out += "_";
  return out;
}

std::vector<FixtureCase> load_fixture_cases() {
  std::vector<FixtureCase> cases;
  std::ifstream file(std::string(TASTESYNC_FIXTURES_DIR) + "/parse_cases.jsonl");
  simdjson::dom::parser json;
  std::set<std::string> taken;
  for (std::string line; std::getline(file, line);) {
    if (line.empty()) continue;
    const simdjson::dom::element row = json.parse(line);  // throws on a broken fixture
    FixtureCase c;
    c.name = std::string(std::string_view(row["name"]));
    c.test_name = test_name_for(c.name, taken);
    if (!row["key"].is_null()) c.key = std::string(std::string_view(row["key"]));
    if (!row["kafka_timestamp_ms"].is_null()) c.timestamp_ms = int64_t(row["kafka_timestamp_ms"]);
    std::string_view text;
    if (row["record"].get(text) == simdjson::SUCCESS) {
      c.value = std::string(text);
    } else {
      c.value = from_hex(std::string_view(row["record_hex"]));
    }
    c.expect = std::string(std::string_view(row["expect"]));
    if (row["detected_at_utc"].get(text) == simdjson::SUCCESS)
      c.detected_at_utc = std::string(text);
    cases.push_back(std::move(c));
  }
  return cases;
}

const std::vector<FixtureCase>& fixture_cases() {
  static const std::vector<FixtureCase> cases = load_fixture_cases();
  return cases;
}

class ParseFixture : public testing::TestWithParam<FixtureCase> {};

TEST_P(ParseFixture, GivesTheExpectedOutcome) {
  const FixtureCase& c = GetParam();
  SightingParser parser;
  const auto result = parser.parse(RecordView{c.key, c.value, c.timestamp_ms});
  if (c.expect == "ok") {
    ASSERT_TRUE(result.ok()) << describe(result);
    EXPECT_EQ(format_canonical_string(result->detected_at_ms), c.detected_at_utc);
  } else {
    ASSERT_FALSE(result.ok()) << "expected " << c.expect;
    EXPECT_EQ(parse_error_code_name(result.error().code), c.expect) << result.error().message;
  }
}

INSTANTIATE_TEST_SUITE_P(ParseCases, ParseFixture, testing::ValuesIn(fixture_cases()),
                         [](const testing::TestParamInfo<FixtureCase>& info) {
                           return info.param.test_name;
                         });

TEST(ParseFixtures, FirstCaseGivesEveryField) {
  ASSERT_FALSE(fixture_cases().empty());
  const FixtureCase& c = fixture_cases().front();
  SightingParser parser;
  const auto result = parser.parse(RecordView{c.key, c.value, c.timestamp_ms});
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result->sighting_id, "f0000000-0000-4000-8000-000000000001");
  EXPECT_EQ(result->customer_id, "cust123");
  EXPECT_EQ(result->source, Source::beacon);
  EXPECT_EQ(format_uuid_string(result->beacon.uuid), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(result->beacon.major, 100);
  EXPECT_EQ(result->beacon.minor, 13);
  EXPECT_EQ(result->beacon.rssi_dbm, -50);
  EXPECT_EQ(result->beacon.tx_power_dbm, -59);
  EXPECT_EQ(result->platform, "");
}

TEST(ParseFixtures, UpperCaseUuidIsStoredLowerCase) {
  ASSERT_GE(fixture_cases().size(), 2U);
  const FixtureCase& c = fixture_cases()[1];
  ASSERT_NE(c.value.find("550E8400-E29B"), std::string::npos);
  SightingParser parser;
  const auto result = parser.parse(RecordView{c.key, c.value, c.timestamp_ms});
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(format_uuid_string(result->beacon.uuid), "550e8400-e29b-41d4-a716-446655440000");
}

}  // namespace
}  // namespace tastesync
