#include "stages/parse_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tastesync::parse_text {
namespace {

// Code points counted one byte at a time: every byte that does not continue a sequence.
std::size_t code_points_byte_by_byte(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

// C0, DEL and C1 (C2 80..C2 9F) looked for one byte at a time.
bool control_byte_by_byte(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      return true;
    }
  }
  return false;
}

TEST(ParseText, ControlCharactersAreFoundWhateverTheByteAndWhereverInAWord) {
  // Every byte value, and every C2 pair, at every offset of printable texts up to three of the
  // eight-byte words the check reads, a pair also across two words.
  for (std::size_t length = 1; length <= 24; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      for (int byte = 0; byte < 256; ++byte) {
        std::string text(length, 'c');
        text[at] = static_cast<char>(byte);
        ASSERT_EQ(has_control_character(text), control_byte_by_byte(text))
            << "byte " << byte << " at " << at << " of " << length;
        if (at + 1 < length) {
          text[at] = '\xC2';
          text[at + 1] = static_cast<char>(byte);
          ASSERT_EQ(has_control_character(text), control_byte_by_byte(text))
              << "C2 " << byte << " at " << at << " of " << length;
        }
      }
    }
  }
  EXPECT_FALSE(has_control_character("cust-0123456789abcdef-\xED\x95\x9C\xC2\xA0"));
  EXPECT_TRUE(has_control_character("cust-0123456789abcdef-\xC2\x85"));
  EXPECT_TRUE(has_control_character(std::string("cust-0123456789\0", 16)));
}

TEST(ParseText, CodePointsOfAsciiAreItsBytes) {
  EXPECT_EQ(count_code_points(""), 0U);
  EXPECT_EQ(count_code_points("c"), 1U);
  EXPECT_EQ(count_code_points("f0000000-0000-4000-8000-000000000001"), 36U);
}

TEST(ParseText, EverySequenceLengthCountsOnceAtEveryPlaceInAWord) {
  // One to four bytes a code point (é, 한, 𝄞), each placed at every offset of the eight-byte
  // words the count reads, in strings of every length up to five words.
  const std::vector<std::string> sequences = {"a", "\xC3\xA9", "\xED\x95\x9C", "\xF0\x9D\x84\x9E"};
  for (const std::string& sequence : sequences) {
    for (std::size_t before = 0; before < 8; ++before) {
      for (std::size_t repeats = 0; repeats <= 10; ++repeats) {
        std::string text(before, 'x');
        for (std::size_t i = 0; i < repeats; ++i) text += sequence;
        SCOPED_TRACE(testing::Message() << sequence.size() << "-byte sequence, " << before
                                        << " bytes before, " << repeats << " times");
        EXPECT_EQ(count_code_points(text), before + repeats);
        EXPECT_EQ(count_code_points(text), code_points_byte_by_byte(text));
      }
    }
  }
}

TEST(ParseText, AWordOfContinuationBytesCountsNone) {
  // Two four-byte sequences fill one word: six of its eight bytes continue a sequence.
  EXPECT_EQ(count_code_points("\xF0\x9D\x84\x9E\xF0\x9D\x84\x9E"), 2U);
  // 64 code points of two bytes each: every other byte of sixteen words continues one.
  std::string text;
  for (int i = 0; i < 64; ++i) text += "\xC2\xA9";
  EXPECT_EQ(count_code_points(text), 64U);
}

}  // namespace
}  // namespace tastesync::parse_text
