#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "kafka/topic_admin.hpp"

namespace tastesync {

// Checks, before consuming, the topics a run needs (docs/contract.md#topics): input, output and
// dead letters, and the changelog when it is on. A missing topic, or a changelog whose partition
// count differs from the input's, is a ConfigError naming the key; an output topic with fewer
// than 3 partitions is a warning. A missing changelog is created first, as Kafka Streams creates
// its internal topics; where the broker cannot, the ConfigError names the command that does.
// Returns the input topic's partition count.
int check_topics(const Config& config);

// A topic of the configuration and the key that names it.
struct ConfiguredTopic {
  std::string key;
  TopicSpec spec;
};

// Every topic `tastesync topics create` makes from `config`: input, output, dead letters, the
// sinks' dead letters, and the changelog (cleanup.policy=compact,delete, with
// `changelog_partitions`) when it is on. Partitions, replication and retention from topics.*.
std::vector<ConfiguredTopic> configured_topics(const Config& config, int changelog_partitions);

// `tastesync topics create` with the flags that make it create `config`'s changelog: what a
// start error tells the operator to run.
std::string topics_create_command(const Config& config);

}  // namespace tastesync
