#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka/kafka.hpp"

namespace tastesync {

// The topic on which a tastesync dev broker takes requests to create topics: librdkafka's mock
// cluster has no CreateTopics, and creates any topic a client names with 4 partitions
// (docs/platform.md, "Topics on the dev broker"). A client that sees this topic writes
// kDevBrokerCreateCommand lines to it instead.
inline constexpr std::string_view kDevBrokerAdminTopic = "_tastesync-dev-broker";
// "create-topic <name> <partitions>" (a line, no newline).
inline constexpr std::string_view kDevBrokerCreateCommand = "create-topic";

// Kafka's own rule for a topic name (kafka.common.internals.Topic): 1-249 of [a-zA-Z0-9._-].
bool legal_topic_name(std::string_view name);

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = -1;                               // -1: the broker's default
  std::vector<std::pair<std::string, std::string>> configs;  // e.g. cleanup.policy
};

enum class TopicCreation { created, existed };

// Every topic the cluster has, with its partition count. One all-topics metadata request: it
// creates nothing, even on a broker that creates the topics a client names. Throws
// std::runtime_error when the cluster does not answer within the timeout.
std::map<std::string, int> list_topics(rd_kafka_t* rk, int timeout_ms);

// Creates topics through a client of its own (a producer: the dev broker's requests are records).
class TopicAdmin {
 public:
  // `properties`: bootstrap.servers and whatever else reaching the cluster takes (TLS, SASL).
  TopicAdmin(std::map<std::string, std::string> properties, int timeout_ms);

  std::map<std::string, int> list() const { return list_topics(handle_.get(), timeout_ms_); }
  rd_kafka_t* handle() const { return handle_.get(); }
  // Creates `spec` unless the cluster has it, and waits until the cluster's metadata shows it:
  // through CreateTopics, or the dev broker's admin topic where the cluster has one. Throws
  // std::runtime_error with the broker's reason when it cannot.
  TopicCreation create(const TopicSpec& spec);

 private:
  KafkaHandle handle_;
  int timeout_ms_;
};

// The dev broker's side: the (name, partitions) of a kDevBrokerCreateCommand line, or nothing
// for anything else (the topic is open to every client: hostile input).
std::optional<std::pair<std::string, int>> parse_create_command(std::string_view line);

}  // namespace tastesync
