#include "rpc/jwt_verifier.hpp"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "common/config_error.hpp"

namespace tastesync {
namespace {

// Tokens are a few hundred bytes; anything near the metadata limit is not one of ours.
constexpr std::size_t kMaxTokenBytes = 8192;
constexpr int kMinRsaBits = 2048;  // the seeds' policy: RSA 2048

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free_all(bio); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyContextDeleter {
  void operator()(EVP_PKEY_CTX* context) const { EVP_PKEY_CTX_free(context); }
};
struct BignumDeleter {
  void operator()(BIGNUM* number) const { BN_free(number); }
};
struct ParamBuildDeleter {
  void operator()(OSSL_PARAM_BLD* build) const { OSSL_PARAM_BLD_free(build); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
struct JwtStringDeleter {
  // libjwt 1.10 returns malloc()ed text.
  void operator()(char* text) const { std::free(text); }  // NOLINT(cppcoreguidelines-owning-memory)
};
using Bio = std::unique_ptr<BIO, BioDeleter>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using Bignum = std::unique_ptr<BIGNUM, BignumDeleter>;
using Jwt = std::unique_ptr<jwt_t, JwtDeleter>;

std::string read_whole(const std::string& path, const char* key) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  if (!file || !(text << file.rdbuf())) {
    throw ConfigError(std::string(key) + ": cannot read " + path);
  }
  return text.str();
}

// base64url without padding (RFC 7515 §2) -> bytes; nullopt for anything else.
std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1 || text.size() > kMaxTokenBytes) return std::nullopt;
  std::string standard(text);
  for (char& c : standard) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!std::isalnum(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  const std::size_t padding = (4 - standard.size() % 4) % 4;
  standard.append(padding, '=');
  std::string bytes(standard.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                     reinterpret_cast<const unsigned char*>(standard.data()),
                                     static_cast<int>(standard.size()));
  if (length < 0) return std::nullopt;
  bytes.resize(static_cast<std::size_t>(length) - padding);
  return bytes;
}

// The key as libjwt's OpenSSL backend reads it (PEM_read_bio_PUBKEY); throws unless it is RSA
// of at least 2048 bits.
std::string public_pem(EVP_PKEY* key, const std::string& where) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    throw ConfigError(where + ": not an RSA key (only RS256 is accepted)");
  }
  if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
    throw ConfigError(where + ": an RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) +
                      " bits; at least 2048 are needed");
  }
  const Bio out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PUBKEY(out.get(), key) != 1) {
    throw ConfigError(where + ": cannot encode the key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return {data, static_cast<std::size_t>(size)};
}

std::vector<std::string> pem_keys(const std::string& path) {
  const std::string text = read_whole(path, "grpc.jwt_public_key_file");
  const Bio in(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  std::vector<std::string> keys;
  while (true) {
    const Pkey key(PEM_read_bio_PUBKEY(in.get(), nullptr, nullptr, nullptr));
    if (!key) break;
    keys.push_back(public_pem(key.get(), "grpc.jwt_public_key_file " + path + ", key " +
                                             std::to_string(keys.size() + 1)));
  }
  if (keys.empty()) {
    throw ConfigError("grpc.jwt_public_key_file: " + path +
                      " holds no PEM public key (-----BEGIN PUBLIC KEY-----)");
  }
  return keys;
}

Bignum bignum_of(std::string_view base64url, const std::string& where) {
  const std::optional<std::string> bytes = base64url_decode(base64url);
  if (!bytes || bytes->empty()) throw ConfigError(where + " is not base64url");
  return Bignum(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes->data()),
                          static_cast<int>(bytes->size()), nullptr));
}

// An RSA public key from a JWK's modulus and exponent.
std::string pem_of_jwk(std::string_view n, std::string_view e, const std::string& where) {
  const Bignum modulus = bignum_of(n, where + ": n");
  const Bignum exponent = bignum_of(e, where + ": e");
  const std::unique_ptr<OSSL_PARAM_BLD, ParamBuildDeleter> build(OSSL_PARAM_BLD_new());
  if (!modulus || !exponent || !build ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()) != 1) {
    throw ConfigError(where + ": cannot build the key");
  }
  const std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(build.get()));
  const std::unique_ptr<EVP_PKEY_CTX, PkeyContextDeleter> context(
      EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    throw ConfigError(where + ": not a usable RSA key");
  }
  const Pkey key(raw);
  return public_pem(key.get(), where);
}

std::string_view string_member(simdjson::dom::object object, std::string_view name) {
  std::string_view value;
  return object[name].get_string().get(value) == simdjson::SUCCESS ? value : std::string_view();
}

struct JwkKey {
  std::string kid;
  std::string pem;
};

std::vector<JwkKey> jwks_keys(const std::string& path) {
  const std::string text = read_whole(path, "grpc.jwks_file");
  simdjson::dom::parser parser;
  simdjson::dom::array keys;
  if (parser.parse(text)["keys"].get_array().get(keys) != simdjson::SUCCESS) {
    throw ConfigError("grpc.jwks_file: " + path + " is not a JWK Set ({\"keys\": [...]})");
  }
  std::vector<JwkKey> loaded;
  std::size_t index = 0;
  for (simdjson::dom::element element : keys) {
    ++index;
    simdjson::dom::object key;
    if (element.get_object().get(key) != simdjson::SUCCESS) continue;
    const std::string where = "grpc.jwks_file " + path + ", key " + std::to_string(index);
    // RFC 7517: a key for something else (encryption, another algorithm) is not ours to use.
    const std::string_view use = string_member(key, "use");
    const std::string_view alg = string_member(key, "alg");
    if (string_member(key, "kty") != "RSA" || (!use.empty() && use != "sig") ||
        (!alg.empty() && alg != "RS256")) {
      continue;
    }
    loaded.push_back(JwkKey{std::string(string_member(key, "kid")),
                            pem_of_jwk(string_member(key, "n"), string_member(key, "e"), where)});
  }
  if (loaded.empty()) {
    throw ConfigError("grpc.jwks_file: " + path + " holds no RSA signing key for RS256");
  }
  return loaded;
}

Failure<TokenRefusal> refused(std::string reason) {
  return Failure{TokenRefusal{std::move(reason)}};
}

// A NumericDate (RFC 7519 §2): a JSON number of seconds, possibly with a fraction; held to
// +-2^52 s (far beyond any real date), so that adding the skew can never overflow.
std::optional<std::int64_t> numeric_date(simdjson::dom::object claims, std::string_view name) {
  constexpr std::int64_t kLimit = std::int64_t{1} << 52;
  simdjson::dom::element value;
  if (claims[name].get(value) != simdjson::SUCCESS) return std::nullopt;
  std::int64_t whole = 0;
  if (value.get_int64().get(whole) == simdjson::SUCCESS) {
    return std::clamp(whole, -kLimit, kLimit);
  }
  double real = 0;
  if (value.get_double().get(real) == simdjson::SUCCESS && real == real) {
    return static_cast<std::int64_t>(
        std::clamp(real, -static_cast<double>(kLimit), static_cast<double>(kLimit)));
  }
  return std::nullopt;
}

bool audience_holds(simdjson::dom::object claims, std::string_view audience) {
  simdjson::dom::element aud;
  if (claims["aud"].get(aud) != simdjson::SUCCESS) return false;
  std::string_view single;
  if (aud.get_string().get(single) == simdjson::SUCCESS) return single == audience;
  simdjson::dom::array many;
  if (aud.get_array().get(many) != simdjson::SUCCESS) return false;
  return std::any_of(many.begin(), many.end(), [&](simdjson::dom::element item) {
    std::string_view text;
    return item.get_string().get(text) == simdjson::SUCCESS && text == audience;
  });
}

// `store_id`: "s1", ["s1", "s2"], or "*" for every store. Anything else: no store at all.
void read_stores(simdjson::dom::object claims, TokenClaims& out) {
  simdjson::dom::element stores;
  if (claims["store_id"].get(stores) != simdjson::SUCCESS) return;
  std::string_view single;
  if (stores.get_string().get(single) == simdjson::SUCCESS) {
    if (single == "*") {
      out.all_stores = true;
    } else if (!single.empty()) {
      out.stores.emplace(single);
    }
    return;
  }
  simdjson::dom::array many;
  if (stores.get_array().get(many) != simdjson::SUCCESS) return;
  for (simdjson::dom::element item : many) {
    std::string_view text;
    if (item.get_string().get(text) == simdjson::SUCCESS && !text.empty() && text != "*") {
      out.stores.emplace(text);
    }
  }
}

}  // namespace

JwtVerifier::JwtVerifier(const JwtOptions& options) : options_(options) {
  if (options_.issuer.empty()) {
    throw ConfigError("grpc.jwt_issuer: must be set when a key is configured (tokens' iss)");
  }
  if (options_.audience.empty()) {
    throw ConfigError("grpc.jwt_audience: must be set when a key is configured (tokens' aud)");
  }
  if (!options_.public_key_file.empty()) {
    for (std::string& pem : pem_keys(options_.public_key_file)) {
      keys_.push_back(Key{"", std::move(pem)});
    }
  }
  if (!options_.jwks_file.empty()) {
    for (JwkKey& key : jwks_keys(options_.jwks_file)) {
      keys_.push_back(Key{std::move(key.kid), std::move(key.pem)});
    }
  }
  if (keys_.empty()) {
    throw ConfigError("grpc.jwt_public_key_file / grpc.jwks_file: no key configured");
  }
}

Result<TokenClaims, TokenRefusal> JwtVerifier::verify(std::string_view token,
                                                      std::int64_t now_s) const {
  if (token.empty()) return refused("no token");
  if (token.size() > kMaxTokenBytes) return refused("token too large");
  const std::size_t dot = token.find('.');
  if (dot == std::string_view::npos || std::count(token.begin(), token.end(), '.') != 2) {
    return refused("not a JWS compact token");
  }
  const std::optional<std::string> header_json = base64url_decode(token.substr(0, dot));
  simdjson::dom::parser parser;
  simdjson::dom::object header;
  if (!header_json || parser.parse(*header_json).get_object().get(header) != simdjson::SUCCESS) {
    return refused("unreadable token header");
  }
  // Only RS256, decided here and not by the token: "none" and HS256 over the public key are the
  // classic forgeries.
  if (string_member(header, "alg") != "RS256") return refused("alg is not RS256");
  const std::string kid(string_member(header, "kid"));

  const std::string text(token);
  Jwt verified;
  for (const Key& key : keys_) {
    if (!kid.empty() && !key.kid.empty() && key.kid != kid) continue;
    jwt_t* raw = nullptr;
    if (jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(key.pem.data()),
                   static_cast<int>(key.pem.size())) == 0) {
      verified.reset(raw);
      break;
    }
    jwt_free(raw);
  }
  if (!verified || jwt_get_alg(verified.get()) != JWT_ALG_RS256) return refused("bad signature");

  const std::unique_ptr<char, JwtStringDeleter> grants(
      jwt_get_grants_json(verified.get(), nullptr));
  simdjson::dom::object claims;
  if (!grants ||
      parser.parse(std::string_view(grants.get())).get_object().get(claims) != simdjson::SUCCESS) {
    return refused("unreadable claims");
  }
  const std::optional<std::int64_t> expires = numeric_date(claims, "exp");
  if (!expires) return refused("no exp");
  if (now_s > *expires + options_.clock_skew_s) return refused("expired");
  const std::optional<std::int64_t> not_before = numeric_date(claims, "nbf");
  if (not_before && now_s + options_.clock_skew_s < *not_before) return refused("not yet valid");
  if (string_member(claims, "iss") != options_.issuer) return refused("wrong issuer");
  if (!audience_holds(claims, options_.audience)) return refused("wrong audience");

  TokenClaims result;
  result.subject = string_member(claims, "sub");
  read_stores(claims, result);
  return result;
}

}  // namespace tastesync
