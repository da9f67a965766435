#include "pipeline/output_producer.hpp"

#include <algorithm>
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

// The broker (or librdkafka's own check) refused the record for its size: the same bytes will
// never go, only a smaller dead letter.
bool too_large(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
         err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
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
      // 128 MiB, not librdkafka's 1 GiB: dead letters of records near 1 MB could otherwise fill
      // a gigabyte before produce() pushes back (docs/design.md, "Bounded memory").
      {"queue.buffering.max.kbytes", "131072"},
      // As the consumer's (docs/platform.md#mock-outages): back ~0.6 s after a broker returns.
      {"reconnect.backoff.max.ms", "1000"},
      {"client.id", "tastesync-" + config.kafka.group_id},
  };
  for (const auto& [name, value] : config.kafka.properties) properties[name] = value;
  return properties;
}

void OutputProducer::on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message,
                                 void* opaque) {
  auto& self = *static_cast<OutputProducer*>(opaque);
  // Nothing may unwind into librdkafka's C code.
  try {
    self.handle_delivery(*message);
  } catch (const std::exception& e) {
    self.listener_.on_callback_failed(std::string("handling a delivery report: ") + e.what());
  } catch (...) {
    self.listener_.on_callback_failed("handling a delivery report: an unknown exception");
  }
}

void OutputProducer::handle_delivery(const rd_kafka_message_t& message) {
  const OutputOrigin origin = unpack(message._private);
  if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (origin.kind == OutputKind::dead_letter && !retries_.empty()) {
      std::erase_if(retries_, [&](Retry& retry) {
        if (retry.origin.partition != origin.partition || retry.origin.offset != origin.offset) {
          return false;
        }
        release(retry);
        return true;
      });
    }
    listener_.on_delivered(origin, message);
  } else if (origin.kind == OutputKind::dead_letter && !transactional_) {
    // Producing from inside a delivery report could recurse on a full queue: keep a copy.
    keep_for_retry(origin, message);
    listener_.on_dead_letter_retry(origin);
  } else {
    listener_.on_failed(origin, message);
  }
}

void OutputProducer::keep_for_retry(const OutputOrigin& origin, const rd_kafka_message_t& message) {
  // A retry that failed again backs off longer; the first failure becomes a retry.
  Retry* earlier = find_retry(origin);
  if (earlier == nullptr) {
    earlier = &retries_.emplace_back(Retry{origin, {}, 0, 0, {}, false});
    set_letter(*earlier, whole(record_bytes(message)));
  }
  Retry& retry = *earlier;
  retry.in_flight = false;
  ++retry.attempts;
  retry.due = std::chrono::steady_clock::now() + retry_backoff(retry.attempts);
  if (too_large(message.err)) set_letter(retry, metadata_only(retry.letter));
}

void OutputProducer::set_letter(Retry& retry, DeadLetter letter) {
  release(retry);
  // Retry copies are bounded in bytes: past the limit a dead letter waits as its dlq.* headers
  // only (the original stays in the input topic at dlq.source.offset).
  if (retry_bytes_ + letter.wire_bytes() > retry_buffer_limit_bytes_) {
    letter = metadata_only(letter);
  }
  retry.bytes = letter.wire_bytes();
  retry_bytes_ += retry.bytes;
  retry.letter = std::move(letter);
}

OutputProducer::OutputProducer(const Config& config, DeliveryListener& listener)
    : listener_(listener),
      retry_buffer_limit_bytes_(static_cast<std::size_t>(config.kafka.dlq_retry_buffer_bytes)),
      max_message_bytes_(max_message_bytes(producer_properties(config))),
      input_topic_(config.kafka.input_topic),
      transactional_(config.processing.guarantee == Guarantee::exactly_once) {
  auto properties = producer_properties(config);
  if (transactional_) {
    // Only this producer is transactional: the topic admin's, replay's and reset's are not.
    properties["transactional.id"] = transactional_id(config);
    // Kafka Streams' choice under exactly-once (the broker's default is 60 s): a transaction an
    // instance left open when it died blocks read_committed consumers of its partitions until
    // then, unless the same instance comes back first (docs/contract.md#exactly-once).
    if (!config.kafka.properties.contains("transaction.timeout.ms")) {
      properties["transaction.timeout.ms"] = "10000";
    }
  }
  KafkaConf conf = make_kafka_conf(properties, "kafka.properties");
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
  // Events and tombstones are held here as bytes; dead letters are held whole by
  // produce_dead_letter (one refused as too large goes again smaller when released).
  if (holding_ && topic == events_topic_.get()) {
    Held held{.topic = topic,
              .partition = partition,
              .has_key = key != nullptr,
              .key_begin = held_bytes_.size(),
              .key_size = key_size,
              .has_value = value != nullptr,
              .value_begin = 0,
              .value_size = value_size,
              .headers = std::move(headers),
              .origin = origin};
    if (key != nullptr) held_bytes_.append(static_cast<const char*>(key), key_size);
    held.value_begin = held_bytes_.size();
    if (value != nullptr) held_bytes_.append(static_cast<const char*>(value), value_size);
    held_.push_back(std::move(held));
    return {};
  }
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

ProduceResult OutputProducer::release_held(const std::stop_token& stop) {
  holding_ = false;
  ProduceResult result;
  for (Held& held : held_) {
    if (result.status != ProduceStatus::queued) break;
    const char* bytes = held_bytes_.data();
    result = produce(held.topic, held.partition, held.has_key ? bytes + held.key_begin : nullptr,
                     held.key_size, held.has_value ? bytes + held.value_begin : nullptr,
                     held.value_size, std::move(held.headers), held.origin, stop);
  }
  for (const HeldLetter& held : held_letters_) {
    if (result.status != ProduceStatus::queued) break;
    result = produce_letter_or_smaller(held.letter, held.origin, stop);
  }
  held_.clear();
  held_bytes_.clear();
  held_letters_.clear();
  return result;
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

ProduceResult OutputProducer::produce_forget(std::string_view customer_id,
                                             std::string_view request_id,
                                             std::int64_t requested_at_ms,
                                             const OutputOrigin& origin,
                                             const std::stop_token& stop) {
  KafkaHeaders headers(rd_kafka_headers_new(4));
  add_header(headers.get(), "event_type", "CustomerForgotten");
  add_header(headers.get(), "version", "v1");
  add_header(headers.get(), kForgetHeader, request_id);
  add_header(headers.get(), kForgetAtHeader, std::to_string(requested_at_ms));
  return produce(events_topic_.get(), RD_KAFKA_PARTITION_UA, customer_id.data(), customer_id.size(),
                 nullptr, 0, std::move(headers), origin, stop);
}

ProduceResult OutputProducer::produce_dead_letter(const rd_kafka_message_t& original,
                                                  const ParseError& error,
                                                  const OutputOrigin& origin,
                                                  const std::stop_token& stop) {
  rd_kafka_timestamp_type_t timestamp_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const std::int64_t timestamp = rd_kafka_message_timestamp(&original, &timestamp_type);
  std::vector<Header> dlq_headers = {
      {"dlq.error.code", std::string(parse_error_code_name(error.code))},
      {"dlq.error.message", bounded_reason(error.message)},
      {"dlq.source.topic", input_topic_},
      {"dlq.source.partition", std::to_string(original.partition)},
      {"dlq.source.offset", std::to_string(original.offset)},
      {"dlq.source.timestamp",
       timestamp_type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? "" : std::to_string(timestamp)},
  };
  DeadLetter letter =
      make_dead_letter(record_bytes(original), std::move(dlq_headers), max_message_bytes_);
  if (holding_) {
    held_letters_.push_back(HeldLetter{std::move(letter), origin});
    return {};
  }
  return produce_letter_or_smaller(letter, origin, stop);
}

ProduceResult OutputProducer::produce_letter_or_smaller(const DeadLetter& letter,
                                                        const OutputOrigin& origin,
                                                        const std::stop_token& stop) {
  const ProduceResult result = produce_letter(letter, origin, stop);
  if (!too_large(result.error)) return result;
  return produce_letter(metadata_only(letter), origin, stop);
}

ProduceResult OutputProducer::produce_letter(const DeadLetter& letter, const OutputOrigin& origin,
                                             const std::stop_token& stop) {
  // A null key or value stays null: RD_KAFKA_V_KEY/VALUE with a null pointer produce null.
  const char* key = letter.key ? letter.key->data() : nullptr;
  const char* value = letter.value ? letter.value->data() : nullptr;
  return produce(dlq_topic_.get(), RD_KAFKA_PARTITION_UA, key, letter.key ? letter.key->size() : 0,
                 value, letter.value ? letter.value->size() : 0, kafka_headers(letter.headers),
                 origin, stop);
}

ProduceResult OutputProducer::produce_changelog(std::int32_t partition, std::string_view key,
                                                std::optional<std::string_view> value,
                                                const std::stop_token& stop) {
  // No value: a tombstone, which compaction keeps until it has removed the key's earlier values.
  return produce(changelog_topic_.get(), partition, key.data(), key.size(),
                 value ? value->data() : nullptr, value ? value->size() : 0, nullptr,
                 OutputOrigin{partition, 0, OutputKind::changelog}, stop);
}

ProduceResult OutputProducer::retry_dead_letters(const std::stop_token& stop) {
  const auto now = std::chrono::steady_clock::now();
  // produce() serves delivery reports while librdkafka's queue is full, and those erase and add
  // retries: collect what is due first, find each again after producing, and produce a copy.
  std::vector<OutputOrigin> due;
  for (const Retry& retry : retries_) {
    if (!retry.in_flight && retry.due <= now) due.push_back(retry.origin);
  }
  for (const OutputOrigin& origin : due) {
    const Retry* retry = find_retry(origin);
    if (retry == nullptr || retry->in_flight) continue;
    DeadLetter letter = retry->letter;
    ProduceResult result = produce_letter(letter, origin, stop);
    if (too_large(result.error)) {
      letter = metadata_only(letter);
      if (Retry* again = find_retry(origin)) set_letter(*again, letter);
      result = produce_letter(letter, origin, stop);
    }
    // Stopped: what was not queued is consumed again after a restart (its offset was never
    // stored), so nothing is lost by keeping it here.
    if (result.status != ProduceStatus::queued) return result;
    // Its delivery report removes it, or backs it off again.
    if (Retry* queued = find_retry(origin)) queued->in_flight = true;
  }
  return {};
}

OutputProducer::Retry* OutputProducer::find_retry(const OutputOrigin& origin) {
  const auto it = std::find_if(retries_.begin(), retries_.end(), [&](const Retry& retry) {
    return retry.origin.partition == origin.partition && retry.origin.offset == origin.offset;
  });
  return it == retries_.end() ? nullptr : &*it;
}

void OutputProducer::forget_dead_letters_of(std::int32_t partition) {
  std::erase_if(retries_, [&](Retry& retry) {
    if (retry.origin.partition != partition) return false;
    release(retry);
    return true;
  });
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
