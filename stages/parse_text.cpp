#include "stages/parse_text.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace tastesync::parse_text {
namespace {

// The longest excerpt of a field's value an error message repeats.
constexpr std::size_t kMaxQuotedBytes = 64;

using simdjson::dom::element;
using simdjson::dom::element_type;

// How many bytes of `bits` have their high bit set (no other bit may be): one multiply sums them
// into the top byte. std::popcount is a call into libgcc on a baseline x86-64 build, ~1 % of the
// stage bench (docs/bench.md#issue-17-17).
constexpr std::size_t count_high_bits(std::uint64_t bits) {
  return static_cast<std::size_t>(((bits >> 7) * 0x0101010101010101ULL) >> 56);
}
static_assert(count_high_bits(0) == 0 && count_high_bits(0x8080808080808080ULL) == 8 &&
              count_high_bits(0x8000000000000080ULL) == 2);

}  // namespace

// simdjson has already checked that every string is valid UTF-8, so code points are the bytes
// that do not continue a sequence (10xxxxxx), counted eight at a time.
std::size_t count_code_points(std::string_view text) {
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  std::size_t continuation_bytes = 0;
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + i, sizeof word);
    continuation_bytes += count_high_bits(word & ~(word << 1) & kHighBits);
  }
  for (; i < text.size(); ++i) {
    continuation_bytes += (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
  }
  return text.size() - continuation_bytes;
}

// C0 (U+0000-U+001F), DEL (U+007F) and C1 (U+0080-U+009F, UTF-8 C2 80..C2 9F).
bool has_control_character(std::string_view text) {
  // Eight bytes at a time while every byte is printable ASCII (0x20..0x7E), as ids nearly always
  // are: a byte below 0x20 borrows into its high bit when 0x20 is taken from it, and one at or
  // above 0x7F has it set, or gets it when 1 is added. Any such byte sends the rest of the text,
  // from the word that holds it, to the exact byte loop below.
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  std::size_t start = 0;
  for (; start + 8 <= text.size(); start += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + start, sizeof word);
    const std::uint64_t below_space = (word - 0x20 * kOnes) & ~word;
    const std::uint64_t del_or_above = word | (word + kOnes);
    if (((below_space | del_or_above) & kHighBits) != 0) break;
  }
  for (std::size_t i = start; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      return true;
    }
  }
  return false;
}

// Repeats a value inside an error message: quoted, control characters escaped (the message
// travels as a Kafka header and into logs), cut at a code point boundary when long.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  std::size_t end = std::min(text.size(), kMaxQuotedBytes);
  while (end < text.size() && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  for (std::size_t i = 0; i < end; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    unsigned escaped = 0x100;
    if (c < 0x20 || c == 0x7F) escaped = c;
    if (c == 0xC2 && i + 1 < end && static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      escaped = static_cast<unsigned char>(text[++i]);
    }
    if (escaped != 0x100) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", escaped);
      out += buffer;
    } else {
      if (c == '"' || c == '\\') out += '\\';
      out += static_cast<char>(c);
    }
  }
  out += end < text.size() ? "\"..." : "\"";
  return out;
}

std::string_view type_name(element value) {
  switch (value.type()) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
      return "an integer";
    case element_type::DOUBLE:
      return "a non-integer number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "an unknown type";
}

std::string wrong_type(std::string_view path, std::string_view expected, element value) {
  std::string message(path);
  message += ": expected ";
  message += expected;
  message += ", got ";
  message += type_name(value);
  return message;
}

}  // namespace tastesync::parse_text
