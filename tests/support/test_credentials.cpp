#include "tests/support/test_credentials.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace tastesync::testing {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free_all(bio); }
};
struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using Cert = std::unique_ptr<X509, X509Deleter>;
using Bio = std::unique_ptr<BIO, BioDeleter>;

template <typename Write>
std::string to_pem(Write write) {
  const Bio bio(BIO_new(BIO_s_mem()));
  if (write(bio.get()) != 1) throw std::runtime_error("cannot write PEM");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<std::size_t>(size)};
}

std::string private_pem(EVP_PKEY* key) {
  return to_pem([key](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
}

std::string base64url(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::string bignum_param(EVP_PKEY* key, const char* name) {
  BIGNUM* number = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &number) != 1) throw std::runtime_error("no RSA param");
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(number)), '\0');
  BN_bn2bin(number, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(number);
  return base64url(bytes);
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) throw std::runtime_error("cannot make a certificate extension");
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

// A certificate for `key` named `common_name`, signed by `issuer_key` (itself when null).
Cert certificate(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key,
                 long serial) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (issuer == nullptr) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    throw std::runtime_error("cannot sign a certificate");
  }
  return cert;
}

std::string cert_pem(X509* cert) {
  return to_pem([cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
}

}  // namespace

RsaKeys generate_rsa_keys(unsigned bits) {
  const Pkey key(EVP_RSA_gen(bits));
  if (!key) throw std::runtime_error("cannot generate an RSA key");
  RsaKeys keys;
  keys.private_pem = private_pem(key.get());
  keys.public_pem = to_pem([&key](BIO* bio) { return PEM_write_bio_PUBKEY(bio, key.get()); });
  keys.n = bignum_param(key.get(), OSSL_PKEY_PARAM_RSA_N);
  keys.e = bignum_param(key.get(), OSSL_PKEY_PARAM_RSA_E);
  return keys;
}

std::string sign_token(const std::string& claims_json, const std::string& key_pem, jwt_alg_t alg,
                       const std::string& kid) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new");
  const std::unique_ptr<jwt_t, JwtDeleter> jwt(raw);
  if (jwt_add_grants_json(jwt.get(), claims_json.c_str()) != 0) {
    throw std::runtime_error("claims are not a JSON object: " + claims_json);
  }
  if (!kid.empty()) jwt_add_header(jwt.get(), "kid", kid.c_str());
  if (alg == JWT_ALG_NONE) {
    jwt_set_alg(jwt.get(), alg, nullptr, 0);
  } else {
    jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(key_pem.data()),
                static_cast<int>(key_pem.size()));
  }
  char* token = jwt_encode_str(jwt.get());
  if (token == nullptr) throw std::runtime_error("cannot sign the token");
  std::string text(token);
  std::free(token);  // libjwt 1.10 returns malloc()ed text
  return text;
}

TlsFiles make_tls_files() {
  const Pkey ca_key(EVP_RSA_gen(2048));
  const Pkey server_key(EVP_RSA_gen(2048));
  const Pkey client_key(EVP_RSA_gen(2048));
  const Cert ca = certificate(ca_key.get(), "tastesync test CA", nullptr, nullptr, 1);
  const Cert server = certificate(server_key.get(), "localhost", ca.get(), ca_key.get(), 2);
  const Cert client = certificate(client_key.get(), "test client", ca.get(), ca_key.get(), 3);
  return TlsFiles{cert_pem(ca.get()), cert_pem(server.get()), private_pem(server_key.get()),
                  cert_pem(client.get()), private_pem(client_key.get())};
}

}  // namespace tastesync::testing
