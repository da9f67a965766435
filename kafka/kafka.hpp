#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/erasure.hpp"
#include "kafka/dead_letter.hpp"

namespace tastesync {

// Every librdkafka handle has exactly one owner; these aliases are the only way the project
// holds one.
struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;

struct KafkaConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaConfDeleter>;

struct TopicPartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using TopicPartitionList =
    std::unique_ptr<rd_kafka_topic_partition_list_t, TopicPartitionListDeleter>;

struct KafkaQueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
};
using KafkaQueue = std::unique_ptr<rd_kafka_queue_t, KafkaQueueDeleter>;

struct KafkaTopicDeleter {
  void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
};
using KafkaTopic = std::unique_ptr<rd_kafka_topic_t, KafkaTopicDeleter>;

struct KafkaMessageDeleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
using KafkaMessage = std::unique_ptr<rd_kafka_message_t, KafkaMessageDeleter>;

struct KafkaHeadersDeleter {
  void operator()(rd_kafka_headers_t* headers) const { rd_kafka_headers_destroy(headers); }
};
using KafkaHeaders = std::unique_ptr<rd_kafka_headers_t, KafkaHeadersDeleter>;

struct KafkaMetadataDeleter {
  void operator()(const rd_kafka_metadata_t* metadata) const {
    rd_kafka_metadata_destroy(metadata);
  }
};
using KafkaMetadata = std::unique_ptr<const rd_kafka_metadata_t, KafkaMetadataDeleter>;

struct KafkaErrorDeleter {
  void operator()(rd_kafka_error_t* error) const { rd_kafka_error_destroy(error); }
};
using KafkaError = std::unique_ptr<rd_kafka_error_t, KafkaErrorDeleter>;

struct GroupMetadataDeleter {
  void operator()(rd_kafka_consumer_group_metadata_t* metadata) const {
    rd_kafka_consumer_group_metadata_destroy(metadata);
  }
};
using GroupMetadata = std::unique_ptr<rd_kafka_consumer_group_metadata_t, GroupMetadataDeleter>;

// A librdkafka configuration from property pairs; a rejected property throws ConfigError naming
// it and librdkafka's reason. `source` says where the property came from (for the message).
KafkaConf make_kafka_conf(const std::map<std::string, std::string>& properties,
                          const std::string& source);

// A new librdkafka header list holding `headers` (a null value stays null).
KafkaHeaders kafka_headers(const std::vector<Header>& headers);

// The key, value and headers of a record librdkafka delivered (views into it: valid while it
// lives).
RecordBytes record_bytes(const rd_kafka_message_t& message);

// The value of the record's last header named `name` (nullopt: no such header, or a null value).
std::optional<std::string_view> header_value(const rd_kafka_message_t& message, const char* name);

// The request id of an erasure request or tombstone, or nullopt for any other record (one with
// a value is never one).
std::optional<std::string_view> forget_request_of(const rd_kafka_message_t& message);

// Creates a client; throws ConfigError with librdkafka's message on failure.
KafkaHandle make_kafka_handle(rd_kafka_type_t type, KafkaConf conf);

// The partition count of each named topic, or nullopt for a topic the cluster does not have.
// Throws std::runtime_error when the cluster does not answer within the timeout.
std::vector<std::optional<int>> topic_partition_counts(rd_kafka_t* rk,
                                                       const std::vector<std::string>& topics,
                                                       int timeout_ms);

}  // namespace tastesync
