#include "common/erasure.hpp"

#include <gtest/gtest.h>

namespace tastesync {
namespace {

// The value PostgreSQL computes for the same text: the sinks' suppression list and the log must
// agree (docs/operations.md#forget).
TEST(CustomerHashTest, IsTheHexSha256OfTheIdsBytes) {
  EXPECT_EQ(customer_hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(customer_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(customer_hash_short("abc"), "ba7816bf8f01");
  EXPECT_NE(customer_hash("cust-1"), customer_hash("cust-2"));
}

TEST(ErasureRequestIdTest, IsOneTo64PrintableAsciiCharacters) {
  EXPECT_TRUE(valid_erasure_request_id("ticket-42"));
  EXPECT_TRUE(valid_erasure_request_id(std::string(64, 'a')));
  EXPECT_FALSE(valid_erasure_request_id(""));
  EXPECT_FALSE(valid_erasure_request_id(std::string(65, 'a')));
  EXPECT_FALSE(valid_erasure_request_id("two words"));
  EXPECT_FALSE(valid_erasure_request_id("line\nbreak"));
  EXPECT_FALSE(valid_erasure_request_id("caf\xc3\xa9"));
}

}  // namespace
}  // namespace tastesync
