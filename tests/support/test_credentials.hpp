#pragma once

#include <jwt.h>

#include <string>

// Keys, tokens and certificates a test makes for itself: an RSA key pair and RS256 tokens as an
// identity provider would issue them, and a CA with a server and a client certificate for TLS.
namespace tastesync::testing {

struct RsaKeys {
  std::string private_pem;
  std::string public_pem;  // SubjectPublicKeyInfo
  std::string n;           // the modulus and exponent, base64url, as a JWK writes them
  std::string e;
};

RsaKeys generate_rsa_keys(unsigned bits = 2048);

// A compact JWS of `claims_json` signed with `key_pem` (for HS256, the secret) by `alg`, with a
// `kid` header when one is given.
std::string sign_token(const std::string& claims_json, const std::string& key_pem,
                       jwt_alg_t alg = JWT_ALG_RS256, const std::string& kid = "");

struct TlsFiles {
  std::string ca_pem;
  std::string server_cert_pem;  // for "localhost" and 127.0.0.1
  std::string server_key_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
};

TlsFiles make_tls_files();

}  // namespace tastesync::testing
