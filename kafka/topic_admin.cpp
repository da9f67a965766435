#include "kafka/topic_admin.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

namespace tastesync {
namespace {

struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* topic) const { rd_kafka_NewTopic_destroy(topic); }
};
struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* options) const {
    rd_kafka_AdminOptions_destroy(options);
  }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* event) const { rd_kafka_event_destroy(event); }
};

// CreateTopics through librdkafka's admin API: created, or TOPIC_ALREADY_EXISTS (another instance
// was first) counts as existed.
TopicCreation create_with_admin_api(rd_kafka_t* rk, const TopicSpec& spec, int timeout_ms) {
  char error[512];
  const std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter> topic(rd_kafka_NewTopic_new(
      spec.name.c_str(), spec.partitions, spec.replication_factor, error, sizeof(error)));
  if (!topic) throw std::runtime_error(error);
  for (const auto& [name, value] : spec.configs) {
    if (rd_kafka_NewTopic_set_config(topic.get(), name.c_str(), value.c_str()) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string message = "topic config ";
      message.append(name).append("=").append(value).append(" refused by librdkafka");
      throw std::runtime_error(message);
    }
  }
  const std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter> options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, error, sizeof(error)) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, error,
                                                  sizeof(error)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(error);
  }
  const KafkaQueue queue(rd_kafka_queue_new(rk));
  rd_kafka_NewTopic_t* topics[] = {topic.get()};
  rd_kafka_CreateTopics(rk, topics, 1, options.get(), queue.get());
  // The request timeout bounds the answer; the margin lets librdkafka report its own timeout.
  const std::unique_ptr<rd_kafka_event_t, EventDeleter> event(
      rd_kafka_queue_poll(queue.get(), timeout_ms + 2000));
  if (!event) throw std::runtime_error("no answer to CreateTopics");
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(rd_kafka_event_error_string(event.get()));
  }
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  std::size_t count = 0;
  const rd_kafka_topic_result_t** results =
      result != nullptr ? rd_kafka_CreateTopics_result_topics(result, &count) : nullptr;
  if (count != 1) throw std::runtime_error("CreateTopics answered for no topic");
  const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[0]);
  if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return TopicCreation::existed;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* reason = rd_kafka_topic_result_error_string(results[0]);
    throw std::runtime_error(reason != nullptr ? reason : rd_kafka_err2str(err));
  }
  return TopicCreation::created;
}

void request_from_dev_broker(rd_kafka_t* rk, const TopicSpec& spec, int timeout_ms) {
  std::string line(kDevBrokerCreateCommand);
  line.append(" ").append(spec.name).append(" ").append(std::to_string(spec.partitions));
  const std::string admin_topic(kDevBrokerAdminTopic);
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(admin_topic.c_str()), RD_KAFKA_V_VALUE(line.data(), line.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(std::string("asking the dev broker: ") + rd_kafka_err2str(err));
  }
  if (rd_kafka_flush(rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("asking the dev broker: not delivered within " +
                             std::to_string(timeout_ms) + " ms");
  }
}

}  // namespace

bool legal_topic_name(std::string_view name) {
  return !name.empty() && name.size() <= 249 && name != "." && name != ".." &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
         });
}

std::map<std::string, int> list_topics(rd_kafka_t* rk, int timeout_ms) {
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(rk, 1, nullptr, &raw, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("no metadata from kafka.brokers within " + std::to_string(timeout_ms) +
                             " ms: " + rd_kafka_err2str(err));
  }
  const KafkaMetadata metadata(raw);
  std::map<std::string, int> topics;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& topic = metadata->topics[i];
    if (topic.err == RD_KAFKA_RESP_ERR_NO_ERROR && topic.partition_cnt > 0) {
      topics.emplace(topic.topic, topic.partition_cnt);
    }
  }
  return topics;
}

TopicAdmin::TopicAdmin(std::map<std::string, std::string> properties, int timeout_ms)
    : timeout_ms_(timeout_ms) {
  properties.try_emplace("client.id", "tastesync-topic-admin");
  handle_ = make_kafka_handle(RD_KAFKA_PRODUCER, make_kafka_conf(properties, "topic admin"));
}

TopicCreation TopicAdmin::create(const TopicSpec& spec) {
  rd_kafka_t* rk = handle_.get();
  const int timeout_ms = timeout_ms_;
  const std::map<std::string, int> before = list_topics(rk, timeout_ms);
  if (before.contains(spec.name)) return TopicCreation::existed;
  TopicCreation creation = TopicCreation::created;
  if (before.contains(std::string(kDevBrokerAdminTopic))) {
    request_from_dev_broker(rk, spec, timeout_ms);
  } else {
    creation = create_with_admin_api(rk, spec, timeout_ms);
  }
  // A created topic reaches every broker's metadata a moment later; callers go on to use it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!list_topics(rk, timeout_ms).contains(spec.name)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("created, but not in the cluster's metadata within " +
                               std::to_string(timeout_ms) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return creation;
}

std::optional<std::pair<std::string, int>> parse_create_command(std::string_view line) {
  if (!line.starts_with(kDevBrokerCreateCommand)) return std::nullopt;
  line.remove_prefix(kDevBrokerCreateCommand.size());
  if (!line.starts_with(' ')) return std::nullopt;
  line.remove_prefix(1);
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view name = line.substr(0, space);
  const std::string_view count = line.substr(space + 1);
  int partitions = 0;
  const auto [end, error] = std::from_chars(count.data(), count.data() + count.size(), partitions);
  if (error != std::errc{} || end != count.data() + count.size()) return std::nullopt;
  if (!legal_topic_name(name) || partitions < 1 || partitions > 10000) return std::nullopt;
  return std::pair<std::string, int>(std::string(name), partitions);
}

}  // namespace tastesync
