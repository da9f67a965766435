#include "rpc/jwt_verifier.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/config_error.hpp"
#include "tests/support/test_credentials.hpp"

namespace tastesync {
namespace {

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
constexpr const char* kIssuer = "https://auth.tastesync.test";
constexpr const char* kAudience = "tastesync-customer-id";

using testing::generate_rsa_keys;
using testing::RsaKeys;

std::string sign(const std::string& claims, const std::string& key_pem,
                 jwt_alg_t alg = JWT_ALG_RS256, const char* kid = "") {
  return testing::sign_token(claims, key_pem, alg, kid);
}

std::string claims(const std::string& extra = R"("store_id":"store100")",
                   std::int64_t exp = kNow + 600) {
  return std::string(R"({"iss":")") + kIssuer + R"(","aud":")" + kAudience +
         R"(","sub":"app-1","exp":)" + std::to_string(exp) + (extra.empty() ? "" : ",") + extra +
         "}";
}

class JwtVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    signer_ = new RsaKeys(generate_rsa_keys());
    stranger_ = new RsaKeys(generate_rsa_keys());
  }
  static void TearDownTestSuite() {
    delete signer_;
    delete stranger_;
  }
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("jwt-verifier-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) const {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  JwtVerifier pem_verifier(std::int64_t skew = 30) const {
    return JwtVerifier(
        JwtOptions{write("key.pem", signer_->public_pem), "", kIssuer, kAudience, skew});
  }

  static RsaKeys* signer_;
  static RsaKeys* stranger_;
  std::filesystem::path dir_;
};
RsaKeys* JwtVerifierTest::signer_ = nullptr;
RsaKeys* JwtVerifierTest::stranger_ = nullptr;

TEST_F(JwtVerifierTest, AValidTokenGivesItsSubjectAndStores) {
  const JwtVerifier verifier = pem_verifier();
  auto one = verifier.verify(sign(claims(), signer_->private_pem), kNow);
  ASSERT_TRUE(one) << one.error().reason;
  EXPECT_EQ(one->subject, "app-1");
  EXPECT_TRUE(one->may_use("store100"));
  EXPECT_FALSE(one->may_use("store200"));

  auto many = verifier.verify(
      sign(claims(R"("store_id":["store100","store200"])"), signer_->private_pem), kNow);
  ASSERT_TRUE(many);
  EXPECT_TRUE(many->may_use("store200"));
  EXPECT_FALSE(many->all_stores);

  auto all = verifier.verify(sign(claims(R"("store_id":"*")"), signer_->private_pem), kNow);
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->may_use("anywhere"));
}

TEST_F(JwtVerifierTest, AStoreClaimMissingOrOfAnotherShapeAllowsNoStore) {
  const JwtVerifier verifier = pem_verifier();
  for (const std::string& extra :
       {std::string(), std::string(R"("store_id":7)"), std::string(R"("store_id":["*"])"),
        std::string(R"("store_id":"")")}) {
    auto result = verifier.verify(sign(claims(extra), signer_->private_pem), kNow);
    ASSERT_TRUE(result) << extra;
    EXPECT_FALSE(result->all_stores) << extra;
    EXPECT_FALSE(result->may_use("store100")) << extra;
  }
}

TEST_F(JwtVerifierTest, ASignatureByAnotherKeyIsRefused) {
  auto result = pem_verifier().verify(sign(claims(), stranger_->private_pem), kNow);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().reason, "bad signature");
}

TEST_F(JwtVerifierTest, NoneAndHs256OverThePublicKeyAreRefused) {
  const JwtVerifier verifier = pem_verifier();
  // The classic forgery: HMAC with the server's public key as the secret.
  auto hs256 = verifier.verify(sign(claims(), signer_->public_pem, JWT_ALG_HS256), kNow);
  ASSERT_FALSE(hs256);
  EXPECT_EQ(hs256.error().reason, "alg is not RS256");
  auto none = verifier.verify(sign(claims(), "", JWT_ALG_NONE), kNow);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().reason, "alg is not RS256");
}

TEST_F(JwtVerifierTest, ExpAndNbfAreCheckedWithTheConfiguredSkewOnly) {
  const JwtVerifier verifier = pem_verifier(30);
  EXPECT_TRUE(verifier.verify(sign(claims("", kNow - 29), signer_->private_pem), kNow));
  auto expired = verifier.verify(sign(claims("", kNow - 31), signer_->private_pem), kNow);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().reason, "expired");

  EXPECT_TRUE(verifier.verify(
      sign(claims(R"("nbf":)" + std::to_string(kNow + 29)), signer_->private_pem), kNow));
  auto early = verifier.verify(
      sign(claims(R"("nbf":)" + std::to_string(kNow + 31)), signer_->private_pem), kNow);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().reason, "not yet valid");

  auto no_exp = verifier.verify(
      sign(std::string(R"({"iss":")") + kIssuer + R"(","aud":")" + kAudience + R"("})",
           signer_->private_pem),
      kNow);
  ASSERT_FALSE(no_exp);
  EXPECT_EQ(no_exp.error().reason, "no exp");
}

TEST_F(JwtVerifierTest, ExtremeDatesNeitherOverflowNorPass) {
  const JwtVerifier verifier = pem_verifier(300);
  // UndefinedBehaviorSanitizer fails the test on a signed overflow in the skew arithmetic.
  EXPECT_TRUE(verifier.verify(
      sign(claims(R"("nbf":-9223372036854775808)", 9223372036854775807), signer_->private_pem),
      kNow));
  EXPECT_FALSE(verifier.verify(sign(claims("", -9223372036854775807), signer_->private_pem), kNow));
  EXPECT_FALSE(verifier.verify(
      sign(claims(R"("nbf":9223372036854775807)", 9223372036854775807), signer_->private_pem),
      kNow));
  const std::string prefix =
      std::string(R"({"iss":")") + kIssuer + R"(","aud":")" + kAudience + R"(","exp":)";
  EXPECT_TRUE(verifier.verify(sign(prefix + "1e308}", signer_->private_pem), kNow));
  EXPECT_FALSE(verifier.verify(sign(prefix + "-1e308}", signer_->private_pem), kNow));
}

TEST_F(JwtVerifierTest, IssuerAndAudienceMustMatch) {
  const JwtVerifier verifier = pem_verifier();
  const std::string exp = R"(,"exp":)" + std::to_string(kNow + 60) + "}";
  auto issuer = verifier.verify(
      sign(std::string(R"({"iss":"https://evil.test","aud":")") + kAudience + "\"" + exp,
           signer_->private_pem),
      kNow);
  ASSERT_FALSE(issuer);
  EXPECT_EQ(issuer.error().reason, "wrong issuer");
  auto audience = verifier.verify(
      sign(std::string(R"({"iss":")") + kIssuer + R"(","aud":"another-service")" + exp,
           signer_->private_pem),
      kNow);
  ASSERT_FALSE(audience);
  EXPECT_EQ(audience.error().reason, "wrong audience");
  EXPECT_TRUE(verifier.verify(sign(std::string(R"({"iss":")") + kIssuer +
                                       R"(","aud":["another-service",")" + kAudience + "\"]" + exp,
                                   signer_->private_pem),
                              kNow));
}

TEST_F(JwtVerifierTest, AJwkSetChoosesTheKeyByKid) {
  const std::string jwks = R"({"keys":[{"kty":"EC","kid":"ec","crv":"P-256","x":"AA","y":"AA"},)"
                           R"({"kty":"RSA","kid":"old","use":"sig","n":")" +
                           stranger_->n + R"(","e":")" + stranger_->e +
                           R"("},{"kty":"RSA","kid":"new","alg":"RS256","n":")" + signer_->n +
                           R"(","e":")" + signer_->e + R"("}]})";
  const JwtVerifier verifier(JwtOptions{"", write("jwks.json", jwks), kIssuer, kAudience, 30});
  EXPECT_EQ(verifier.key_count(), 2U);
  EXPECT_TRUE(verifier.verify(sign(claims(), signer_->private_pem, JWT_ALG_RS256, "new"), kNow));
  EXPECT_TRUE(verifier.verify(sign(claims(), signer_->private_pem), kNow));  // no kid: any key
  auto wrong_kid =
      verifier.verify(sign(claims(), signer_->private_pem, JWT_ALG_RS256, "old"), kNow);
  ASSERT_FALSE(wrong_kid);
  EXPECT_EQ(wrong_kid.error().reason, "bad signature");
}

TEST_F(JwtVerifierTest, GarbageIsRefusedWithoutACrash) {
  const JwtVerifier verifier = pem_verifier();
  const std::string valid = sign(claims(), signer_->private_pem);
  for (const std::string& token :
       {std::string(), std::string("a.b"), std::string("a.b.c.d"), std::string("..."),
        std::string("!!!.@@@.###"), std::string(9000, 'a'), valid.substr(0, valid.size() - 5),
        valid + "x", "e30." + valid.substr(valid.find('.') + 1)}) {
    EXPECT_FALSE(verifier.verify(token, kNow)) << token.substr(0, 40);
  }
}

TEST_F(JwtVerifierTest, BadKeyConfigurationIsAStartErrorNamingTheKey) {
  const auto error_of = [](const JwtOptions& options) {
    try {
      JwtVerifier verifier(options);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string key = write("key.pem", signer_->public_pem);
  EXPECT_NE(error_of({key, "", "", kAudience, 30}).find("grpc.jwt_issuer"), std::string::npos);
  EXPECT_NE(error_of({key, "", kIssuer, "", 30}).find("grpc.jwt_audience"), std::string::npos);
  EXPECT_NE(error_of({(dir_ / "missing.pem").string(), "", kIssuer, kAudience, 30})
                .find("grpc.jwt_public_key_file: cannot read"),
            std::string::npos);
  EXPECT_NE(error_of({write("empty.pem", "not a key"), "", kIssuer, kAudience, 30})
                .find("no PEM public key"),
            std::string::npos);
  const RsaKeys weak = generate_rsa_keys(1024);
  EXPECT_NE(error_of({write("weak.pem", weak.public_pem), "", kIssuer, kAudience, 30})
                .find("at least 2048"),
            std::string::npos);
  EXPECT_NE(error_of({"", write("ec.json", R"({"keys":[{"kty":"EC"}]})"), kIssuer, kAudience, 30})
                .find("grpc.jwks_file"),
            std::string::npos);
  EXPECT_NE(error_of({"", write("bad.json", R"({"keys":[{"kty":"RSA","n":"%%","e":"AQAB"}]})"),
                      kIssuer, kAudience, 30})
                .find("not base64url"),
            std::string::npos);
}

}  // namespace
}  // namespace tastesync
