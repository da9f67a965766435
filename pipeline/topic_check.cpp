#include "pipeline/topic_check.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "kafka/kafka.hpp"
#include "pipeline/output_producer.hpp"

namespace tastesync {
namespace {

std::string retention(std::int64_t ms) {
  return std::to_string(ms);
}

// The changelog's partition count: created with the input's when it is missing.
int ensure_changelog(const Config& config, TopicAdmin& admin, int input_partitions) {
  const std::string topic = changelog_topic(config);
  // Listed, never named: a broker that creates the topics a client names (the dev broker) would
  // give it its own default partition count (docs/platform.md, "Topics on the dev broker").
  if (const auto listed = admin.list(); listed.contains(topic)) {
    return listed.at(topic);
  }
  const TopicSpec spec = configured_topics(config, input_partitions).back().spec;
  try {
    if (admin.create(spec) == TopicCreation::created) {
      spdlog::info("created the changelog topic {} ({} partitions, cleanup.policy=compact,delete)",
                   topic, input_partitions);
    }
  } catch (const std::exception& e) {
    throw ConfigError("state.changelog_topic: topic '" + topic + "' does not exist on " +
                      config.kafka.brokers + " and could not be created (" + e.what() +
                      "); create it with: " + topics_create_command(config));
  }
  return admin.list().at(topic);
}

}  // namespace

int check_topics(const Config& config) {
  // A client of its own, made before the pipeline's producer: that one names the changelog as
  // it starts, and the pipeline's producer reports every delivery to the pipeline.
  TopicAdmin admin(producer_properties(config), config.kafka.topic_check_timeout_ms);
  const std::vector<std::string> topics = {config.kafka.input_topic, config.kafka.output_topic,
                                           config.kafka.dlq_topic};
  const std::vector<std::string> keys = {"kafka.input_topic", "kafka.output_topic",
                                         "kafka.dlq_topic"};
  const auto counts =
      topic_partition_counts(admin.handle(), topics, config.kafka.topic_check_timeout_ms);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (!counts[i]) {
      throw ConfigError(keys[i] + ": topic '" + topics[i] + "' does not exist on " +
                        config.kafka.brokers + " (`" + topics_create_command(config) +
                        "` creates every topic of the configuration)");
    }
  }
  // A changelog partition carries the state of the input partition of the same number.
  if (changelog_enabled(config)) {
    const int changelog_partitions = ensure_changelog(config, admin, *counts[0]);
    if (changelog_partitions != *counts[0]) {
      throw ConfigError("state.changelog_topic: topic '" + changelog_topic(config) + "' has " +
                        std::to_string(changelog_partitions) + " partitions, the input topic " +
                        std::to_string(*counts[0]) + "; they must match");
    }
  }
  if (*counts[1] < 3) {
    spdlog::warn(
        "output topic {} has {} partitions; the contract asks for at least 3 "
        "(docs/contract.md#topics)",
        config.kafka.output_topic, *counts[1]);
  }
  return *counts[0];
}

std::vector<ConfiguredTopic> configured_topics(const Config& config, int changelog_partitions) {
  const TopicsConfig& t = config.topics;
  auto data_topic = [&t](const std::string& key, const std::string& name) {
    return ConfiguredTopic{key, TopicSpec{name,
                                          t.partitions,
                                          t.replication_factor,
                                          {{"retention.ms", retention(t.retention_ms)}}}};
  };
  std::vector<ConfiguredTopic> topics = {
      data_topic("kafka.input_topic", config.kafka.input_topic),
      data_topic("kafka.output_topic", config.kafka.output_topic),
      data_topic("kafka.dlq_topic", config.kafka.dlq_topic),
      data_topic("sink.dlq_topic", config.sink.dlq_topic)};
  if (changelog_enabled(config)) {
    // compact keeps each key's last state; delete drops customers idle past the retention,
    // whose state the pipeline has forgotten anyway (docs/contract.md#changelog).
    topics.push_back(
        ConfiguredTopic{"state.changelog_topic",
                        TopicSpec{changelog_topic(config),
                                  changelog_partitions,
                                  t.replication_factor,
                                  {{"cleanup.policy", "compact,delete"},
                                   {"retention.ms", retention(t.changelog_retention_ms)}}}});
  }
  return topics;
}

std::string topics_create_command(const Config& config) {
  const Config defaults;
  std::string command = "tastesync topics create --brokers " + config.kafka.brokers;
  if (config.kafka.group_id != defaults.kafka.group_id) {
    command += " --group-id " + config.kafka.group_id;
  }
  if (config.kafka.input_topic != defaults.kafka.input_topic) {
    command += " --input-topic " + config.kafka.input_topic;
  }
  if (!config.state.changelog_topic.empty()) {
    command += " --changelog-topic " + config.state.changelog_topic;
  }
  return command;
}

}  // namespace tastesync
