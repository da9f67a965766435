// The real binary in its embedded default (docs/contract.md#embedded-default, #health): it
// identifies the generator's customers and prints the events; the probes answer; the bearer token
// guards /metrics and nothing else, and it never reaches a log (docs/design.md, "The HTTP
// server"); and logs in JSON stay one object a line.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <memory>
#include <sstream>
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

// Each line of `text` parsed as one JSON object; a line that is not one fails the test.
std::vector<rapidjson::Document> json_lines(const std::string& text) {
  std::vector<rapidjson::Document> documents;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    rapidjson::Document document;
    document.Parse(line.c_str(), line.size());
    EXPECT_TRUE(!document.HasParseError() && document.IsObject()) << "not a JSON object: " << line;
    documents.push_back(std::move(document));
  }
  return documents;
}

bool is_customer_identified(const rapidjson::Document& event) {
  return event.IsObject() && event.HasMember("event_type") && event["event_type"].IsString() &&
         std::string(event["event_type"].GetString()) == "CustomerIdentified";
}

// The README's first command: no servers, and within seconds the generator's customers are
// identified and their events printed, one JSON object a line; a SIGTERM stops it cleanly.
TEST_F(HttpEndpoints, TheEmbeddedDefaultPrintsIdentificationsAndStopsCleanly) {
  ASSERT_NO_FATAL_FAILURE(start_embedded({}));
  ASSERT_TRUE(wait_until(
      [&] { return run_->stdout_text().find("\"CustomerIdentified\"") != std::string::npos; },
      kStartTimeout))
      << run_->stderr_text();
  EXPECT_EQ(status("/healthz"), 200);
  const std::string logs = stop_and_read_logs();
  EXPECT_NE(logs.find("embedded mode: no kafka.brokers configured"), std::string::npos);
  EXPECT_NE(logs.find("stopped cleanly"), std::string::npos);
  std::size_t events = 0;
  for (const rapidjson::Document& line : json_lines(run_->stdout_text())) {
    EXPECT_TRUE(is_customer_identified(line));
    events += is_customer_identified(line);
  }
  EXPECT_GT(events, 0U);
}

// log.json: every line on stderr, from start-up to the clean stop, is one JSON object with the
// time, the level and the message; stdout still carries only the events.
TEST_F(HttpEndpoints, WithJsonLogsEveryLineOfARunIsOneJsonObject) {
  ASSERT_NO_FATAL_FAILURE(start_embedded({{"TASTESYNC_LOG__JSON", "true"}}));
  ASSERT_TRUE(wait_until(
      [&] { return run_->stdout_text().find("\"CustomerIdentified\"") != std::string::npos; },
      kStartTimeout));
  EXPECT_TRUE(run_->terminate(kStopTimeout).exited_with(0));
  bool started = false;
  bool stopped = false;
  for (const rapidjson::Document& line : json_lines(run_->stderr_text())) {
    if (!line.IsObject()) continue;
    for (const char* field : {"time", "level", "msg"}) {
      EXPECT_TRUE(line.HasMember(field) && line[field].IsString()) << "no '" << field << "'";
    }
    if (!line.HasMember("msg") || !line["msg"].IsString()) continue;
    const std::string message = line["msg"].GetString();
    started = started || message.starts_with("tastesync run, effective configuration");
    stopped = stopped || message == "stopped cleanly";
  }
  EXPECT_TRUE(started);
  EXPECT_TRUE(stopped);
  for (const rapidjson::Document& line : json_lines(run_->stdout_text())) {
    EXPECT_TRUE(is_customer_identified(line));
  }
}

// Until the registry can be read the service is alive but not ready: with the registry's
// database unreachable, /healthz answers 200 and /readyz 503 (docs/contract.md#health,
// #registry-reload).
TEST_F(HttpEndpoints, WhileTheRegistryDatabaseIsUnreachableItIsAliveButNotReady) {
  port_ = free_loopback_port();
  run_ = std::make_unique<Subprocess>(
      std::vector<std::string>{tastesync_binary(), "run", "--metrics-port", std::to_string(port_),
                               "--registry", "postgres", "--postgres",
                               "host=127.0.0.1 port=1 dbname=none connect_timeout=1"},
      dir_.path(), "waiting", Environment{{"TASTESYNC_REGISTRY__START_TIMEOUT_MS", "600000"}});
  ASSERT_TRUE(
      wait_until([&] { return status("/readyz") != 0 || !run_->running(); }, kStartTimeout));
  ASSERT_TRUE(run_->running()) << run_->stderr_text();
  EXPECT_EQ(status("/readyz"), 503);
  EXPECT_EQ(status("/healthz"), 200);
  // Asked to stop while waiting, it stops without ever having started.
  const ExitStatus stopped = run_->terminate(kStopTimeout);
  EXPECT_EQ(stopped.signal, 0) << stopped.describe();
}

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
