// The helpers the integration tests rely on: the yardsticks checked against published vectors,
// so a test failure points at the product rather than at them, and the child processes' stop.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <string>

#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

TEST(TestSupport, UuidV5GivesTheSpecTestVector) {
  // docs/contract.md#event-id: the example event's name gives
  // 10ef298c-1c10-55df-9149-b492e3cf5787.
  EXPECT_EQ(expected_event_id("cust123", "store100", "Table 3", "2025-03-02T12:00:00.123Z",
                              "0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10"),
            "10ef298c-1c10-55df-9149-b492e3cf5787");
}

TEST(TestSupport, UuidV5GivesTheRfc4122DnsExample) {
  // Python's uuid.uuid5(uuid.NAMESPACE_DNS, "python.org"), the textbook example.
  EXPECT_EQ(uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d");
}

TEST(TestSupport, Murmur2MatchesKafkaJavaClientVectors) {
  // org.apache.kafka.common.utils.UtilsTest#testMurmur2
  EXPECT_EQ(murmur2("21"), -973932308);
  EXPECT_EQ(murmur2("foobar"), -790332482);
  EXPECT_EQ(murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  EXPECT_EQ(murmur2("abc"), 479470107);
}

TEST(TestSupport, CanonicalTimeRoundTrips) {
  EXPECT_EQ(canonical_time(epoch_ms("2025-03-02T12:00:00.123Z")), "2025-03-02T12:00:00.123Z");
  EXPECT_EQ(epoch_ms("2025-03-02T12:00:00.000Z"), 1740916800000);
}

// A child that ignores SIGTERM is killed at the stop's timeout, and the log says where its
// threads were, so that a stop that hangs in CI can be diagnosed from the log alone.
TEST(TestSupport, AChildThatDoesNotStopHasItsStacksPrintedBeforeTheKill) {
  if (access("/usr/bin/gdb", X_OK) != 0) GTEST_SKIP() << "no gdb (scripts/install-deps.sh)";
  // Yama's scopes 2 and 3 let no test process attach, whatever the child allows.
  std::ifstream yama("/proc/sys/kernel/yama/ptrace_scope");
  if (int scope = 0; yama >> scope && scope >= 2) GTEST_SKIP() << "ptrace_scope " << scope;
  TempDir dir;
  Subprocess child({"/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 60"}, dir.path(),
                   "stubborn");
  ASSERT_TRUE(
      wait_until([&] { return child.stdout_text() == "ready\n"; }, std::chrono::seconds(10)));
  ::testing::internal::CaptureStderr();
  const ExitStatus stopped = child.terminate(std::chrono::milliseconds(300));
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stopped.signal, SIGKILL) << stopped.describe();
  EXPECT_NE(printed.find("stubborn (pid " + std::to_string(child.pid()) + ") did not stop"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("#0 "), std::string::npos) << printed;
}

class TestProducerTest : public BrokerTest {};

TEST_F(TestProducerTest, PlacesKeysWhereTheJavaPartitionerDoes) {
  start_broker();
  for (const std::string key : {"cust123", "cust0001", "someone-else", "a", "21"}) {
    OutgoingRecord record;
    record.key = key;
    record.value = "x";
    EXPECT_EQ(producer().produce("raw-beacons", record).partition, murmur2_partition(key, 6))
        << key;
  }
}

}  // namespace
}  // namespace tastesync::testing
