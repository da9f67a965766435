#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/subprocess.hpp"

namespace tastesync::testing {

// The binary under test and the fixtures, from tests/CMakeLists.txt.
std::string tastesync_binary();
std::filesystem::path fixtures_dir();

// Generous: CI runs these on two slow cores under AddressSanitizer.
inline constexpr auto kStartTimeout = std::chrono::seconds(60);
inline constexpr auto kStopTimeout = std::chrono::seconds(60);

// `tastesync dev-broker`: librdkafka's mock cluster, a real Kafka-protocol broker in another
// process. Every topic a test uses is created up front with `partitions` partitions (the mock
// would auto-create unknown ones with 4, which would change where keys land).
class DevBroker {
 public:
  DevBroker(const std::filesystem::path& log_dir, const std::vector<std::string>& topics,
            int partitions = 6);
  ~DevBroker();
  DevBroker(const DevBroker&) = delete;
  DevBroker& operator=(const DevBroker&) = delete;

  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  int partitions() const { return partitions_; }
  // One line to its --control pipe: "down all", "up 1", "rtt 1 200"
  // (docs/platform.md#mock-outages).
  void control(const std::string& line) const;

 private:
  Subprocess process_;
  std::filesystem::path bootstrap_file_;
  std::filesystem::path control_path_;
  std::string bootstrap_servers_;
  int partitions_;
};

struct PipelineOptions {
  std::string name = "pipeline";  // names the log files: two processes need two names
  std::string brokers;
  std::filesystem::path state_dir;
  std::string group_id = "tastesync-it";
  std::string input_topic = "raw-beacons";
  std::string output_topic = "customer-events";
  std::string dlq_topic = "raw-beacons-dlq";
  // Restarts in ~1 s on the mock (docs/platform.md#manual-assignment).
  std::string consumer_mode = "assign";
  std::vector<std::string> extra_arguments;
  Environment environment;
};

// `tastesync run` against a broker, with the fixtures' registry and a free metrics port.
class PipelineProcess {
 public:
  PipelineProcess(const std::filesystem::path& log_dir, const PipelineOptions& options);

  Subprocess& process() { return process_; }
  // SIGTERM and wait: a clean drain exits 0 (docs/contract.md#shutdown).
  ExitStatus stop() { return process_.terminate(kStopTimeout); }
  // SIGKILL: the process gets no chance to flush, write state or commit.
  ExitStatus crash() { return process_.kill_hard(); }

 private:
  Subprocess process_;
};

struct RunResult {
  ExitStatus status;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs `tastesync <arguments>` to its end (SIGKILL after `timeout`).
RunResult run_tastesync(const std::filesystem::path& log_dir, const std::string& name,
                        const std::vector<std::string>& arguments,
                        const Environment& environment = {},
                        std::chrono::milliseconds timeout = std::chrono::minutes(2));

}  // namespace tastesync::testing
