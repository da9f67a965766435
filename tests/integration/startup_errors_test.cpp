// A bad setting fails the start at once, naming the key (docs/contract.md#config), before any
// broker is needed.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

// Nothing listens there: a start that got past configuration would fail later, differently.
constexpr const char* kNoBroker = "127.0.0.1:9";

class StartupErrors : public ::testing::Test {
 protected:
  RunResult run(const std::vector<std::string>& arguments, const Environment& environment = {}) {
    std::vector<std::string> all = {"run",
                                    "--brokers",
                                    kNoBroker,
                                    "--metrics-port",
                                    "0",
                                    "--state-dir",
                                    (dir_.path() / "state").string()};
    all.insert(all.end(), arguments.begin(), arguments.end());
    return run_tastesync(dir_.path(), "run-" + std::to_string(runs_++), all, environment);
  }

  TempDir dir_;
  int runs_ = 0;
};

TEST_F(StartupErrors, UnknownKeyInTheConfigFileExitsTwoNamingTheKey) {
  const auto config = dir_.path() / "tastesync.yaml";
  std::ofstream(config) << "dedupe:\n  interval_ms: 60000\n  intervall_ms: 5\n";
  const RunResult result = run({"--config", config.string()});
  EXPECT_TRUE(result.status.exited_with(2)) << result.status.describe();
  EXPECT_NE(result.stderr_text.find("dedupe.intervall_ms"), std::string::npos)
      << result.stderr_text;
}

TEST_F(StartupErrors, UnknownTastesyncEnvironmentVariableExitsTwoNamingIt) {
  const RunResult result = run({}, {{"TASTESYNC_DEDUPE__INTERVALL_MS", "5"}});
  EXPECT_TRUE(result.status.exited_with(2)) << result.status.describe();
  EXPECT_NE(result.stderr_text.find("TASTESYNC_DEDUPE__INTERVALL_MS"), std::string::npos)
      << result.stderr_text;
}

TEST_F(StartupErrors, NonNumericMetricsPortFailsNamingTheSetting) {
  const RunResult result = run({"--metrics-port", "abc"});
  EXPECT_FALSE(result.status.exited_with(0)) << result.status.describe();
  EXPECT_EQ(result.status.signal, 0) << result.status.describe();
  EXPECT_TRUE(result.stderr_text.find("metrics.port") != std::string::npos ||
              result.stderr_text.find("--metrics-port") != std::string::npos)
      << result.stderr_text;
}

// The state records its input topic when first opened; the same state.dir later used for
// another topic is a configuration error naming state.dir, not a failure of the state layer.
TEST_F(StartupErrors, AStateDirOfAnotherInputTopicIsAConfigurationErrorNamingStateDir) {
  const Environment quick = {{"TASTESYNC_KAFKA__TOPIC_CHECK_TIMEOUT_MS", "500"}};
  const RunResult first = run({"--input-topic", "raw-beacons"}, quick);
  ASSERT_EQ(first.stderr_text.find("holds the state of input topic"), std::string::npos)
      << first.stderr_text;
  const RunResult second = run({"--input-topic", "other-beacons"}, quick);
  EXPECT_TRUE(second.status.exited_with(2)) << second.status.describe();
  EXPECT_NE(second.stderr_text.find("configuration error: state.dir"), std::string::npos)
      << second.stderr_text;
  EXPECT_NE(second.stderr_text.find("holds the state of input topic 'raw-beacons'"),
            std::string::npos)
      << second.stderr_text;
}

TEST_F(StartupErrors, MissingRegistryFileExitsTwoNamingRegistrySource) {
  const RunResult result = run({"--registry", (dir_.path() / "no-such-registry.json").string()});
  EXPECT_TRUE(result.status.exited_with(2)) << result.status.describe();
  EXPECT_NE(result.stderr_text.find("registry.source"), std::string::npos) << result.stderr_text;
}

TEST_F(StartupErrors, MetricsTokenFileThatCannotBeReadExitsTwoNamingTheKey) {
  const RunResult result =
      run({}, {{"TASTESYNC_METRICS__TOKEN_FILE", (dir_.path() / "no-such-token").string()}});
  EXPECT_TRUE(result.status.exited_with(2)) << result.status.describe();
  EXPECT_NE(result.stderr_text.find("metrics.token_file"), std::string::npos) << result.stderr_text;
}

TEST_F(StartupErrors, MetricsTokenAndTokenFileBothSetExitTwoShowingNeither) {
  const auto token_file = dir_.path() / "metrics-token";
  std::ofstream(token_file) << "token-in-the-file-0b1d\n";
  const RunResult result = run({}, {{"TASTESYNC_METRICS__TOKEN", "token-in-the-env-93c2"},
                                    {"TASTESYNC_METRICS__TOKEN_FILE", token_file.string()}});
  EXPECT_TRUE(result.status.exited_with(2)) << result.status.describe();
  EXPECT_NE(result.stderr_text.find("metrics.token and metrics.token_file"), std::string::npos)
      << result.stderr_text;
  const std::string output = result.stderr_text + result.stdout_text;
  EXPECT_EQ(output.find("token-in-the-file-0b1d"), std::string::npos) << output;
  EXPECT_EQ(output.find("token-in-the-env-93c2"), std::string::npos) << output;
}

}  // namespace
}  // namespace tastesync::testing
