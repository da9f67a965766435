#include "tests/support/tastesync_process.hpp"

#include <fstream>
#include <stdexcept>

namespace tastesync::testing {
namespace {

std::vector<std::string> dev_broker_arguments(const std::filesystem::path& bootstrap_file,
                                              const std::filesystem::path& control,
                                              const std::vector<std::string>& topics,
                                              int partitions) {
  std::vector<std::string> arguments = {tastesync_binary(), "dev-broker",
                                        "--partitions",     std::to_string(partitions),
                                        "--bootstrap-file", bootstrap_file.string(),
                                        "--control",        control.string()};
  for (const std::string& topic : topics) {
    arguments.push_back("--topic");
    arguments.push_back(topic);
  }
  return arguments;
}

std::vector<std::string> pipeline_arguments(const PipelineOptions& options) {
  std::vector<std::string> arguments = {
      tastesync_binary(), "run",
      "--brokers",        options.brokers,
      "--state-dir",      options.state_dir.string(),
      "--group-id",       options.group_id,
      "--input-topic",    options.input_topic,
      "--output-topic",   options.output_topic,
      "--dlq-topic",      options.dlq_topic,
      "--consumer-mode",  options.consumer_mode,
      "--registry",       (fixtures_dir() / "registry.json").string(),
      "--metrics-port",   "0"};
  arguments.insert(arguments.end(), options.extra_arguments.begin(), options.extra_arguments.end());
  return arguments;
}

}  // namespace

std::string tastesync_binary() {
  return TASTESYNC_BINARY;
}
std::filesystem::path fixtures_dir() {
  return TASTESYNC_FIXTURES_DIR;
}

DevBroker::DevBroker(const std::filesystem::path& log_dir, const std::vector<std::string>& topics,
                     int partitions)
    : process_(dev_broker_arguments(log_dir / "bootstrap.txt", log_dir / "dev-broker.control",
                                    topics, partitions),
               log_dir, "dev-broker"),
      bootstrap_file_(log_dir / "bootstrap.txt"),
      control_path_(log_dir / "dev-broker.control"),
      partitions_(partitions) {
  const std::filesystem::path& bootstrap_file = bootstrap_file_;
  // The broker writes the file whole and renames it into place: once it exists it is complete.
  const bool written =
      wait_until([&] { return std::filesystem::exists(bootstrap_file) || !process_.running(); },
                 kStartTimeout);
  if (!written || !std::filesystem::exists(bootstrap_file)) {
    throw std::runtime_error("dev-broker did not write " + bootstrap_file.string() + ": " +
                             process_.stderr_text());
  }
  const std::string line = read_file(bootstrap_file);
  const std::string prefix = "bootstrap.servers=";
  if (line.rfind(prefix, 0) != 0) throw std::runtime_error("unexpected bootstrap file: " + line);
  bootstrap_servers_ = line.substr(prefix.size());
  while (!bootstrap_servers_.empty() &&
         (bootstrap_servers_.back() == '\n' || bootstrap_servers_.back() == '\r')) {
    bootstrap_servers_.pop_back();
  }
}

DevBroker::~DevBroker() {
  process_.terminate(kStopTimeout);
  // A broker started later in the same directory must not read this one's address.
  std::error_code ignored;
  std::filesystem::remove(bootstrap_file_, ignored);
  std::filesystem::remove(control_path_, ignored);
}

void DevBroker::control(const std::string& line) const {
  // The dev broker holds the pipe open for reading: opening it to write never blocks.
  std::ofstream pipe(control_path_);
  pipe << line << '\n';
  pipe.flush();
  if (!pipe) throw std::runtime_error("writing '" + line + "' to " + control_path_.string());
}

PipelineProcess::PipelineProcess(const std::filesystem::path& log_dir,
                                 const PipelineOptions& options)
    : process_(pipeline_arguments(options), log_dir, options.name, options.environment) {}

RunResult run_tastesync(const std::filesystem::path& log_dir, const std::string& name,
                        const std::vector<std::string>& arguments, const Environment& environment,
                        std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {tastesync_binary()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  Subprocess process(std::move(argv), log_dir, name, environment);
  const auto status = process.wait_for_exit(timeout);
  return RunResult{status ? *status : process.kill_hard(), process.stdout_text(),
                   process.stderr_text()};
}

}  // namespace tastesync::testing
