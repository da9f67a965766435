#include "kafka/kafka.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "config/config.hpp"

namespace tastesync {
namespace {

// librdkafka's own log lines (syslog levels) go through spdlog like every other line: the same
// format (one JSON object a line with log.json) and the same redaction of secrets (docs/design.md
// "Failures that show", "Secrets"). Debug lines (the `debug` property) need log.level debug.
// Called on librdkafka's threads: spdlog's logger is thread-safe, and nothing may throw back
// into C.
void log_through_spdlog(const rd_kafka_t* rk, int level, const char* facility,
                        const char* message) noexcept {
  spdlog::level::level_enum spdlog_level = spdlog::level::debug;
  if (level <= 2) {
    spdlog_level = spdlog::level::critical;
  } else if (level == 3) {
    spdlog_level = spdlog::level::err;
  } else if (level == 4) {
    spdlog_level = spdlog::level::warn;
  } else if (level <= 6) {
    spdlog_level = spdlog::level::info;
  }
  try {
    spdlog::log(spdlog_level, "librdkafka {} {}: {}", rk != nullptr ? rd_kafka_name(rk) : "-",
                facility, message);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a log line is not worth a crash
  }
}

}  // namespace

KafkaConf make_kafka_conf(const std::map<std::string, std::string>& properties,
                          const std::string& source) {
  KafkaConf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &log_through_spdlog);
  char error[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      // librdkafka quotes the value it refuses; a secret one must not reach the message.
      const Redactor redactor(is_secret_kafka_property(name) ? std::vector<std::string>{value}
                                                             : std::vector<std::string>{});
      std::string message = source;
      message.append(" property '").append(name).append("': ").append(redactor.redact(error));
      throw ConfigError(message);
    }
  }
  return conf;
}

KafkaHeaders kafka_headers(const std::vector<Header>& headers) {
  KafkaHeaders list(rd_kafka_headers_new(headers.size()));
  for (const Header& header : headers) {
    rd_kafka_header_add(list.get(), header.name.data(), static_cast<ssize_t>(header.name.size()),
                        header.value ? header.value->data() : nullptr,
                        header.value ? static_cast<ssize_t>(header.value->size()) : 0);
  }
  return list;
}

RecordBytes record_bytes(const rd_kafka_message_t& message) {
  RecordBytes bytes;
  if (message.key != nullptr) {
    bytes.key = std::string_view(static_cast<const char*>(message.key), message.key_len);
  }
  if (message.payload != nullptr) {
    bytes.value = std::string_view(static_cast<const char*>(message.payload), message.len);
  }
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return bytes;
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  for (std::size_t i = 0;
       rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    HeaderView header{name, std::nullopt};
    if (value != nullptr) header.value = std::string_view(static_cast<const char*>(value), size);
    bytes.headers.push_back(header);
  }
  return bytes;
}

std::optional<std::string_view> header_value(const rd_kafka_message_t& message, const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  const void* value = nullptr;
  std::size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      value == nullptr) {
    return std::nullopt;
  }
  return std::string_view(static_cast<const char*>(value), size);
}

std::optional<std::string_view> forget_request_of(const rd_kafka_message_t& message) {
  if (message.payload != nullptr) return std::nullopt;
  return header_value(message, kForgetHeader);
}

KafkaHandle make_kafka_handle(rd_kafka_type_t type, KafkaConf conf) {
  char error[512];
  // rd_kafka_new takes the conf only when it succeeds.
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), error, sizeof(error));
  if (rk == nullptr) throw ConfigError(std::string("creating a Kafka client: ") + error);
  (void)conf.release();
  return KafkaHandle(rk);
}

std::vector<std::optional<int>> topic_partition_counts(rd_kafka_t* rk,
                                                       const std::vector<std::string>& topics,
                                                       int timeout_ms) {
  std::vector<std::optional<int>> counts;
  for (const std::string& name : topics) {
    // Asking for one topic by handle lets a broker that auto-creates topics create it.
    const KafkaTopic topic(rd_kafka_topic_new(rk, name.c_str(), nullptr));
    const rd_kafka_metadata_t* raw = nullptr;
    const auto err = rd_kafka_metadata(rk, 0, topic.get(), &raw, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("no metadata from kafka.brokers within " +
                               std::to_string(timeout_ms) + " ms: " + rd_kafka_err2str(err));
    }
    const KafkaMetadata metadata(raw);
    std::optional<int> count;
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      const auto& t = metadata->topics[i];
      if (name == t.topic && t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0) {
        count = t.partition_cnt;
      }
    }
    counts.push_back(count);
  }
  return counts;
}

}  // namespace tastesync
