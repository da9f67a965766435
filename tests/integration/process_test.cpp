// The process as an operator meets it (docs/design.md, "Failures that show" and "Files"):
// repeated signals, who may read its files, and logs that stay one JSON object a line.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/broker_test.hpp"

namespace tastesync::testing {
namespace {

namespace fs = std::filesystem;

class Process : public BrokerTest {
 protected:
  // Runs a pipeline until it has identified one sighting.
  std::unique_ptr<PipelineProcess> running_pipeline(const std::string& state_name,
                                                    const Environment& environment = {}) {
    start_broker();
    PipelineOptions options = pipeline_options("pipeline", state_name);
    options.environment.insert(options.environment.end(), environment.begin(), environment.end());
    auto pipeline = start_pipeline(options);
    produce_sighting(BeaconSighting{.sighting_id = "process-1",
                                    .customer_id = "cust-process",
                                    .minor = 13,
                                    .detected_at = canonical_time(1740916800000)});
    TopicReader events(brokers(), "customer-events");
    EXPECT_TRUE(events.read_until(
        [](const std::vector<Record>& records) {
          return event_of_sighting(records, "process-1") != nullptr;
        },
        kOutputTimeout));
    return pipeline;
  }
};

mode_t mode_of(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

TEST_F(Process, TwoTermsWithinASecondAreOneRequestToStopCleanly) {
  auto pipeline = running_pipeline("main");
  // What GNU timeout and a kill of the process group do. Two signals sent back to back may merge
  // while pending; 200 ms apart they never do, and the first has been taken.
  pipeline->process().send_signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  pipeline->process().send_signal(SIGTERM);
  const auto status = pipeline->process().wait_for_exit(kStopTimeout);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->exited_with(0)) << status->describe();
  EXPECT_NE(pipeline->process().stderr_text().find("stopped cleanly"), std::string::npos);
}

// A second signal more than a second after the first is an operator who will not wait: the
// process exits at once (code 1) instead of finishing a drain that cannot end (the broker is gone
// and shutdown.timeout_ms is long).
TEST_F(Process, ASecondSignalLaterExitsAtOnceWithoutWaitingForTheDrain) {
  auto pipeline = running_pipeline("impatient", {{"TASTESYNC_SHUTDOWN__TIMEOUT_MS", "600000"}});
  stop_broker();
  pipeline->process().send_signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_TRUE(pipeline->process().running()) << "the drain ended before the second signal";
  pipeline->process().send_signal(SIGTERM);
  // Far less than the 600 s shutdown timeout: slack for two slow cores under AddressSanitizer.
  const auto status = pipeline->process().wait_for_exit(std::chrono::seconds(20));
  ASSERT_TRUE(status.has_value()) << "still running 20 s after the second signal";
  EXPECT_TRUE(status->exited_with(1)) << status->describe();
  EXPECT_NE(pipeline->process().stderr_text().find("second signal: exiting at once"),
            std::string::npos);
}

TEST_F(Process, TheStateDirAndEveryFileInItAreTheOwnersAlone) {
  auto pipeline = running_pipeline("private");
  const ExitStatus stopped = pipeline->stop();
  EXPECT_TRUE(stopped.exited_with(0)) << stopped.describe();
  const fs::path state = dir() / "state-private";
  EXPECT_EQ(mode_of(state), 0700u);
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(state)) {
    if (entry.is_directory()) {
      EXPECT_EQ(mode_of(entry.path()) & 077, 0u) << entry.path();
    } else {
      EXPECT_EQ(mode_of(entry.path()) & 077, 0u) << entry.path();
      ++files;
    }
  }
  EXPECT_GT(files, 3u) << "RocksDB writes several files";
}

TEST_F(Process, StateOfATopicThatWasRecreatedIsDroppedNotTrusted) {
  // A customer arrives, more records follow, the pipeline stops: its state ends at offset > 0.
  auto first = running_pipeline("recreated");
  for (int i = 2; i <= 4; ++i) {
    produce_sighting(BeaconSighting{.sighting_id = "process-" + std::to_string(i),
                                    .customer_id = "cust-process",
                                    .minor = 13,
                                    .detected_at = canonical_time(1740916800000 + i * 1000)});
  }
  wait_caught_up("tastesync-it", "raw-beacons", *first);
  EXPECT_TRUE(first->stop().exited_with(0));
  // The topic is gone and recreated (here: a new, empty broker). Trusting the old state would
  // suppress the sighting below as "still at Table 3 within the minute"; its offsets would also
  // go back under the old ones.
  stop_broker();
  start_broker();
  auto second = start_pipeline(pipeline_options("pipeline-2", "recreated"));
  produce_sighting(BeaconSighting{.sighting_id = "process-again",
                                  .customer_id = "cust-process",
                                  .minor = 13,
                                  .detected_at = canonical_time(1740916800000 + 10000)});
  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(events.read_until(
      [](const std::vector<Record>& records) {
        return event_of_sighting(records, "process-again") != nullptr;
      },
      kOutputTimeout));
  EXPECT_EQ(json_string(parse_json(event_of_sighting(events.records(), "process-again")->value),
                        "/data/identification"),
            "arrival");
  EXPECT_TRUE(second->process().running());
  EXPECT_NE(second->process().stderr_text().find("truncated or recreated"), std::string::npos);
}

TEST_F(Process, TheBootstrapFileIsNeverWrittenThroughAPlantedSymlink) {
  const fs::path victim = dir() / "victim";
  std::ofstream(victim) << "untouched\n";
  const fs::path bootstrap = dir() / "bootstrap";
  // The old temporary name, and the file itself, both pointing at the victim.
  fs::create_symlink(victim, dir() / "bootstrap.tmp");
  fs::create_symlink(victim, bootstrap);
  Subprocess broker({tastesync_binary(), "dev-broker", "--bootstrap-file", bootstrap.string()},
                    dir(), "dev-broker-planted");
  ASSERT_TRUE(wait_until([&] { return !fs::is_symlink(bootstrap) && fs::exists(bootstrap); },
                         kStartTimeout));
  EXPECT_EQ(read_file(victim), "untouched\n");
  EXPECT_TRUE(read_file(bootstrap).starts_with("bootstrap.servers=")) << read_file(bootstrap);
  EXPECT_EQ(mode_of(bootstrap), 0600u);
}

TEST_F(Process, LibrdkafkasOwnLinesGoThroughTheJsonLog) {
  // A broker that refuses connections: librdkafka logs its connection failures.
  const RunResult result = run_tastesync(
      dir(), "json-log",
      {"run", "--brokers", "127.0.0.1:1", "--registry", (fixtures_dir() / "registry.json").string(),
       "--state-dir", (dir() / "state-json").string(), "--metrics-port", "0"},
      {{"TASTESYNC_LOG__JSON", "true"}, {"TASTESYNC_KAFKA__TOPIC_CHECK_TIMEOUT_MS", "3000"}});
  EXPECT_FALSE(result.status.exited_with(0));
  std::istringstream lines(result.stderr_text);
  std::string line;
  std::size_t librdkafka_lines = 0;
  std::size_t count = 0;
  while (std::getline(lines, line)) {
    ++count;
    EXPECT_TRUE(line.starts_with(R"({"time":")") && line.ends_with("\"}")) << line;
    librdkafka_lines += line.find("librdkafka") != std::string::npos;
  }
  EXPECT_GT(count, 0u);
  EXPECT_GT(librdkafka_lines, 0u) << result.stderr_text;
}

}  // namespace
}  // namespace tastesync::testing
