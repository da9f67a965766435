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
