#include "config/dsn.hpp"

#include <gtest/gtest.h>

namespace tastesync {
namespace {

// The review's examples (issue 12): a password holding '?', and a keyword DSN holding "://".
TEST(RedactDsn, HidesTheKeywordPasswordWhateverItHolds) {
  EXPECT_EQ(redact_dsn(R"(host=db user=app password='s3 cr\'et' dbname=t)"),
            "user=app password=*** dbname=t host=db");
  EXPECT_EQ(redact_dsn("host=db password=s3cret?x://y dbname=t"), "password=*** dbname=t host=db");
}

TEST(RedactDsn, HidesTheUriPasswordInUserInfoAndInTheQuery) {
  EXPECT_EQ(redact_dsn("postgresql://app:s3cret?@db:5432/t?sslmode=require"),
            "user=app password=*** dbname=t host=db port=5432 sslmode=require");
  EXPECT_EQ(redact_dsn("postgres://db/t?user=app&password=s3cret&sslmode=require"),
            "user=app password=*** dbname=t host=db sslmode=require");
}

TEST(RedactDsn, HidesEveryOptionLibpqMarksSecret) {
  EXPECT_EQ(redact_dsn("host=db sslpassword=k3y"), "host=db sslpassword=***");
}

TEST(RedactDsn, QuotesValuesLikeLibpq) {
  EXPECT_EQ(redact_dsn(R"(host=db application_name='a b\'c')"),
            R"(host=db application_name='a b\'c')");
}

TEST(RedactDsn, AnUnparseableDsnShowsNothingOfItself) {
  const std::string redacted = redact_dsn("postgresql://app:s3cret%zz@db/t");
  EXPECT_EQ(redacted.find("s3cret"), std::string::npos) << redacted;
  EXPECT_EQ(redacted.find("db"), std::string::npos) << redacted;
  EXPECT_EQ(redact_dsn(""), "");
}

TEST(DsnProblem, NamesWhatIsWrongWithoutQuotingTheDsn) {
  // libpq itself says: invalid percent-encoded token: "s3cret%zz"
  const auto problem = dsn_problem("postgresql://app:s3cret%zz@db/t");
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("invalid percent-encoded token"), std::string::npos) << *problem;
  EXPECT_EQ(problem->find("s3cret"), std::string::npos) << *problem;
  const auto unterminated = dsn_problem("host=db password='s3cret");
  ASSERT_TRUE(unterminated);
  EXPECT_EQ(unterminated->find("s3cret"), std::string::npos) << *unterminated;
  EXPECT_FALSE(dsn_problem("host=db password=s3cret"));
  EXPECT_FALSE(dsn_problem(""));
}

// libpq ends the user info at the first '/' or '@': the rest of the password would become the
// port or host, and libpq's connect error would quote it.
TEST(DsnProblem, AUriPasswordWithAnUnencodedSlashOrAtIsRefused) {
  for (const std::string dsn :
       {"postgresql://app:s3c/ret@db:5432/t", "postgresql://app:12/s3cret@db/t",
        "postgresql://app:s3cr@t@db/t"}) {
    const auto problem = dsn_problem(dsn);
    ASSERT_TRUE(problem) << dsn;
    EXPECT_NE(problem->find("percent-encode"), std::string::npos) << *problem;
    EXPECT_EQ(problem->find("s3c"), std::string::npos) << *problem;
  }
  EXPECT_FALSE(dsn_problem("postgresql://app:s3c%2Fr%40t@db:5432,db2:5433/t"));
  EXPECT_FALSE(dsn_problem("postgresql://app:s3cret?x:y@db/t")) << "libpq reads '?' and ':' right";
  EXPECT_FALSE(dsn_problem("postgresql://app%40corp:pw@db/t")) << "an '@' in a user name is fine";
}

TEST(DsnSecrets, AreThePasswordsAsLibpqDecodesThem) {
  EXPECT_EQ(dsn_secrets("postgresql://app:s3cret%3F%25@db/t"),
            (std::vector<std::string>{"s3cret?%"}));
  EXPECT_EQ(dsn_secrets(R"(host=db password='a \'b' sslpassword=c)"),
            (std::vector<std::string>{"a 'b", "c"}));
  EXPECT_TRUE(dsn_secrets("host=db").empty());
  EXPECT_TRUE(dsn_secrets("postgresql://app:s3cret%zz@db/t").empty());
}

}  // namespace
}  // namespace tastesync
