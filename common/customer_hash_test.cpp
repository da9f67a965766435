#include "common/customer_hash.hpp"

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

}  // namespace
}  // namespace tastesync
