#include "common/erasure.hpp"

#include <openssl/sha.h>

#include <array>

namespace tastesync {

bool valid_erasure_request_id(std::string_view request_id) {
  if (request_id.empty() || request_id.size() > 64) return false;
  for (const char c : request_id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string customer_hash(std::string_view customer_id) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(customer_id.data()), customer_id.size(),
         digest.data());
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string text;
  text.reserve(digest.size() * 2);
  for (const unsigned char byte : digest) {
    text.push_back(kHex[byte >> 4]);
    text.push_back(kHex[byte & 0x0f]);
  }
  return text;
}

std::string customer_hash_short(std::string_view customer_id) {
  return customer_hash(customer_id).substr(0, 12);
}

}  // namespace tastesync
