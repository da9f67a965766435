// metrics.*: where the HTTP server listens.
#include <gtest/gtest.h>

#include "config.hpp"

namespace tastesync {
namespace {

TEST(MetricsConfig, ListensOnLoopbackByDefault) {
  const Config config = load_config({});
  EXPECT_EQ(config.metrics.bind_address, "127.0.0.1");
}

}  // namespace
}  // namespace tastesync
