// The HTTP endpoints of the real binary in its embedded default: the bearer token guards /metrics
// and nothing else, and it never reaches a log (docs/design.md, "The HTTP server").
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "tests/support/free_port.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/tastesync_process.hpp"

namespace tastesync::testing {
namespace {

constexpr const char* kToken = "e2e-metrics-token-4f9c";
constexpr const char* kWrongToken = "e2e-wrong-token-77aa";

class HttpEndpoints : public ::testing::Test {
 protected:
  // `tastesync run` with no broker configured anywhere: the embedded default.
  void start_embedded(const Environment& environment) {
    port_ = free_loopback_port();
    run_ = std::make_unique<Subprocess>(
        std::vector<std::string>{tastesync_binary(), "run", "--metrics-port",
                                 std::to_string(port_)},
        dir_.path(), "embedded", environment);
    ASSERT_TRUE(
        wait_until([&] { return status("/readyz") == 200 || !run_->running(); }, kStartTimeout));
    ASSERT_TRUE(run_->running()) << run_->stderr_text();
  }

  // The status of GET <path>, 0 when nothing answers.
  int status(const std::string& path, const std::vector<std::string>& headers = {}) const {
    const auto response = http_request(port_, path, headers);
    return response ? response->status : 0;
  }

  std::string body(const std::string& path, const std::vector<std::string>& headers) const {
    const auto response = http_request(port_, path, headers);
    return response ? response->body : "";
  }

  // Stops the run (exit 0 expected) and returns everything it wrote.
  std::string stop_and_read_logs() {
    EXPECT_TRUE(run_->terminate(kStopTimeout).exited_with(0));
    return run_->stderr_text() + run_->stdout_text();
  }

  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> run_;
};

TEST_F(HttpEndpoints, MetricsNeedTheConfiguredTokenAndTheProbesDoNot) {
  ASSERT_NO_FATAL_FAILURE(start_embedded({{"TASTESYNC_METRICS__TOKEN", kToken}}));
  EXPECT_EQ(status("/healthz"), 200);
  EXPECT_EQ(status("/readyz"), 200);
  EXPECT_EQ(status("/metrics"), 401);
  EXPECT_EQ(status("/metrics", {std::string("Authorization: Bearer ") + kWrongToken}), 401);
  EXPECT_NE(body("/metrics", {std::string("Authorization: Bearer ") + kToken})
                .find("tastesync_embedded_mode 1"),
            std::string::npos);

  const std::string logs = stop_and_read_logs();
  EXPECT_EQ(logs.find(kToken), std::string::npos);
  EXPECT_EQ(logs.find(kWrongToken), std::string::npos);
  EXPECT_NE(logs.find("metrics.token = ***"), std::string::npos);
  // Loopback unless configured otherwise.
  EXPECT_NE(logs.find("metrics on http://127.0.0.1:" + std::to_string(port_)), std::string::npos);
}

TEST_F(HttpEndpoints, TheTokenCanComeFromAFileWithItsLineBreak) {
  const auto token_file = dir_.path() / "metrics-token";
  std::ofstream(token_file) << kToken << "\n";
  ASSERT_NO_FATAL_FAILURE(start_embedded({{"TASTESYNC_METRICS__TOKEN_FILE", token_file.string()}}));
  EXPECT_EQ(status("/metrics"), 401);
  EXPECT_EQ(status("/metrics", {std::string("Authorization: Bearer ") + kToken}), 200);
  EXPECT_EQ(status("/healthz"), 200);

  const std::string logs = stop_and_read_logs();
  EXPECT_EQ(logs.find(kToken), std::string::npos);
  EXPECT_NE(logs.find("metrics.token_file = " + token_file.string()), std::string::npos);
}

}  // namespace
}  // namespace tastesync::testing
