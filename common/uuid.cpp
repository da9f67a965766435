#include "common/uuid.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace tastesync {
namespace {

// Every sighting carries a UUID: a table instead of three range tests per character.
constexpr std::array<std::int8_t, 256> kHexValues = [] {
  std::array<std::int8_t, 256> values{};
  values.fill(-1);
  for (int c = '0'; c <= '9'; ++c)
    values[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) {
    const int upper = c - 'a' + 'A';
    values[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
    values[static_cast<std::size_t>(upper)] = static_cast<std::int8_t>(c - 'a' + 10);
  }
  return values;
}();

int hex_value(char c) {
  return kHexValues[static_cast<unsigned char>(c)];
}

constexpr bool is_dash_position(std::size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

}  // namespace

std::optional<Uuid> parse_uuid(std::string_view text) {
  if (text.size() != kUuidTextLength) return std::nullopt;
  if (text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-') return std::nullopt;
  // Each byte's two digits, read without a branch: a character that is not a digit reads -1,
  // whose sign bit the OR keeps. A per-character loop that skipped the dashes cost ~500
  // instructions a sighting (docs/bench.md#issue-17-23).
  static constexpr std::array<std::uint8_t, 16> kByteAt = {0,  2,  4,  6,  9,  11, 14, 16,
                                                           19, 21, 24, 26, 28, 30, 32, 34};
  Uuid out{};
  int invalid = 0;
  for (std::size_t byte = 0; byte < out.size(); ++byte) {
    const int hi = hex_value(text[kByteAt[byte]]);
    const int lo = hex_value(text[kByteAt[byte] + 1]);
    invalid |= hi | lo;
    out[byte] = static_cast<std::uint8_t>((hi & 0xF) << 4 | (lo & 0xF));
  }
  if (invalid < 0) return std::nullopt;
  return out;
}

UuidText format_uuid(const Uuid& uuid) {
  static constexpr char kHex[] = "0123456789abcdef";
  UuidText out{};
  std::size_t pos = 0;
  for (std::size_t byte = 0; byte < uuid.size(); ++byte) {
    if (is_dash_position(pos)) out[pos++] = '-';
    out[pos++] = kHex[uuid[byte] >> 4];
    out[pos++] = kHex[uuid[byte] & 0x0f];
  }
  return out;
}

std::string format_uuid_string(const Uuid& uuid) {
  const UuidText text = format_uuid(uuid);
  return {text.data(), text.size()};
}

namespace {

using DigestContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

Uuid digest_v5(EVP_MD_CTX* ctx, const EVP_MD* sha1, const Uuid& name_space, std::string_view name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  if (ctx == nullptr || sha1 == nullptr || EVP_DigestInit_ex(ctx, sha1, nullptr) != 1 ||
      EVP_DigestUpdate(ctx, name_space.data(), name_space.size()) != 1 ||
      EVP_DigestUpdate(ctx, name.data(), name.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, digest, &digest_length) != 1 || digest_length < 16) {
    throw std::runtime_error("OpenSSL SHA-1 failed");
  }
  Uuid out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = digest[i];
  out[6] = static_cast<std::uint8_t>((out[6] & 0x0f) | 0x50);
  out[8] = static_cast<std::uint8_t>((out[8] & 0x3f) | 0x80);
  return out;
}

}  // namespace

Uuid uuid_v5(const Uuid& name_space, std::string_view name) {
  // The one-shot EVP call: SHA1_Init and friends are deprecated in OpenSSL 3.
  const DigestContext ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  return digest_v5(ctx.get(), EVP_sha1(), name_space, name);
}

struct UuidV5Maker::Impl {
  // An explicit fetch: EVP_sha1() makes EVP_DigestInit_ex look the implementation up each time.
  std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> sha1{EVP_MD_fetch(nullptr, "SHA1", nullptr),
                                                       &EVP_MD_free};
  DigestContext ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
};

UuidV5Maker::UuidV5Maker() : impl_(std::make_unique<Impl>()) {
  if (!impl_->sha1 || !impl_->ctx) throw std::runtime_error("OpenSSL: no SHA-1");
}
UuidV5Maker::~UuidV5Maker() = default;

Uuid UuidV5Maker::operator()(const Uuid& name_space, std::string_view name) {
  return digest_v5(impl_->ctx.get(), impl_->sha1.get(), name_space, name);
}

}  // namespace tastesync
