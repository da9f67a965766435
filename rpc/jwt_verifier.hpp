#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace tastesync {

// Where the verifier's keys come from and what a token must say (docs/grpc.md#auth).
struct JwtOptions {
  std::string public_key_file;  // PEM, one or more RSA public keys
  std::string jwks_file;        // a JWK Set: {"keys":[{"kty":"RSA","kid":..,"n":..,"e":..}]}
  std::string issuer;           // `iss` must equal it
  std::string audience;         // `aud` (a string or an array) must hold it
  std::int64_t clock_skew_s = 30;
};

// What a verified token allows: its subject (for the audit log) and the stores it may use.
struct TokenClaims {
  std::string subject;
  bool all_stores = false;                    // `"store_id": "*"`
  std::set<std::string, std::less<>> stores;  // `"store_id": "s1"` or `["s1", "s2"]`

  bool may_use(std::string_view store_id) const {
    return all_stores || stores.find(store_id) != stores.end();
  }
};

// Why a token was refused: for the caller only in the words of its status code; `reason` goes to
// the log (never the token).
struct TokenRefusal {
  std::string reason;
};

// RS256 JWTs checked against keys loaded at start: the signature (by libjwt, only ever with
// RS256: the header's alg is checked before and after), `exp` (required) and `nbf` with bounded
// skew, `iss`, `aud`, and the `store_id` claim's shape. Thread-safe once built.
class JwtVerifier {
 public:
  // Throws ConfigError naming grpc.jwt_public_key_file / grpc.jwks_file when a file cannot be
  // read or holds no usable RSA key of at least 2048 bits, and grpc.jwt_issuer /
  // grpc.jwt_audience when either is empty.
  explicit JwtVerifier(const JwtOptions& options);

  Result<TokenClaims, TokenRefusal> verify(std::string_view token, std::int64_t now_s) const;
  std::size_t key_count() const { return keys_.size(); }

 private:
  struct Key {
    std::string kid;  // "" when the file did not name it
    std::string pem;  // SubjectPublicKeyInfo, as libjwt reads it
  };
  JwtOptions options_;
  std::vector<Key> keys_;
};

}  // namespace tastesync
