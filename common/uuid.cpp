#include "common/uuid.hpp"

#include <openssl/evp.h>

#include <array>
#include <bit>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace tastesync {
namespace {

template <typename Word>
Word load(const char* bytes) {
  Word word;
  std::memcpy(&word, bytes, sizeof word);
  return word;
}

// The words below hold a text's first byte in their lowest byte.
static_assert(std::endian::native == std::endian::little);

// Eight hex digits of either case, the first in the lowest byte, as four bytes (the first digit
// is the first byte's high nibble); false when any of the eight is not a hex digit. Every
// sighting carries a UUID: a digit at a time through a table cost ~300 instructions a UUID
// (docs/bench.md#issue-17-24).
bool hex_digits(std::uint64_t word, std::uint32_t& out) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  // With every byte below 0x80, adding 0x80 - n to each sets its high bit exactly when it is at
  // least n, and no byte's sum carries into the next. A word with a byte at or above 0x80 is
  // refused whatever the sums say.
  const auto at_least = [](std::uint64_t bytes, std::uint64_t n) {
    return (bytes + kOnes * (0x80 - n)) & kHighBits;
  };
  const std::uint64_t folded = word | kOnes * 0x20;  // letters in lower case, digits unchanged
  const std::uint64_t digits = at_least(word, '0') & ~at_least(word, '9' + 1);
  const std::uint64_t letters = at_least(folded, 'a') & ~at_least(folded, 'f' + 1);
  const bool valid = ((word & kHighBits) | ((digits | letters) ^ kHighBits)) == 0;
  // A digit's value is its low nibble, a letter's its low nibble plus 9.
  std::uint64_t value = (word & kOnes * 0x0F) + (letters >> 7) * 9;
  // Each pair of nibbles into the low byte of its 16 bits, then those bytes side by side.
  value = ((value << 4) & 0x00F000F000F000F0ULL) | ((value >> 8) & 0x000F000F000F000FULL);
  value = (value | (value >> 8)) & 0x0000FFFF0000FFFFULL;
  out = static_cast<std::uint32_t>(value | (value >> 16));
  return valid;
}

constexpr bool is_dash_position(std::size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

}  // namespace

std::optional<Uuid> parse_uuid(std::string_view text) {
  if (text.size() != kUuidTextLength) return std::nullopt;
  if (text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-') return std::nullopt;
  // The 32 digits as four words of eight: 0-7, 9-12 with 14-17, 19-22 with 24-27, 28-35.
  const char* at = text.data();
  const std::uint64_t words[4] = {
      load<std::uint64_t>(at),
      load<std::uint32_t>(at + 9) | std::uint64_t{load<std::uint32_t>(at + 14)} << 32,
      load<std::uint32_t>(at + 19) | std::uint64_t{load<std::uint32_t>(at + 24)} << 32,
      load<std::uint64_t>(at + 28)};
  Uuid out{};
  bool valid = true;
  for (std::size_t w = 0; w < 4; ++w) {
    std::uint32_t bytes = 0;
    valid &= hex_digits(words[w], bytes);
    std::memcpy(out.data() + 4 * w, &bytes, sizeof bytes);  // the first byte is the lowest
  }
  if (!valid) return std::nullopt;
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
