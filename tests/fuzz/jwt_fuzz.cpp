// Bearer tokens are the first thing a gRPC caller controls (docs/grpc.md#auth): any bytes go
// through JwtVerifier::verify — base64url, the header's JSON, libjwt's decode and signature
// check — without a crash, a sanitizer report or an accepted forgery.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "rpc/jwt_verifier.hpp"
#include "tests/support/test_credentials.hpp"

namespace {

const tastesync::JwtVerifier& verifier() {
  static const tastesync::JwtVerifier instance = [] {
    const auto path = std::filesystem::temp_directory_path() / "jwt_fuzz_issuer.pem";
    std::ofstream(path) << tastesync::testing::generate_rsa_keys().public_pem;
    return tastesync::JwtVerifier(
        tastesync::JwtOptions{path.string(), "", "https://issuer.test", "tastesync", 30});
  }();
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto result =
      verifier().verify(std::string_view(reinterpret_cast<const char*>(data), size), 1767225600);
  // No key signed these bytes: nothing may pass.
  if (result.ok()) std::abort();
  return 0;
}
