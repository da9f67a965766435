#include "common/customer_hash.hpp"

#include <openssl/sha.h>

#include <array>

namespace tastesync {

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
