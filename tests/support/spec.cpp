#include "tests/support/spec.hpp"

#include <openssl/evp.h>
#include <rapidjson/pointer.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace tastesync::testing {
namespace {

std::array<unsigned char, 16> uuid_bytes(std::string_view text) {
  std::array<unsigned char, 16> bytes{};
  std::size_t index = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '-') continue;
    if (index >= 32) throw std::invalid_argument("bad uuid");
    const auto nibble = [](char c) -> unsigned {
      if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
      if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
      if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
      throw std::invalid_argument("bad uuid digit");
    };
    bytes[index / 2] = static_cast<unsigned char>(bytes[index / 2] << 4 | nibble(text[i]));
    ++index;
  }
  if (index != 32) throw std::invalid_argument("bad uuid length");
  return bytes;
}

}  // namespace

std::string uuid_v5(std::string_view namespace_uuid, std::string_view name) {
  std::string input;
  const auto space = uuid_bytes(namespace_uuid);
  input.append(reinterpret_cast<const char*>(space.data()), space.size());
  input.append(name);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_size, EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("SHA-1 failed");
  }
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // version 5
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string text;
  char hex[3];
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    std::snprintf(hex, sizeof(hex), "%02x", digest[i]);
    text += hex;
  }
  return text;
}

std::string expected_event_id(std::string_view customer_id, std::string_view store_id,
                              std::string_view location, std::string_view detected_at,
                              std::string_view sighting_id) {
  std::string name;
  name.append(customer_id).append("\n").append(store_id).append("\n").append(location);
  name.append("\n").append(detected_at).append("\n").append(sighting_id);
  return uuid_v5(kEventIdNamespace, name);
}

std::int32_t murmur2(std::string_view key) {
  // Java's int arithmetic, on unsigned 32-bit integers (>>> is >> here).
  constexpr std::uint32_t kSeed = 0x9747b28c;
  constexpr std::uint32_t kM = 0x5bd1e995;
  constexpr int kR = 24;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const std::size_t length = key.size();
  std::uint32_t h = kSeed ^ static_cast<std::uint32_t>(length);
  for (std::size_t i = 0; i + 4 <= length; i += 4) {
    std::uint32_t k = static_cast<std::uint32_t>(data[i]) |
                      static_cast<std::uint32_t>(data[i + 1]) << 8 |
                      static_cast<std::uint32_t>(data[i + 2]) << 16 |
                      static_cast<std::uint32_t>(data[i + 3]) << 24;
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
  }
  const std::size_t tail = length & ~std::size_t{3};
  switch (length % 4) {
    case 3:
      h ^= static_cast<std::uint32_t>(data[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<std::uint32_t>(data[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<std::uint32_t>(data[tail]);
      h *= kM;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return static_cast<std::int32_t>(h);
}

std::int32_t murmur2_partition(std::string_view key, std::int32_t partitions) {
  const auto hash = static_cast<std::uint32_t>(murmur2(key));
  return static_cast<std::int32_t>((hash & 0x7fffffff) % static_cast<std::uint32_t>(partitions));
}

std::string canonical_time(std::int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(epoch_ms % 1000));
  return text;
}

std::int64_t epoch_ms(std::string_view canonical) {
  std::tm utc{};
  int millis = 0;
  const std::string text(canonical);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &utc.tm_year, &utc.tm_mon,
                  &utc.tm_mday, &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &millis) != 7) {
    throw std::invalid_argument("not a canonical time: " + text);
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&utc)) * 1000 + millis;
}

BeaconSighting beacon_sighting(std::string sighting_id, std::string customer_id, int minor,
                               std::int64_t detected_at_ms) {
  BeaconSighting sighting;
  sighting.sighting_id = std::move(sighting_id);
  sighting.customer_id = std::move(customer_id);
  sighting.minor = minor;
  sighting.detected_at = canonical_time(detected_at_ms);
  return sighting;
}

std::string to_json(const BeaconSighting& s) {
  std::string json = R"({"sighting_id":")" + s.sighting_id + R"(","customer_id":")" +
                     s.customer_id + R"(","source":"beacon","beacon":{"uuid":")" +
                     std::string(kDeploymentUuid) + R"(","major":)" + std::to_string(s.major) +
                     R"(,"minor":)" + std::to_string(s.minor) + R"(,"rssi":)" +
                     std::to_string(s.rssi_dbm);
  if (s.tx_power_dbm) json += R"(,"tx_power":)" + std::to_string(*s.tx_power_dbm);
  json += R"(},"detected_at":")" + s.detected_at + R"(","device":{"platform":"ios"}})";
  return json;
}

std::string qr_sighting_json(std::string_view sighting_id, std::string_view customer_id,
                             std::string_view code, std::string_view detected_at) {
  return R"({"sighting_id":")" + std::string(sighting_id) + R"(","customer_id":")" +
         std::string(customer_id) + R"(","source":"qr","qr":{"code":")" + std::string(code) +
         R"("},"detected_at":")" + std::string(detected_at) + R"("})";
}

rapidjson::Document parse_json(const std::optional<std::string>& value) {
  rapidjson::Document document;
  if (!value) {
    document.Parse("");
  } else {
    document.Parse(value->data(), value->size());
  }
  return document;
}

std::string json_string(const rapidjson::Value& root, const char* pointer) {
  const rapidjson::Value* found = rapidjson::Pointer(pointer).Get(root);
  if (found == nullptr || !found->IsString()) return {};
  return {found->GetString(), found->GetStringLength()};
}

}  // namespace tastesync::testing
