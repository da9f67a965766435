#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace tastesync::fuzz {

constexpr std::size_t kHeaderBytes = 10;

struct Record {
  std::string header;
  std::optional<std::string_view> key;
  std::optional<std::int64_t> timestamp_ms;
  std::string_view value;
};

// Input layout (corpus/parse/ holds seeds made from tests/fixtures/parse_cases.jsonl):
//   byte 0       flags: bit 0 = the record has a key, bit 1 = the record has a timestamp
//   byte 1       key length (bytes taken from after the header, at most what is left)
//   bytes 2..9   record timestamp, int64 little-endian (ignored without bit 1)
//   then         the key, then the value: all the remaining bytes
// Shorter inputs are padded with zeros, so every input is a record.
inline Record decode(const std::uint8_t* data, std::size_t size) {
  Record record;
  record.header.assign(reinterpret_cast<const char*>(data),
                       size < kHeaderBytes ? size : kHeaderBytes);
  record.header.resize(kHeaderBytes, '\0');
  const std::string_view rest =
      size > kHeaderBytes ? std::string_view(reinterpret_cast<const char*>(data) + kHeaderBytes,
                                             size - kHeaderBytes)
                          : std::string_view();
  const auto flags = static_cast<unsigned char>(record.header[0]);
  std::size_t key_length = 0;
  if ((flags & 1U) != 0) {
    key_length = static_cast<unsigned char>(record.header[1]);
    if (key_length > rest.size()) key_length = rest.size();
    record.key = rest.substr(0, key_length);
  }
  if ((flags & 2U) != 0) {
    std::uint64_t bits = 0;
    for (int i = 7; i >= 0; --i)
      bits = bits << 8 | static_cast<unsigned char>(record.header[2 + i]);
    std::int64_t timestamp = 0;
    std::memcpy(&timestamp, &bits, sizeof timestamp);
    record.timestamp_ms = timestamp;
  }
  record.value = rest.substr(key_length);
  return record;
}

}  // namespace tastesync::fuzz
