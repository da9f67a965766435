#include "pipeline/topic_check.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "kafka/kafka.hpp"

namespace tastesync {

int check_topics(const Config& config, rd_kafka_t* handle) {
  std::vector<std::string> topics = {config.kafka.input_topic, config.kafka.output_topic,
                                     config.kafka.dlq_topic};
  std::vector<std::string> keys = {"kafka.input_topic", "kafka.output_topic", "kafka.dlq_topic"};
  if (changelog_enabled(config)) {
    topics.push_back(changelog_topic(config));
    keys.emplace_back("state.changelog_topic");
  }
  const auto counts = topic_partition_counts(handle, topics, config.kafka.topic_check_timeout_ms);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (!counts[i]) {
      throw ConfigError(keys[i] + ": topic '" + topics[i] + "' does not exist on " +
                        config.kafka.brokers);
    }
  }
  // A changelog partition carries the state of the input partition of the same number.
  if (changelog_enabled(config) && *counts[3] != *counts[0]) {
    throw ConfigError("state.changelog_topic: topic '" + topics[3] + "' has " +
                      std::to_string(*counts[3]) + " partitions, the input topic " +
                      std::to_string(*counts[0]) + "; they must match");
  }
  if (*counts[1] < 3) {
    spdlog::warn(
        "output topic {} has {} partitions; the contract asks for at least 3 "
        "(docs/contract.md#topics)",
        config.kafka.output_topic, *counts[1]);
  }
  return *counts[0];
}

}  // namespace tastesync
