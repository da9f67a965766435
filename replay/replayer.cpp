#include "replay/replayer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <stdexcept>

#include "common/clock.hpp"
#include "config/topology_options.hpp"
#include "kafka/kafka.hpp"
#include "kafka/topic_admin.hpp"

namespace tastesync {
namespace {

// Memory stays bounded however long the range: forgotten customers leave the state as they do
// in the live pipeline's housekeeping, every this many records of a partition.
constexpr std::int64_t kEvictEvery = 50000;
// What the end of a replay waits for its last deliveries, dead-letter retries (up to 60 s apart)
// included.
constexpr auto kFinishTimeout = std::chrono::minutes(3);
constexpr std::size_t kBatch = 1000;

std::string topic_error(const std::string& flag, const std::string& topic,
                        const std::string& live_key) {
  return flag + " " + topic + " is the live " + live_key +
         ": a replay writes there only with --allow-live-output";
}

std::map<std::string, std::string> replay_consumer_properties(const Config& config,
                                                              const std::string& group_id) {
  std::map<std::string, std::string> properties = {
      {"bootstrap.servers", config.kafka.brokers},
      // Never committed: the group id only names the client (the live group's offsets are
      // never touched).
      {"group.id", group_id},
      {"client.id", group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "true"},
      {"isolation.level", "read_committed"},
      {"reconnect.backoff.max.ms", "1000"},
  };
  for (const auto& [name, value] : config.kafka.properties) properties[name] = value;
  return properties;
}

// Each partition's offset for `timestamp_ms` (the first record at or after it), -1 where the
// broker has none or cannot say (the dev broker never can: docs/platform.md).
std::vector<std::int64_t> offsets_for(rd_kafka_t* consumer, const std::string& topic,
                                      const std::vector<std::int32_t>& partitions,
                                      EpochMs timestamp_ms, int timeout_ms) {
  const TopicPartitionList list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const std::int32_t p : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = timestamp_ms;
  }
  std::vector<std::int64_t> offsets(partitions.size(), -1);
  if (rd_kafka_offsets_for_times(consumer, list.get(), timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return offsets;
  }
  for (int i = 0; i < list->cnt; ++i) {
    const auto& tp = list->elems[i];
    if (tp.err == RD_KAFKA_RESP_ERR_NO_ERROR) offsets[static_cast<std::size_t>(i)] = tp.offset;
  }
  return offsets;
}

}  // namespace

Replayer::Replayer(Config config, std::shared_ptr<const Registry> registry, ReplayOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      live_output_topic_(config_.kafka.output_topic),
      live_dlq_topic_(config_.kafka.dlq_topic),
      topology_(std::move(registry), topology_options(config_)) {
  // A replay's outputs go to a topic of its own, idempotently, and it ends with a flush: a
  // second run gives the same records, which is what a transaction would buy
  // (docs/operations.md#replay). The live pipeline's exactly_once setting does not apply here.
  config_.processing.guarantee = Guarantee::at_least_once;
  if (options_.dlq_topic.empty()) options_.dlq_topic = options_.output_topic + "-dlq";
  for (const auto& [flag, topic] :
       {std::pair<std::string, std::string>{"--output-topic", options_.output_topic},
        {"--dlq-topic", options_.dlq_topic}}) {
    if (!legal_topic_name(topic)) {
      throw ConfigError(std::string(flag).append(": '").append(topic).append(
          "' is not a Kafka topic name ([a-zA-Z0-9._-])"));
    }
    if (topic == config_.kafka.input_topic) {
      throw ConfigError(std::string(flag).append(" ").append(topic).append(
          " is the input topic: a replay never writes there"));
    }
    if (options_.allow_live_output) continue;
    if (topic == live_output_topic_) {
      throw ConfigError(topic_error(flag, topic, "output topic (kafka.output_topic)"));
    }
    if (topic == live_dlq_topic_) {
      throw ConfigError(topic_error(flag, topic, "dead-letter topic (kafka.dlq_topic)"));
    }
  }
  config_.kafka.output_topic = options_.output_topic;
  config_.kafka.dlq_topic = options_.dlq_topic;
  config_.state.changelog = ChangelogMode::off;
  summary_.output_topic = options_.output_topic;
  summary_.dlq_topic = options_.dlq_topic;
  summary_.dry_run = options_.dry_run;
}

Replayer::~Replayer() = default;

bool Replayer::wanted(std::string_view customer_id) const {
  return options_.customers.empty() || options_.customers.contains(std::string(customer_id));
}

void Replayer::plan(rd_kafka_t* consumer) {
  const std::string& input = config_.kafka.input_topic;
  const int timeout_ms = config_.kafka.topic_check_timeout_ms;
  const auto topics = list_topics(consumer, timeout_ms);
  const auto found = topics.find(input);
  if (found == topics.end()) {
    throw ConfigError("kafka.input_topic: topic '" + input + "' does not exist on " +
                      config_.kafka.brokers);
  }
  const int count = found->second;
  // --customer: only the partitions those customers' records are in (keyed by customer_id,
  // murmur2 as every producer of the input must: docs/contract.md#topics).
  std::set<std::int32_t> chosen;
  for (const std::string& customer : options_.customers) {
    chosen.insert(rd_kafka_msg_partitioner_murmur2(nullptr, customer.data(), customer.size(), count,
                                                   nullptr, nullptr));
  }
  std::vector<std::int32_t> ids;
  for (std::int32_t p = 0; p < count; ++p) {
    if (chosen.empty() || chosen.contains(p)) ids.push_back(p);
  }
  const ReplayRange& range = options_.range;
  std::vector<std::int64_t> starts(ids.size(), -1);
  std::vector<std::int64_t> ends(ids.size(), -1);
  if (const auto feed_from = range.feed_from_ms()) {
    starts = offsets_for(consumer, input, ids, *feed_from, timeout_ms);
  }
  if (range.to_ms) ends = offsets_for(consumer, input, ids, *range.to_ms, timeout_ms);

  partitions_.resize(static_cast<std::size_t>(count));
  int scanned = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    const auto err =
        rd_kafka_query_watermark_offsets(consumer, input.c_str(), ids[i], &low, &high, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("the end of " + input + "[" + std::to_string(ids[i]) +
                               "]: " + rd_kafka_err2str(err));
    }
    auto partition = std::make_unique<Partition>();
    partition->id = ids[i];
    // The end is fixed now: what producers write from here on is not part of this replay.
    partition->end = ends[i] >= 0 ? std::min(ends[i], high) : high;
    // Where the broker could not find the start by timestamp, scan and filter.
    if (range.feed_from_ms() && starts[i] < 0) ++scanned;
    partition->start = std::clamp(starts[i] >= 0 ? starts[i] : low, low, partition->end);
    partition->next = partition->start;
    partition->done = partition->start >= partition->end;
    total_offsets_ += partition->end - partition->start;
    topology_.normalize_restored(partition->state);
    partitions_[static_cast<std::size_t>(ids[i])] = std::move(partition);
  }
  spdlog::info("replay: {} of {} partitions of {}, {} offsets to read{}", ids.size(), count, input,
               total_offsets_,
               scanned > 0 ? ", scanning " + std::to_string(scanned) +
                                 " from the start (the broker found no offset for the time)"
                           : std::string());
}

void Replayer::prepare_output_topics() {
  TopicAdmin admin(producer_properties(config_), config_.kafka.topic_check_timeout_ms);
  const auto topics = admin.list();
  // The same partitioning as the live topics, so the replay's partition p holds the customers
  // the live topic's partition p does.
  auto partitions_like = [&](const std::string& live) {
    const auto found = topics.find(live);
    if (found != topics.end()) return found->second;
    const auto input = topics.find(config_.kafka.input_topic);
    return input != topics.end() ? input->second : config_.topics.partitions;
  };
  const std::vector<std::pair<std::string, std::string>> retention = {
      {"retention.ms", std::to_string(config_.topics.retention_ms)}};
  for (const auto& [topic, live] : {std::pair{options_.output_topic, live_output_topic_},
                                    std::pair{options_.dlq_topic, live_dlq_topic_}}) {
    const TopicSpec spec{topic, partitions_like(live), config_.topics.replication_factor,
                         retention};
    if (admin.create(spec) == TopicCreation::created) {
      spdlog::info("replay: created topic {} ({} partitions)", topic, spec.partitions);
    }
  }
}

ReplaySummary Replayer::run(const std::stop_token& stop) {
  const auto started = std::chrono::steady_clock::now();
  const std::string group_id = config_.kafka.group_id + "-replay-" + options_.started_at;
  const KafkaHandle consumer = make_kafka_handle(
      RD_KAFKA_CONSUMER,
      make_kafka_conf(replay_consumer_properties(config_, group_id), "kafka.properties"));
  plan(consumer.get());
  if (!options_.dry_run) {
    prepare_output_topics();
    producer_ = std::make_unique<OutputProducer>(config_, static_cast<DeliveryListener&>(*this));
  }
  const TopicPartitionList assignment(rd_kafka_topic_partition_list_new(1));
  for (const auto& partition : partitions_) {
    if (!partition || partition->done) continue;
    rd_kafka_topic_partition_list_add(assignment.get(), config_.kafka.input_topic.c_str(),
                                      partition->id)
        ->offset = partition->start;
  }
  if (rd_kafka_assign(consumer.get(), assignment.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("assigning the partitions of " + config_.kafka.input_topic);
  }
  auto all_done = [this] {
    return std::all_of(partitions_.begin(), partitions_.end(),
                       [](const auto& p) { return !p || p->done; });
  };
  auto elapsed = [&started] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  auto next_progress = started + std::chrono::seconds(1);
  while (!all_done() && !failure_) {
    if (stop.stop_requested()) {
      summary_.interrupted = true;
      break;
    }
    // The first record may wait; the rest of a batch is only what is already fetched.
    int wait_ms = 100;
    for (std::size_t n = 0; n < kBatch; ++n) {
      const KafkaMessage message(rd_kafka_consumer_poll(consumer.get(), wait_ms));
      if (!message) break;
      handle(*message, stop);
      wait_ms = 0;
    }
    if (producer_) {
      producer_->poll(0);
      if (producer_->dead_letters_to_retry() > 0) (void)producer_->retry_dead_letters(stop);
    }
    if (std::chrono::steady_clock::now() >= next_progress) {
      spdlog::info("{}", progress_line(offsets_done_, total_offsets_, elapsed()));
      next_progress = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
  }
  rd_kafka_consumer_close(consumer.get());
  finish_outputs(stop);
  summary_.seconds = elapsed();
  spdlog::info("{}", progress_line(offsets_done_, total_offsets_, summary_.seconds));
  if (failure_) throw std::runtime_error(*failure_);
  return summary_;
}

void Replayer::handle(const rd_kafka_message_t& message, const std::stop_token& stop) {
  const auto index = static_cast<std::size_t>(message.partition);
  Partition* partition =
      message.partition >= 0 && index < partitions_.size() ? partitions_[index].get() : nullptr;
  if (message.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (partition != nullptr && message.offset >= partition->end) partition->done = true;
    return;
  }
  if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("replay consumer: {}", rd_kafka_message_errstr(&message));
    return;
  }
  if (partition == nullptr || partition->done) return;
  if (message.offset >= partition->end) {
    partition->done = true;
    return;
  }
  offsets_done_ += message.offset + 1 - partition->next;
  partition->next = message.offset + 1;
  if (partition->next >= partition->end) partition->done = true;
  ++summary_.records_read;

  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const std::int64_t timestamp = rd_kafka_message_timestamp(&message, &type);
  const bool has_timestamp = type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && timestamp >= 0;
  const ReplayRange::Role role =
      options_.range.role_of(has_timestamp ? std::optional<EpochMs>(timestamp) : std::nullopt);
  if (role == ReplayRange::Role::skip) {
    ++summary_.outside_range;
    return;
  }
  // Exactly what the live pipeline hands the stages (pipeline.cpp, Pipeline::handle).
  RecordView record;
  if (message.key != nullptr) {
    record.key = std::string_view(static_cast<const char*>(message.key), message.key_len);
  }
  if (message.payload != nullptr) {
    record.value = std::string_view(static_cast<const char*>(message.payload), message.len);
  }
  if (has_timestamp) record.timestamp_ms = timestamp;
  record.offset = message.offset;
  const auto forget_request =
      message.payload == nullptr ? forget_request_of(message) : std::nullopt;
  const Outcome outcome = forget_request
                              ? topology_.forget(record, *forget_request, partition->state)
                              : topology_.process(record, partition->state, wall_clock_ms());
  if (summary_.records_read % kEvictEvery == 0) {
    partition->state.evict_older_than(topology_.expiry_horizon(partition->state.watermark_ms()));
  }
  if (role == ReplayRange::Role::warmup) {
    ++summary_.warmup_records;
    return;
  }
  // Every record of a chosen customer's partition goes through the stages (the room levels
  // learnt from QR scans and the customer cap are the partition's, shared by its customers);
  // only the chosen customers' outputs leave (docs/operations.md#replay).
  const std::string_view customer =
      !outcome.customer_id.empty() ? outcome.customer_id : record.key.value_or("");
  if (!wanted(customer)) {
    if (outcome.kind != Outcome::Kind::dropped) ++summary_.other_customers;
    return;
  }
  const OutputOrigin origin{
      message.partition, message.offset,
      outcome.kind == Outcome::Kind::dead_letter ? OutputKind::dead_letter : OutputKind::event};
  ProduceResult result;
  switch (outcome.kind) {
    case Outcome::Kind::event:
      ++summary_.events;
      if (producer_) {
        result = producer_->produce_event(outcome.customer_id, outcome.event_value,
                                          outcome.event_id, origin, stop);
      }
      break;
    case Outcome::Kind::dead_letter:
      ++summary_.dlq;
      if (producer_) result = producer_->produce_dead_letter(message, *outcome.error, origin, stop);
      break;
    case Outcome::Kind::forgotten:
      // The request is history too: the replay's readers delete what it deleted, at the same
      // point (the sinks' list of erased customers does the rest: docs/operations.md#forget).
      ++summary_.erasures;
      if (producer_) {
        result =
            producer_->produce_forget(outcome.customer_id, *forget_request,
                                      erasure_time(record, outcome, wall_clock_ms()), origin, stop);
      }
      break;
    case Outcome::Kind::dropped:
      ++summary_.dropped[static_cast<std::size_t>(outcome.drop_reason)];
      return;
  }
  if (!producer_) return;
  if (result.status == ProduceStatus::queued) {
    ++produced_;
  } else if (result.status == ProduceStatus::failed && !failure_) {
    failure_ = std::string("producing to ") + options_.output_topic + ": " +
               rd_kafka_err2str(result.error);
  }
}

void Replayer::finish_outputs(const std::stop_token& stop) {
  if (!producer_) return;
  const auto deadline = std::chrono::steady_clock::now() + kFinishTimeout;
  while ((producer_->outstanding() > 0 || producer_->dead_letters_to_retry() > 0) && !failure_) {
    if (std::chrono::steady_clock::now() >= deadline) {
      failure_ = std::to_string(produced_ - delivered_) + " outputs not delivered within " +
                 std::to_string(kFinishTimeout.count()) + " min";
      break;
    }
    producer_->poll(100);
    if (producer_->dead_letters_to_retry() > 0) (void)producer_->retry_dead_letters(stop);
  }
  if (!failure_ && delivered_ != produced_) {
    failure_ = std::to_string(produced_ - delivered_) + " of " + std::to_string(produced_) +
               " outputs were not delivered";
  }
}

void Replayer::on_delivered(const OutputOrigin& /*origin*/, const rd_kafka_message_t& /*message*/) {
  ++delivered_;
}

void Replayer::on_failed(const OutputOrigin& origin, const rd_kafka_message_t& message) {
  if (failure_) return;
  failure_ = "the output of " + config_.kafka.input_topic + "[" + std::to_string(origin.partition) +
             "]@" + std::to_string(origin.offset) + " failed: " + rd_kafka_err2str(message.err);
}

void Replayer::on_dead_letter_retry(const OutputOrigin& origin) {
  spdlog::warn("replay: dead letter of {}[{}]@{} failed to deliver; producing it again",
               config_.kafka.input_topic, origin.partition, origin.offset);
}

void Replayer::on_callback_failed(const std::string& reason) {
  if (!failure_) failure_ = reason;
}

}  // namespace tastesync
