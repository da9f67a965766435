#include "common/event_time.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tastesync {
namespace {

// 2025-03-02T12:00:00.123Z, the example sighting's detected_at (docs/contract.md#sighting).
constexpr EpochMs kExampleMs = 1740916800123;

TEST(EventTime, ParsesUtcWithMilliseconds) {
  EXPECT_EQ(parse_rfc3339("2025-03-02T12:00:00.123Z"), kExampleMs);
}

TEST(EventTime, FractionIsOptional) {
  EXPECT_EQ(parse_rfc3339("2025-03-02T12:00:00Z"), kExampleMs - 123);
}

TEST(EventTime, ShortFractionsAreTenthsAndHundredths) {
  EXPECT_EQ(parse_rfc3339("2025-03-02T12:00:00.1Z"), kExampleMs - 23);
  EXPECT_EQ(parse_rfc3339("2025-03-02T12:00:00.12Z"), kExampleMs - 3);
}

TEST(EventTime, DigitsPastTheMillisecondAreTruncatedNotRounded) {
  EXPECT_EQ(parse_rfc3339("2025-03-02T12:00:00.123999Z"), kExampleMs);
  EXPECT_EQ(parse_rfc3339("2025-03-02T12:00:00.123999999999Z"), kExampleMs);
}

TEST(EventTime, NumericOffsetIsConvertedToUtc) {
  EXPECT_EQ(parse_rfc3339("2025-03-02T21:00:00.123+09:00"), kExampleMs);
  EXPECT_EQ(parse_rfc3339("2025-03-02T06:30:00.123-05:30"), kExampleMs);
}

TEST(EventTime, ZeroOffsetsEqualZ) {
  EXPECT_EQ(parse_rfc3339("2025-03-02T12:00:00.123+00:00"), kExampleMs);
  EXPECT_EQ(parse_rfc3339("2025-03-02T12:00:00.123-00:00"), kExampleMs);
}

TEST(EventTime, OffsetCanMoveTheDateBackAndForth) {
  EXPECT_EQ(format_canonical_string(*parse_rfc3339("2025-03-01T23:30:00-01:00")),
            "2025-03-02T00:30:00.000Z");
  EXPECT_EQ(format_canonical_string(*parse_rfc3339("2025-01-01T00:30:00+01:00")),
            "2024-12-31T23:30:00.000Z");
}

TEST(EventTime, LowerCaseTAndZAreAccepted) {
  EXPECT_EQ(parse_rfc3339("2025-03-02t12:00:00.123z"), kExampleMs);
}

TEST(EventTime, SecondSixtyIsRejected) {
  EXPECT_EQ(parse_rfc3339("2025-03-02T12:00:60Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2016-12-31T23:59:60Z"), std::nullopt);  // a real leap second
}

TEST(EventTime, Feb29IsAcceptedInLeapYears) {
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(parse_rfc3339("2000-02-29T23:59:59Z"), 951868799000);
}

TEST(EventTime, Feb29IsRejectedInOtherYears) {
  EXPECT_EQ(parse_rfc3339("2025-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("1900-02-29T00:00:00Z"), std::nullopt);  // divisible by 100, not 400
}

TEST(EventTime, OutOfRangeFieldsAreRejected) {
  for (const char* text : {"2025-13-02T12:00:00Z", "2025-00-02T12:00:00Z", "2025-04-31T12:00:00Z",
                           "2025-03-00T12:00:00Z", "2025-03-02T24:00:00Z", "2025-03-02T12:60:00Z",
                           "2025-03-02T12:00:00+24:00", "2025-03-02T12:00:00+01:60"}) {
    EXPECT_EQ(parse_rfc3339(text), std::nullopt) << text;
  }
}

TEST(EventTime, MalformedTextIsRejected) {
  for (const char* text : {
           "",
           "2025-03-02",
           "2025-03-02T12:00:00",  // no offset: local time of an unknown zone
           "2025-03-02 12:00:00Z",
           "2025-3-2T12:00:00Z",
           "2025-03-02T12:00Z",
           "2025-03-02T12:00:00.Z",
           "2025-03-02T12:00:00,123Z",
           "2025-03-02T12:00:00+0900",
           "2025-03-02T12:00:00+09",
           " 2025-03-02T12:00:00Z",
           "2025-03-02T12:00:00Z ",
           "2025-03-02T12:00:00ZZ",
           "+2025-03-02T12:00:00Z",
           "02/03/2025 12:00",
           "1740916800123",
       }) {
    EXPECT_EQ(parse_rfc3339(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(EventTime, ParsesInstantsBefore1970) {
  EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(parse_rfc3339("1900-01-01T00:00:00Z"), -2208988800000);
}

TEST(EventTime, AcceptsTheWholeFourDigitYearRange) {
  EXPECT_EQ(parse_rfc3339("0000-01-01T00:00:00Z"), -62167219200000);
  EXPECT_EQ(parse_rfc3339("9999-12-31T23:59:59.999Z"), 253402300799999);
}

// The canonical form has four year digits: an offset that moves the instant out of 0000-9999
// would give a detected_at that cannot be written back.
TEST(EventTime, RejectsOffsetsThatLeaveTheFourDigitYearRange) {
  EXPECT_EQ(parse_rfc3339("0000-01-01T00:30:00+01:00"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("9999-12-31T23:30:00-01:00"), std::nullopt);
}

TEST(EventTime, FormatsTheCanonicalForm) {
  EXPECT_EQ(format_canonical_string(kExampleMs), "2025-03-02T12:00:00.123Z");
  EXPECT_EQ(format_canonical_string(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_canonical_string(1709164800000), "2024-02-29T00:00:00.000Z");
}

TEST(EventTime, FormatsInstantsBefore1970) {
  EXPECT_EQ(format_canonical_string(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_canonical_string(-1000), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(format_canonical_string(-86400000), "1969-12-31T00:00:00.000Z");
  EXPECT_EQ(format_canonical_string(-2208988800000), "1900-01-01T00:00:00.000Z");
}

TEST(EventTime, FormatsTheYearRangeBoundaries) {
  EXPECT_EQ(format_canonical_string(-62167219200000), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(format_canonical_string(253402300799999), "9999-12-31T23:59:59.999Z");
}

TEST(EventTime, FormatThenParseIsTheIdentity) {
  const std::vector<EpochMs> instants = {
      -62167219200000, -2208988800001, -86400001,      -1, 0, 1, 999,
      951868799999,    kExampleMs,     253402300799999};
  for (const EpochMs ms : instants) {
    const CanonicalTime text = format_canonical(ms);
    ASSERT_EQ(text.size(), kCanonicalTimeLength);
    EXPECT_EQ(parse_rfc3339(std::string_view(text.data(), text.size())), ms) << ms;
  }
}

// The canonical form is read by a path of its own (docs/bench.md#issue-17-19); the same instant
// written another way (+00:00 for Z) goes the general way, and both must agree, everywhere in the
// four-digit years.
TEST(EventTime, TheCanonicalFormReadsAsTheSameInstantWrittenAnotherWay) {
  std::uint64_t step = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 20000; ++i) {
    step = step * 6364136223846793005ULL + 1442695040888963407ULL;
    const EpochMs ms = kFirstCanonicalMs +
                       static_cast<EpochMs>(step % static_cast<std::uint64_t>(
                                                       kLastCanonicalMs - kFirstCanonicalMs + 1));
    const std::string canonical = format_canonical_string(ms);
    const std::string offset = canonical.substr(0, canonical.size() - 1) + "+00:00";
    ASSERT_EQ(parse_rfc3339(canonical), ms) << canonical;
    ASSERT_EQ(parse_rfc3339(offset), ms) << offset;
  }
}

TEST(EventTime, ACanonicalLookingTextThatIsNoInstantIsRejected) {
  for (const char* text :
       {"2025-02-29T00:00:00.000Z", "2100-02-29T00:00:00.000Z", "2025-04-31T00:00:00.000Z",
        "2025-13-01T00:00:00.000Z", "2025-00-10T00:00:00.000Z", "2025-01-00T00:00:00.000Z",
        "2025-01-01T24:00:00.000Z", "2025-01-01T23:60:00.000Z", "2025-01-01T23:59:60.000Z",
        "2025-01-01T00:00:00.00aZ", "2025-01-01T00:00:00.000Y", "2025-01-01 00:00:00.000Z",
        "2025/01/01T00:00:00.000Z", "+025-01-01T00:00:00.000Z"}) {
    EXPECT_EQ(parse_rfc3339(text), std::nullopt) << text;
  }
  // Lower-case t and z are not the canonical form but are RFC 3339: the general path reads them.
  EXPECT_EQ(parse_rfc3339("2024-02-29t23:59:59.999z"), 1709251199999);
}

}  // namespace
}  // namespace tastesync
