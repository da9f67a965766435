#include "config/redactor.hpp"

#include <gtest/gtest.h>

namespace tastesync {
namespace {

TEST(Redactor, WithoutSecretsTextPassesUnchanged) {
  EXPECT_EQ(Redactor().redact("password=hunter2"), "password=hunter2");
}

TEST(Redactor, EveryOccurrenceOfASecretIsMasked) {
  const Redactor redactor({"hunter2"});
  EXPECT_EQ(redactor.redact("hunter2 then hunter2, and hunter3"), "*** then ***, and hunter3");
}

TEST(Redactor, PercentEncodedFormsInEitherCaseAreMasked) {
  const Redactor redactor({"s3cret?%zz://'x"});
  EXPECT_EQ(redactor.redact("postgresql://app:s3cret%3F%25zz%3A%2F%2F%27x@db/t"),
            "postgresql://app:***@db/t");
  EXPECT_EQ(redactor.redact("user=app:s3cret%3f%25zz%3a//'x@"), "user=app:***@");
  EXPECT_EQ(redactor.redact("%73%33cret?%zz://'x"), "***") << "even letters encoded";
}

TEST(Redactor, BackslashEscapedAndDoubledQuotesAreMasked) {
  const Redactor redactor({R"(a'b"c\d)"});
  EXPECT_EQ(redactor.redact(R"(password='a\'b"c\\d')"), "password='***'");
  EXPECT_EQ(redactor.redact(R"({"msg":"a'b\"c\\d"})"), R"({"msg":"***"})");
  EXPECT_EQ(redactor.redact(R"(SET x = 'a''b"c\d')"), "SET x = '***'");
}

TEST(Redactor, SpaceWrittenAsPlusIsMasked) {
  EXPECT_EQ(Redactor({"two words"}).redact("p=two+words&x=1"), "p=***&x=1");
}

TEST(Redactor, TheLongerOfTwoOverlappingSecretsIsMaskedWhole) {
  const Redactor redactor({"abc", "abcdef"});
  EXPECT_EQ(redactor.redact("[abcdef] [abc]"), "[***] [***]");
}

TEST(Redactor, EmptySecretsAreIgnored) {
  const Redactor redactor({"", ""});
  EXPECT_TRUE(redactor.empty());
  EXPECT_EQ(redactor.redact("anything"), "anything");
}

}  // namespace
}  // namespace tastesync
