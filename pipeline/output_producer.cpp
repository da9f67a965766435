#include "output_producer.hpp"

#include <stdexcept>

namespace tastesync {
namespace {

// 16 bits of partition, 2 of kind, 46 of offset (70 trillion records a partition).
constexpr std::uint64_t kOffsetBits = 46;
constexpr std::uint64_t kOffsetMask = (std::uint64_t{1} << kOffsetBits) - 1;

void* pack(const OutputOrigin& origin) {
  const std::uint64_t bits = static_cast<std::uint64_t>(origin.partition) << 48 |
                             static_cast<std::uint64_t>(origin.kind) << kOffsetBits |
                             (static_cast<std::uint64_t>(origin.offset) & kOffsetMask);
  // The opaque is never dereferenced: it is the packed origin itself.
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(bits));
}

OutputOrigin unpack(void* opaque) {
  const auto bits = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(opaque));
  return OutputOrigin{static_cast<std::int32_t>(bits >> 48),
                      static_cast<std::int64_t>(bits & kOffsetMask),
                      static_cast<OutputKind>((bits >> kOffsetBits) & 3)};
}

std::optional<std::string> copy_bytes(const void* data, std::size_t size) {
  if (data == nullptr) return std::nullopt;
  return std::string(static_cast<const char*>(data), size);
}

// Cuts a dead letter's value to what Kafka will take and records its original length.
void truncate_dead_letter(std::string& value, rd_kafka_headers_t* headers) {
  if (value.size() <= kTruncatedDeadLetterBytes) return;
  const std::string original_length = std::to_string(value.size());
  rd_kafka_header_add(headers, "dlq.value.truncated", -1, original_length.data(),
                      static_cast<ssize_t>(original_length.size()));
  value.resize(kTruncatedDeadLetterBytes);
}

void truncate_dead_letter(std::optional<std::string>& value, rd_kafka_headers_t* headers) {
  if (value) truncate_dead_letter(*value, headers);
}

std::chrono::milliseconds retry_backoff(int attempts) {
  return std::chrono::milliseconds(std::min(60000, 1000 << std::min(attempts - 1, 6)));
}

void add_header(rd_kafka_headers_t* headers, const char* name, std::string_view value) {
  rd_kafka_header_add(headers, name, -1, value.data(), static_cast<ssize_t>(value.size()));
}

}  // namespace

std::map<std::string, std::string> producer_properties(const Config& config) {
  std::map<std::string, std::string> properties = {
      {"bootstrap.servers", config.kafka.brokers},
      {"enable.idempotence", "true"},
      {"partitioner", "murmur2_random"},
      {"socket.nagle.disable", "true"},
      // 1 ms, not librdkafka's 5: an identification is worth more early than batched.
      {"linger.ms", "1"},
      {"client.id", "tastesync-" + config.kafka.group_id},
  };
  for (const auto& [name, value] : config.kafka.properties) properties[name] = value;
  return properties;
}

void OutputProducer::on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message,
                                 void* opaque) {
  auto& self = *static_cast<OutputProducer*>(opaque);
  const OutputOrigin origin = unpack(message->_private);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (origin.kind == OutputKind::dead_letter && !self.retries_.empty()) {
      std::erase_if(self.retries_, [&](const Retry& retry) {
        return retry.origin.partition == origin.partition && retry.origin.offset == origin.offset;
      });
    }
    self.listener_.on_delivered(origin, *message);
  } else if (origin.kind == OutputKind::dead_letter) {
    // Producing from inside a delivery report could recurse on a full queue: keep a copy.
    rd_kafka_headers_t* headers = nullptr;
    const bool has_headers =
        rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR;
    // A retry that failed again backs off longer; the first failure becomes a retry.
    for (Retry& earlier : self.retries_) {
      if (earlier.origin.partition == origin.partition && earlier.origin.offset == origin.offset) {
        earlier.in_flight = false;
        ++earlier.attempts;
        earlier.due = std::chrono::steady_clock::now() + retry_backoff(earlier.attempts);
        if (message->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
          truncate_dead_letter(earlier.value, earlier.headers.get());
        }
        self.listener_.on_dead_letter_retry(origin);
        return;
      }
    }
    const int attempts = 1;
    Retry retry{
        origin,
        copy_bytes(message->key, message->key_len),
        copy_bytes(message->payload, message->len),
        KafkaHeaders(has_headers ? rd_kafka_headers_copy(headers) : rd_kafka_headers_new(1)),
        attempts,
        std::chrono::steady_clock::now() + retry_backoff(attempts),
        false};
    if (message->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
      truncate_dead_letter(retry.value, retry.headers.get());
    }
    self.retries_.push_back(std::move(retry));
    self.listener_.on_dead_letter_retry(origin);
  } else {
    self.listener_.on_failed(origin, *message);
  }
}

OutputProducer::OutputProducer(const Config& config, DeliveryListener& listener)
    : listener_(listener), input_topic_(config.kafka.input_topic) {
  KafkaConf conf = make_kafka_conf(producer_properties(config), "kafka.properties");
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &on_delivery);
  rd_kafka_conf_set_opaque(conf.get(), this);
  handle_ = make_kafka_handle(RD_KAFKA_PRODUCER, std::move(conf));
  events_topic_.reset(
      rd_kafka_topic_new(handle_.get(), config.kafka.output_topic.c_str(), nullptr));
  dlq_topic_.reset(rd_kafka_topic_new(handle_.get(), config.kafka.dlq_topic.c_str(), nullptr));
  if (!events_topic_ || !dlq_topic_) throw std::runtime_error("creating producer topic handles");
  if (changelog_enabled(config)) {
    // State records compress well and the mock caps a partition at 5 MiB of stored bytes.
    rd_kafka_topic_conf_t* topic_conf = rd_kafka_topic_conf_new();
    char error[256];
    if (rd_kafka_topic_conf_set(topic_conf, "compression.codec", "lz4", error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_topic_conf_destroy(topic_conf);
      throw std::runtime_error(std::string("changelog topic configuration: ") + error);
    }
    // rd_kafka_topic_new takes ownership of the topic configuration.
    changelog_topic_.reset(
        rd_kafka_topic_new(handle_.get(), changelog_topic(config).c_str(), topic_conf));
    if (!changelog_topic_) throw std::runtime_error("creating the changelog topic handle");
  }
}

ProduceResult OutputProducer::produce(rd_kafka_topic_t* topic, std::int32_t partition,
                                      const void* key, std::size_t key_size, const void* value,
                                      std::size_t value_size, KafkaHeaders headers,
                                      const OutputOrigin& origin, const std::stop_token& stop) {
  while (true) {
    const auto err = rd_kafka_producev(
        handle_.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(const_cast<void*>(key), key_size),
        RD_KAFKA_V_VALUE(const_cast<void*>(value), value_size), RD_KAFKA_V_HEADERS(headers.get()),
        RD_KAFKA_V_OPAQUE(pack(origin)), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      (void)headers.release();  // librdkafka owns them now
      return {};
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) return {ProduceStatus::failed, err};
    // Back-pressure: serve delivery reports until there is room.
    if (stop.stop_requested()) return {ProduceStatus::stopped, err};
    rd_kafka_poll(handle_.get(), 10);
  }
}

ProduceResult OutputProducer::produce_event(std::string_view customer_id, std::string_view value,
                                            std::string_view event_id, const OutputOrigin& origin,
                                            const std::stop_token& stop) {
  KafkaHeaders headers(rd_kafka_headers_new(3));
  add_header(headers.get(), "event_type", "CustomerIdentified");
  add_header(headers.get(), "version", "v1");
  add_header(headers.get(), "event_id", event_id);
  return produce(events_topic_.get(), RD_KAFKA_PARTITION_UA, customer_id.data(), customer_id.size(),
                 value.data(), value.size(), std::move(headers), origin, stop);
}

ProduceResult OutputProducer::produce_dead_letter(const rd_kafka_message_t& original,
                                                  const ParseError& error,
                                                  const OutputOrigin& origin,
                                                  const std::stop_token& stop) {
  rd_kafka_headers_t* original_headers = nullptr;
  KafkaHeaders headers(rd_kafka_message_headers(&original, &original_headers) ==
                               RD_KAFKA_RESP_ERR_NO_ERROR
                           ? rd_kafka_headers_copy(original_headers)
                           : rd_kafka_headers_new(7));
  rd_kafka_timestamp_type_t timestamp_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const std::int64_t timestamp = rd_kafka_message_timestamp(&original, &timestamp_type);
  add_header(headers.get(), "dlq.error.code", parse_error_code_name(error.code));
  add_header(headers.get(), "dlq.error.message", error.message);
  add_header(headers.get(), "dlq.source.topic", input_topic_);
  add_header(headers.get(), "dlq.source.partition", std::to_string(original.partition));
  add_header(headers.get(), "dlq.source.offset", std::to_string(original.offset));
  add_header(headers.get(), "dlq.source.timestamp",
             timestamp_type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? "" : std::to_string(timestamp));
  // A null key or value stays null: RD_KAFKA_V_KEY/VALUE with a null pointer produce null.
  const ProduceResult result = produce(
      dlq_topic_.get(), RD_KAFKA_PARTITION_UA, original.key, original.key_len, original.payload,
      original.len, KafkaHeaders(rd_kafka_headers_copy(headers.get())), origin, stop);
  if (result.error != RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) return result;
  // Too large means there is a value (a null one is empty).
  std::string value(static_cast<const char*>(original.payload), original.len);
  truncate_dead_letter(value, headers.get());
  return produce(dlq_topic_.get(), RD_KAFKA_PARTITION_UA, original.key, original.key_len,
                 value.data(), value.size(), std::move(headers), origin, stop);
}

ProduceResult OutputProducer::produce_changelog(std::int32_t partition, std::string_view key,
                                                std::string_view value,
                                                const std::stop_token& stop) {
  return produce(changelog_topic_.get(), partition, key.data(), key.size(), value.data(),
                 value.size(), nullptr, OutputOrigin{partition, 0, OutputKind::changelog}, stop);
}

ProduceResult OutputProducer::produce_retry(const Retry& retry, const std::stop_token& stop) {
  const char* key = retry.key ? retry.key->data() : nullptr;
  const std::size_t key_size = retry.key ? retry.key->size() : 0;
  const char* value = retry.value ? retry.value->data() : nullptr;
  const std::size_t value_size = retry.value ? retry.value->size() : 0;
  return produce(dlq_topic_.get(), RD_KAFKA_PARTITION_UA, key, key_size, value, value_size,
                 KafkaHeaders(rd_kafka_headers_copy(retry.headers.get())), retry.origin, stop);
}

ProduceResult OutputProducer::retry_dead_letters(const std::stop_token& stop) {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = retries_.begin(); it != retries_.end();) {
    Retry& retry = *it;
    if (retry.in_flight || retry.due > now) {
      ++it;
      continue;
    }
    ProduceResult result = produce_retry(retry, stop);
    if (result.error == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
      truncate_dead_letter(retry.value, retry.headers.get());
      result = produce_retry(retry, stop);
    }
    // Stopped: what was not queued is consumed again after a restart (its offset was never
    // stored), so nothing is lost by keeping it here.
    if (result.status != ProduceStatus::queued) return result;
    retry.in_flight = true;  // its delivery report removes it, or backs it off again
    ++it;
  }
  return {};
}

void OutputProducer::forget_dead_letters_of(std::int32_t partition) {
  std::erase_if(retries_, [&](const Retry& retry) { return retry.origin.partition == partition; });
}

bool OutputProducer::flush(int timeout_ms) {
  return rd_kafka_flush(handle_.get(), timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

std::optional<std::string> OutputProducer::fatal_error() const {
  char reason[512];
  const auto err = rd_kafka_fatal_error(handle_.get(), reason, sizeof(reason));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  return std::string(rd_kafka_err2name(err)) + ": " + reason;
}

}  // namespace tastesync
