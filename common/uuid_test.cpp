#include "common/uuid.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tastesync {
namespace {

constexpr std::string_view kText = "550e8400-e29b-41d4-a716-446655440000";
constexpr Uuid kBytes = {0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4,
                         0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, 0x00};

TEST(Uuid, ParsesCanonicalLowerCase) {
  EXPECT_EQ(parse_uuid(kText), kBytes);
}

TEST(Uuid, ParsesUpperAndMixedCase) {
  EXPECT_EQ(parse_uuid("550E8400-E29B-41D4-A716-446655440000"), kBytes);
  EXPECT_EQ(parse_uuid("550e8400-E29B-41d4-A716-446655440000"), kBytes);
}

TEST(Uuid, FormatsLowerCaseCanonical) {
  EXPECT_EQ(format_uuid_string(kBytes), kText);
  const UuidText text = format_uuid(kBytes);
  EXPECT_EQ(std::string_view(text.data(), text.size()), kText);
}

TEST(Uuid, UpperCaseRoundTripsToLowerCase) {
  EXPECT_EQ(format_uuid_string(*parse_uuid("ABCDEF01-2345-6789-ABCD-EF0123456789")),
            "abcdef01-2345-6789-abcd-ef0123456789");
}

TEST(Uuid, FormatThenParseIsTheIdentity) {
  for (const Uuid& uuid : {Uuid{}, kBytes,
                           Uuid{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xff}}) {
    EXPECT_EQ(parse_uuid(format_uuid_string(uuid)), uuid);
  }
}

TEST(Uuid, MalformedTextIsRejected) {
  for (const char* text : {
           "",
           "550e8400e29b41d4a716446655440000",        // no dashes
           "{550e8400-e29b-41d4-a716-446655440000}",  // braces
           "urn:uuid:550e8400-e29b-41d4-a716-446655440000",
           "550e8400-e29b-41d4-a716-44665544000",         // 35 characters
           "550e8400-e29b-41d4-a716-4466554400000",       // 37 characters
           "550e840-0e29b-41d4-a716-446655440000",        // dash one place early
           "550e8400-e29b-41d4-a716_446655440000",        // underscore for a dash
           "550e8400-e29b-41d4-a716-44665544000g",        // not hex
           "550e8400-e29b-41d4-a716-44665544 000",        // space
           "550e8400-e29b-41d4-a716-4466554400-0",        // dash in a hex group
           "550e8400-e29b-41d4-a716-4466554400\xc3\xa9",  // non-ASCII, 36 bytes
       }) {
    EXPECT_EQ(parse_uuid(text), std::nullopt) << '"' << text << '"';
  }
}

// Each of the 36 places refuses every byte but its own kind (a dash, or a hex digit of either
// case), and a hex digit anywhere is read into its own nibble.
TEST(Uuid, EveryPlaceTakesOnlyItsOwnKindOfCharacter) {
  const std::string canonical = "550e8400-e29b-41d4-a716-446655440000";
  for (std::size_t at = 0; at < canonical.size(); ++at) {
    const bool dash = at == 8 || at == 13 || at == 18 || at == 23;
    for (int byte = 0; byte < 256; ++byte) {
      std::string text = canonical;
      text[at] = static_cast<char>(byte);
      const bool hex = (byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'f') ||
                       (byte >= 'A' && byte <= 'F');
      const bool accepted = dash ? byte == '-' : hex;
      ASSERT_EQ(parse_uuid(text).has_value(), accepted) << "byte " << byte << " at " << at;
    }
  }
  std::string ones(36, '0');
  for (const std::size_t at : {std::size_t{8}, std::size_t{13}, std::size_t{18}, std::size_t{23}})
    ones[at] = '-';
  for (std::size_t at = 0, nibble = 0; at < ones.size(); ++at) {
    if (ones[at] == '-') continue;
    std::string text = ones;
    text[at] = 'F';
    const Uuid parsed = *parse_uuid(text);
    Uuid expected{};
    expected[nibble / 2] = nibble % 2 == 0 ? 0xF0 : 0x0F;
    EXPECT_EQ(parsed, expected) << "at " << at;
    ++nibble;
  }
}

// The digits are checked eight bytes at a time: a byte at or above 0x80 beside a byte just
// outside the digits or letters, where a sum could carry from one into the other, is refused.
TEST(Uuid, AHighByteBesideANearMissIsRefusedAtEveryPlace) {
  const std::string canonical = "550e8400-e29b-41d4-a716-446655440000";
  for (std::size_t at = 0; at + 1 < canonical.size(); ++at) {
    for (const int high : {0x80, 0xAF, 0xB0, 0xB9, 0xC6, 0xE0, 0xFF}) {
      for (const char near : {'/', ':', '@', 'G', '`', 'g', '0', 'a', 'F'}) {
        for (const bool high_first : {true, false}) {
          std::string text = canonical;
          text[high_first ? at : at + 1] = static_cast<char>(high);
          text[high_first ? at + 1 : at] = near;
          EXPECT_FALSE(parse_uuid(text).has_value())
              << "byte " << high << " and " << near << " at " << at;
        }
      }
    }
  }
}

// RFC 4122 appendix C's DNS namespace; the value is Python's uuid.uuid5 for the same name.
TEST(Uuid, V5MatchesAnIndependentImplementation) {
  const Uuid dns = *parse_uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  EXPECT_EQ(format_uuid_string(uuid_v5(dns, "www.example.com")),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2");
  EXPECT_EQ(format_uuid_string(uuid_v5(dns, "")), "4ebd0208-8328-5d69-8c44-ec50939c0967");
}

TEST(Uuid, V5GivesSpecEventIdTestVector) {
  const Uuid event_namespace = *parse_uuid("7f1c2b9e-4d3a-4c5e-9b1a-2e6f8d0c4a31");
  const std::string_view name =
      "cust123\nstore100\nTable 3\n2025-03-02T12:00:00.123Z\n0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10";
  EXPECT_EQ(format_uuid_string(uuid_v5(event_namespace, name)),
            "10ef298c-1c10-55df-9149-b492e3cf5787");
}

// The reused maker gives what the one-shot gives, call after call (its context is reset by
// each digest).
TEST(Uuid, AV5MakerGivesTheOneShotsIdsCallAfterCall) {
  const Uuid dns = *parse_uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  UuidV5Maker make;
  EXPECT_EQ(format_uuid_string(make(dns, "www.example.com")),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2");
  EXPECT_EQ(format_uuid_string(make(dns, "")), "4ebd0208-8328-5d69-8c44-ec50939c0967");
  for (int i = 0; i < 100; ++i) {
    const std::string name =
        "name " + std::to_string(i) + std::string(static_cast<std::size_t>(i), 'x');
    EXPECT_EQ(make(kBytes, name), uuid_v5(kBytes, name)) << name;
  }
}

TEST(Uuid, V5SetsVersionAndVariantBits) {
  const Uuid id = uuid_v5(kBytes, "anything");
  EXPECT_EQ(id[6] >> 4, 5);
  EXPECT_EQ(id[8] >> 6, 0b10);
}

TEST(Uuid, SameUuidAgreesWithEqualityWhicheverByteDiffers) {
  const Uuid base = kBytes;
  EXPECT_TRUE(same_uuid(base, kBytes));
  for (std::size_t i = 0; i < base.size(); ++i) {
    for (const std::uint8_t flip : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
      Uuid other = base;
      other[i] = static_cast<std::uint8_t>(other[i] ^ flip);
      EXPECT_FALSE(same_uuid(base, other)) << "byte " << i;
      EXPECT_FALSE(same_uuid(other, base)) << "byte " << i;
      EXPECT_EQ(same_uuid(base, other), base == other);
    }
  }
}

}  // namespace
}  // namespace tastesync
