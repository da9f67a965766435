// Shutdown is bounded by shutdown.timeout_ms even when the broker is gone
// (docs/contract.md#shutdown).
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

class Shutdown : public BrokerTest {};

TEST_F(Shutdown, WithTheBrokerGoneItStillStopsWithinTheTimeoutAndSaysSo) {
  start_broker();
  PipelineOptions options = pipeline_options("pipeline", "main");
  options.environment.emplace_back("TASTESYNC_SHUTDOWN__TIMEOUT_MS", "2000");
  auto pipeline = start_pipeline(options);
  produce_sighting(BeaconSighting{.sighting_id = "shutdown-1",
                                  .customer_id = "cust-shutdown",
                                  .minor = 13,
                                  .detected_at = canonical_time(1740916800000)});
  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(events.read_until(
      [](const std::vector<Record>& records) {
        return event_of_sighting(records, "shutdown-1") != nullptr;
      },
      kOutputTimeout));

  stop_broker();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  pipeline->process().send_signal(SIGTERM);
  // 2 s of timeout; the rest is slack for two slow cores under AddressSanitizer. Without the
  // bound the consumer's close waits for its coordinator for ~45 s.
  const auto status = pipeline->process().wait_for_exit(std::chrono::seconds(25));
  ASSERT_TRUE(status.has_value()) << "still running 25 s after SIGTERM";
  EXPECT_TRUE(status->exited_with(1)) << status->describe();
}

}  // namespace
}  // namespace tastesync::testing
