// The loop of docs/contract.md#delivery and what shares its partition slots: handling a record,
// checkpointing, backpressure, housekeeping, shutdown and the delivery and assignment callbacks.
// Over 400 lines because each of those reads and writes the same slots on the same thread;
// the pieces with a job of their own live beside it (partition_restorer, topic_check,
// consumer_lag, backpressure, registry/registry_file_poller).
#include "pipeline/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "common/clock.hpp"
#include "common/erasure.hpp"
#include "config/topology_options.hpp"
#include "pipeline/backpressure.hpp"
#include "pipeline/cadence.hpp"
#include "pipeline/topic_check.hpp"

namespace tastesync {
namespace {

constexpr std::int64_t kHousekeepingIntervalMs = 1000;
constexpr std::uint64_t kStageTimingSampleMask = 63;  // time one record in 64
using cadence::kCheckpointIntervalNs;
using cadence::kMaxBatch;

std::string partition_names(const rd_kafka_topic_partition_list_t& list) {
  std::string names;
  for (int i = 0; i < list.cnt; ++i) {
    if (!names.empty()) names += ",";
    names += std::to_string(list.elems[i].partition);
  }
  return "[" + names + "]";
}

}  // namespace

Pipeline::Pipeline(Config config, std::shared_ptr<const Registry> registry,
                   std::shared_ptr<prometheus::Registry> metrics_registry,
                   std::shared_ptr<Health> health, EventTap tap)
    : config_(std::move(config)),
      metrics_registry_(std::move(metrics_registry)),
      metrics_(*metrics_registry_),
      health_(std::move(health)),
      tap_(std::move(tap)),
      topology_(std::move(registry), topology_options(config_)),
      parse_ahead_(topology_.options().parse, kMaxBatch),
      consumer_lag_(metrics_.consumer_lag, config_.kafka.input_topic) {}

Pipeline::~Pipeline() {
  // run() returned without its shutdown (an exception escaped it): closing the consumer now
  // would serve a final revoke into members already half torn down, so it leaves without
  // closing; the group notices after its session timeout and the next owner resumes from
  // RocksDB and the last commit, which only ever trail delivered work.
  if (consumer_) consumer_->abandon();
}

int Pipeline::run(const std::stop_token& stop) {
  StateStoreOptions store_options;
  store_options.dir = config_.state.dir;
  store_options.input_topic = config_.kafka.input_topic;
  store_options.block_cache_bytes = config_.state.block_cache_bytes;
  store_options.write_buffer_bytes = config_.state.write_buffer_bytes;
  store_options.expiry_lag_ms = topology_.options().state_expiry_lag_ms();
  store_options.seen_expiry_lag_ms = topology_.options().seen_expiry_lag_ms();
  auto store = StateStore::open(store_options);
  if (!store) {
    // Another topic's state is the operator's to sort out: a start error naming state.dir.
    if (store.error().kind == StateErrorKind::wrong_topic) throw ConfigError(store.error().message);
    throw std::runtime_error(store.error().message);
  }
  store_ = std::move(*store);
  restorer_ = std::make_unique<PartitionRestorer>(config_, *store_, metrics_);

  const int input_partitions = check_topics(config_);
  producer_ = std::make_unique<OutputProducer>(config_, static_cast<DeliveryListener&>(*this));
  if (config_.processing.guarantee == Guarantee::exactly_once) {
    transactions_ =
        std::make_unique<OutputTransactions>(producer_->handle(), kTransactionTimeoutMs);
    if (auto error = transactions_->init()) throw std::runtime_error(*error);
    spdlog::info("exactly_once: transactional.id {}, one transaction every {} ms",
                 transactional_id(config_), config_.processing.commit_interval_ms);
  } else {
    writer_ = std::make_unique<CheckpointWriter>(*store_);
  }

  // A file registry has no watcher of its own: the pipeline polls it between batches.
  if (!registry_feed_ && !config_.registry.source.empty() &&
      config_.registry.source != kRegistryFromPostgres) {
    registry_feed_ = std::make_shared<RegistryFeed>();
    registry_poller_.emplace(config_.registry.source, registry_feed_);
  }

  consumer_ = std::make_unique<InputConsumer>(
      config_, static_cast<AssignmentListener&>(*this), [this](const char* json, std::size_t size) {
        consumer_lag_.update(
            json, size, [this](std::int32_t partition) { return slot_for(partition) != nullptr; });
      });
  consumer_->start(input_partitions);
  if (config_.kafka.consumer_mode == ConsumerMode::assign) health_->set_ready(true);
  spdlog::info("consuming {} ({} partitions, {} mode, group {}), producing to {}",
               config_.kafka.input_topic, input_partitions,
               config_.kafka.consumer_mode == ConsumerMode::group ? "group" : "assign",
               config_.kafka.group_id, config_.kafka.output_topic);

  std::vector<KafkaMessage> batch;
  batch.reserve(kMaxBatch);
  while (!stop.stop_requested() && !fatal_) {
    batch.clear();
    // While outputs are in flight, come back quickly to serve their delivery reports; an open
    // transaction is committed on time.
    int wait_ms = producer_->outstanding() > 0 || (writer_ && writer_->busy()) ? 1 : 100;
    if (transactions_ && transactions_->open()) {
      wait_ms = static_cast<int>(
          std::clamp<std::int64_t>(transaction_due_ms_ - wall_clock_ms(), 0, wait_ms));
    }
    const std::int64_t poll_started_ns = steady_ns();
    consumer_->consume(batch, kMaxBatch, wait_ms);
    // One clock reading per batch: every record of it was consumed at that moment, and the
    // events' `timestamp` is accurate to the batch (about a millisecond).
    const BatchClock clock{steady_ns(), wall_clock_ms()};
    metrics_.consume_seconds.Increment(static_cast<double>(clock.steady_ns - poll_started_ns) *
                                       1e-9);
    metrics_.consumed.Increment(static_cast<double>(batch.size()));
    if (transactions_ && !batch.empty() && !transactions_->open()) {
      if (auto error = transactions_->begin()) {
        fail(std::move(*error));
        break;
      }
      transaction_due_ms_ = clock.wall_ms + config_.processing.commit_interval_ms;
    }
    producer_->hold();
    view_batch(batch);
    // The records between two checkpoints are one batch of the pending writes: a customer changed
    // again within it takes no snapshot (docs/design.md#checkpoint-cuts). exactly_once commits
    // offsets exactly where its flushed outputs end: every change keeps its snapshot there.
    if (!transactions_ && checkpointed_) {
      for (const auto& slot : slots_) {
        if (slot) slot->pending.begin_batch();
      }
      checkpointed_ = false;
    }
    {
      // Ends before the batch's messages (what records_ points into) are destroyed.
      const ParseAhead::Batch parsing = parse_ahead_.start(records_, to_parse_);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        handle(*batch[i], i, clock, stop);
        // A doomed transaction: the rest of the batch is fetched again after the rewind.
        if (fatal_ || doomed_) break;
      }
    }
    check_produced(producer_->release_held(stop), "an output");
    mirror_helper_counts();
    drop_tally_.flush();
    proximity_tally_.flush();
    producer_->poll(0);
    if (transactions_) {
      if (transactions_->open() && (doomed_ || wall_clock_ms() >= transaction_due_ms_)) {
        commit_transaction();
      }
    } else {
      if (producer_->dead_letters_to_retry() > 0) {
        check_produced(producer_->retry_dead_letters(stop), "a dead letter");
      }
      take_finished_checkpoint();
      // An idle input checkpoints at once: the offsets of the last records are never held back.
      if (cadence::checkpoint_due(batch.empty(), clock.steady_ns, next_checkpoint_ns_,
                                  most_in_flight())) {
        checkpoint();
        next_checkpoint_ns_ = clock.steady_ns + kCheckpointIntervalNs;
        checkpointed_ = true;
      }
      // Caught up, no write in flight and every record consumed stored: the commit need not wait
      // for librdkafka's timer (docs/contract.md#caught-up-commit).
      if (stored_since_commit_ && batch.empty() && !(writer_ && writer_->busy()) &&
          in_flight() == 0 && consumer_->commit_caught_up(clock.steady_ns)) {
        stored_since_commit_ = false;
      }
    }
    // After the checkpoint or the transaction's commit, which serve delivery reports too.
    metrics_.flush_batched();
    apply_backpressure();
    const std::int64_t now_ms = wall_clock_ms();
    if (now_ms >= next_housekeeping_ms_) housekeeping(now_ms);
    health_->set_brokers_reachable(!consumer_->brokers_down());
    // A checkpoint write that does not return (a hung disk) is no progress, though the loop goes
    // on: the beat stays at its hand-over, so /healthz fails 30 s into it
    // (docs/contract.md#health).
    health_->beat(now_ms - (writer_ ? writer_->in_flight_for().count() : 0));
  }
  return shutdown();
}

void Pipeline::view_batch(const std::vector<KafkaMessage>& batch) {
  records_.resize(batch.size());
  to_parse_.resize(batch.size());
  heads_.resize(batch.size());
  // The messages were written by librdkafka's thread, each apart: fetched a few ahead, their
  // cache misses overlap instead of coming one after the other.
  constexpr std::size_t kAhead = 8;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i + kAhead < batch.size()) __builtin_prefetch(batch[i + kAhead].get());
    const rd_kafka_message_t& message = *batch[i];
    RecordView& record = records_[i];
    record = RecordView{};
    // A consumer error is no record; a record with no value is an erasure request or a dead
    // letter, never parsed as a sighting.
    to_parse_[i] = message.err == RD_KAFKA_RESP_ERR_NO_ERROR && message.payload != nullptr;
    heads_[i] = RecordHead{message.partition, message.err != RD_KAFKA_RESP_ERR_NO_ERROR,
                           message.payload == nullptr};
    if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (message.key != nullptr) {
      record.key = std::string_view(static_cast<const char*>(message.key), message.key_len);
    }
    if (message.payload != nullptr) {
      record.value = std::string_view(static_cast<const char*>(message.payload), message.len);
    }
    rd_kafka_timestamp_type_t timestamp_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    const std::int64_t timestamp = rd_kafka_message_timestamp(&message, &timestamp_type);
    if (timestamp_type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && timestamp >= 0) {
      record.timestamp_ms = timestamp;
    }
    record.offset = message.offset;
  }
}

void Pipeline::handle(const rd_kafka_message_t& message, std::size_t index, const BatchClock& clock,
                      const std::stop_token& stop) {
  const RecordHead head = heads_[index];
  if (head.consumer_error) {
    spdlog::warn("consumer: {}", rd_kafka_message_errstr(&message));
    return;
  }
  const RecordView& record = records_[index];
  const std::int64_t offset = record.offset;
  PartitionSlot* slot = slot_for(head.partition);
  if (slot == nullptr) return;  // fetched before a revoke: its new owner processes it
  if (offset < slot->next_offset) {
    // The log went back under us (truncated, or the topic recreated, and librdkafka reset to
    // its start): the state describes records that no longer exist. A restart drops it
    // (drop_state_beyond_log_end) and starts the partition afresh.
    fail(config_.kafka.input_topic + "[" + std::to_string(head.partition) +
         "] went back from offset " + std::to_string(slot->next_offset) + " to " +
         std::to_string(offset) +
         ": the topic was truncated or recreated; restart to start the partition without state");
    return;
  }
  slot->next_offset = offset + 1;
  if (slot->committed_offset < 0) slot->committed_offset = offset;

  // Only a record with no value can be an erasure request: the header is never looked up on a
  // sighting's hot path.
  const auto forget_request = head.no_value ? forget_request_of(message) : std::nullopt;

  // The stage latency is sampled: two clock readings a record would cost more than the stages'
  // slowest part.
  const bool timed = (++records_seen_ & kStageTimingSampleMask) == 0;
  const std::int64_t started_ns = timed ? steady_ns() : 0;
  const Result<Sighting, ParseError>* parsed =
      forget_request || to_parse_[index] == 0 ? nullptr : parse_ahead_.take(index);
  const Outcome outcome =
      forget_request ? topology_.forget(record, *forget_request, slot->state, &slot->pending)
      : parsed != nullptr
          ? topology_.process(record, *parsed, slot->state, clock.wall_ms, &slot->pending)
          : topology_.process(record, slot->state, clock.wall_ms, &slot->pending);
  if (timed) {
    metrics_.stage_latency_topology.Observe(static_cast<double>(steady_ns() - started_ns) * 1e-9);
  }

  slot->tracker.offer(offset, clock.steady_ns, slot->state.progress());
  if (outcome.evicted_customers > 0) {
    metrics_.evicted_customers.Increment(static_cast<double>(outcome.evicted_customers));
  }
  if (outcome.kind == Outcome::Kind::forgotten) {
    slot->pending.erased(offset, outcome.customer_id, outcome.touched);
  } else if (outcome.touched != nullptr) {
    slot->pending.changed(offset, outcome.customer_id, *outcome.touched, outcome.remembered,
                          outcome.learned_levels, &slot->state.room());
  }
  if (outcome.proximity) {
    proximity_tally_.add(static_cast<std::size_t>(*outcome.proximity));
  }
  const OutputOrigin origin{
      head.partition, offset,
      outcome.kind == Outcome::Kind::dead_letter ? OutputKind::dead_letter : OutputKind::event};
  switch (outcome.kind) {
    case Outcome::Kind::event:
      metrics_.events[static_cast<std::size_t>(outcome.identification)]->Increment();
      metrics_.detection_age_batched.observe(
          static_cast<double>(clock.wall_ms - outcome.detected_at_ms) * 1e-3);
      check_produced(producer_->produce_event(outcome.customer_id, outcome.event_value,
                                              outcome.event_id, origin, stop),
                     "an event");
      break;
    case Outcome::Kind::dead_letter:
      metrics_.dlq[static_cast<std::size_t>(outcome.error->code)]->Increment();
      check_produced(producer_->produce_dead_letter(message, *outcome.error, origin, stop),
                     "a dead letter");
      break;
    case Outcome::Kind::forgotten:
      forget(message, *forget_request, record, outcome, origin, clock.wall_ms, stop);
      break;
    case Outcome::Kind::dropped:
      drop_tally_.add(static_cast<std::size_t>(outcome.drop_reason));
      (void)slot->tracker.complete(offset);
      break;
  }
}

// The erasure's audit line names the customer by hash only (docs/operations.md#forget); the
// tombstone holds its partition's checkpoint like an event, so the state's deletion reaches
// RocksDB only once every consumer of customer-events can see it.
void Pipeline::forget(const rd_kafka_message_t& message, std::string_view request_id,
                      const RecordView& record, const Outcome& outcome, const OutputOrigin& origin,
                      EpochMs wall_ms, const std::stop_token& stop) {
  const EpochMs requested_at_ms = erasure_time(record, outcome, wall_ms);
  metrics_.forgotten_customers.Increment();
  spdlog::info("erasure {}: customer sha256:{} at {}[{}]@{}: {}", request_id,
               customer_hash_short(outcome.customer_id), config_.kafka.input_topic,
               message.partition, message.offset,
               outcome.erased_state
                   ? "state erased (" + std::to_string(outcome.erased_seen.size()) +
                         " remembered sighting ids); tombstone to " + config_.kafka.output_topic
                   : "no state held here; tombstone to " + config_.kafka.output_topic);
  check_produced(
      producer_->produce_forget(outcome.customer_id, request_id, requested_at_ms, origin, stop),
      "an erasure tombstone");
}

void Pipeline::publish_learned_levels() {
  if (!learned_level_feed_) return;
  for (const auto& [partition, beacon_id, level] : learned_) {
    if (auto tx_power = topology_.learned_tx_power_dbm(beacon_id, level)) {
      learned_level_feed_->publish(
          LearnedLevelRow{beacon_id, partition, *tx_power, level.samples, level.updated_ms});
    }
  }
  learned_.clear();
}

void Pipeline::collect_checkpoints() {
  advanced_.clear();
  for (std::size_t p = 0; p < slots_.size(); ++p) {
    PartitionSlot* slot = slots_[p].get();
    if (slot == nullptr) continue;
    const auto frontier = slot->tracker.done_frontier();
    if (!frontier) continue;
    // Where the pending changes allow a cut at or before it (docs/design.md#checkpoint-cuts).
    const auto position = slot->tracker.advance(slot->pending.checkpointable_before(*frontier));
    if (!position) continue;
    const auto partition = static_cast<std::int32_t>(p);
    slot->pending.drain_before(position->next_offset, partition, slot->state, batch_);
    batch_.set_checkpoint(partition,
                          PartitionCheckpoint{position->next_offset, position->progress});
    advanced_.emplace_back(partition, position->next_offset);
  }
}

void Pipeline::produce_changelog() {
  if (!changelog_enabled(config_)) return;
  // The changelog carries exactly what RocksDB gets, each partition's checkpoint record last.
  const std::stop_token never;
  batch_.for_each_change([&](std::string_view key, std::optional<std::string_view> value) {
    check_produced(producer_->produce_changelog(*partition_of_key(key), key, value, never),
                   "a changelog record");
    ++changelog_produced_;
  });
}

void Pipeline::checkpoint() {
  if (transactions_) {
    commit_transaction();
    return;
  }
  if (state_write_failed_) return;  // what it held is missing: nothing after it may be written
  take_finished_checkpoint();
  if (writer_->busy()) return;  // what is delivered meanwhile goes in the next batch
  collect_checkpoints();
  if (advanced_.empty()) return;
  // The Kafka commit does not wait for the changelog: a restore resumes from the changelog's
  // own checkpoint, which re-processes (with the same event ids) whatever it lacks.
  produce_changelog();
  if (fatal_) return;
  writing_learned_.clear();
  if (learned_level_feed_) writing_learned_ = batch_.room_levels();
  writing_advanced_ = advanced_;
  writer_->start(batch_);
}

std::size_t Pipeline::most_in_flight() const {
  std::size_t most = 0;
  for (const auto& slot : slots_) {
    if (slot) most = std::max(most, slot->tracker.in_flight());
  }
  return most;
}

void Pipeline::checkpoint_now() {
  if (writer_) {
    if (auto written = writer_->wait()) finish_checkpoint(*written);
  }
  checkpoint();
  if (writer_) {
    if (auto written = writer_->wait()) finish_checkpoint(*written);
  }
}

void Pipeline::mirror_helper_counts() {
  // Both are running totals kept by their helper threads; the counters take what each added since
  // the last call. A waker started anew counts from zero again.
  const std::uint64_t wakes = consumer_->fetch_wakes();
  const std::uint64_t ahead = parse_ahead_.parsed_ahead();
  if (wakes < fetch_wakes_mirrored_) fetch_wakes_mirrored_ = 0;
  metrics_.fetch_wakes.Increment(static_cast<double>(wakes - fetch_wakes_mirrored_));
  metrics_.parsed_ahead.Increment(static_cast<double>(ahead - parsed_ahead_mirrored_));
  fetch_wakes_mirrored_ = wakes;
  parsed_ahead_mirrored_ = ahead;
}

void Pipeline::take_finished_checkpoint() {
  if (!writer_ || !writer_->busy()) return;
  if (auto written = writer_->finished()) finish_checkpoint(*written);
}

void Pipeline::finish_checkpoint(const Status<StateError>& written) {
  if (!written) {
    state_write_failed_ = true;
    fail("state write failed: " + written.error().message);
    return;
  }
  learned_ = std::move(writing_learned_);
  publish_learned_levels();
  metrics_.stage_latency_checkpoint.Observe(writer_->last_write_seconds());
  // The Kafka commit trails RocksDB: only now may these offsets be committed.
  for (const auto& [partition, next_offset] : writing_advanced_) {
    PartitionSlot* slot = slot_for(partition);
    if (slot == nullptr) continue;  // lost meanwhile: its new owner commits it
    consumer_->store_offset(partition, next_offset);
    slot->store_restored_offset = -1;
    stored_since_commit_ = true;
  }
}

void Pipeline::check_produced(const ProduceResult& result, const char* what) {
  if (result.status == ProduceStatus::stopped) {
    undelivered_at_stop_ = true;  // consumed again after a restart: its offset is never stored
  } else if (result.status == ProduceStatus::failed) {
    fail_or_abort(std::string("producing ") + what + ": " + rd_kafka_err2str(result.error));
  }
}

void Pipeline::apply_backpressure() {
  for (std::size_t p = 0; p < slots_.size(); ++p) {
    PartitionSlot* slot = slots_[p].get();
    if (slot == nullptr) continue;
    const std::size_t in_flight = slot->tracker.in_flight();
    const bool pause = Backpressure::should_pause(slot->paused, in_flight);
    if (pause == slot->paused) continue;
    const TopicPartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), config_.kafka.input_topic.c_str(),
                                      static_cast<std::int32_t>(p));
    if (pause) {
      rd_kafka_pause_partitions(consumer_->handle(), list.get());
      spdlog::warn("partition {} paused: {} records wait for their outputs", p, in_flight);
    } else {
      rd_kafka_resume_partitions(consumer_->handle(), list.get());
      spdlog::info("partition {} resumed", p);
    }
    slot->paused = pause;
  }
}

void Pipeline::housekeeping(std::int64_t now_ms) {
  next_housekeeping_ms_ = now_ms + kHousekeepingIntervalMs;
  std::size_t customers = 0;
  std::size_t partitions = 0;
  for (std::size_t index = 0; index < slots_.size(); ++index) {
    auto& slot = slots_[index];
    if (!slot) continue;
    ++partitions;
    slot->state.evict_older_than(topology_.expiry_horizon(slot->state.watermark_ms()));
    customers += slot->state.size();
    // One series per owned partition: `tastesync status` reads ownership from it.
    if (slot->customers_gauge == nullptr) {
      slot->customers_gauge =
          &metrics_.partition_customers.Add({{"partition", std::to_string(index)}});
    }
    slot->customers_gauge->Set(static_cast<double>(slot->state.size()));
    // Assigned by now (the rebalance callback has returned): the restored offset can be stored.
    if (slot->store_restored_offset >= 0) {
      consumer_->store_offset(static_cast<std::int32_t>(index), slot->store_restored_offset);
      slot->store_restored_offset = -1;
    }
  }
  metrics_.state_customers.Set(static_cast<double>(customers));
  metrics_.assigned_partitions.Set(static_cast<double>(partitions));
  metrics_.in_flight.Set(static_cast<double>(in_flight()));
  metrics_.state_store_bytes.Set(static_cast<double>(store_->approximate_size_bytes()));
  metrics_.changelog_lag.Set(static_cast<double>(changelog_produced_ - changelog_acknowledged_));
  metrics_.ready.Set(health_->ready() ? 1 : 0);
  if (const auto fatal = producer_->fatal_error()) fail("fatal producer error: " + *fatal);
  reload_registry_if_changed();
}

void Pipeline::reload_registry_if_changed() {
  // The registry is picked up while running (docs/contract.md#registry-reload), from the
  // PostgreSQL watcher's feed or the file poller's.
  if (registry_poller_) registry_poller_->poll();
  if (!registry_feed_) return;
  metrics_.registry_reload_errors->Increment(static_cast<double>(registry_feed_->take_errors()));
  if (auto registry = registry_feed_->take()) {
    topology_.set_registry(std::move(registry));
    metrics_.registry_reloads->Increment();
  }
}

int Pipeline::shutdown() {
  shutting_down_ = true;
  health_->set_ready(false);
  metrics_.ready.Set(0);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.shutdown.timeout_ms);
  const auto remaining_ms = [&] {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<std::int64_t>(0, left.count()));
  };
  spdlog::info("shutting down: draining {} in-flight records", in_flight());

  // Stop fetching; finish what is in flight, dead letters included.
  if (TopicPartitionList assignment; true) {
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(consumer_->handle(), &raw) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      assignment.reset(raw);
      rd_kafka_pause_partitions(consumer_->handle(), assignment.get());
    }
  }
  // The final commit and the close get a share of the budget whatever the drain takes.
  const int reserve_ms = std::min(2000, config_.shutdown.timeout_ms / 4);
  const auto drain_ms = [&] { return std::max(0, remaining_ms() - reserve_ms); };
  bool drained = producer_->flush(drain_ms());
  while (drained && producer_->dead_letters_to_retry() > 0 && drain_ms() > 0) {
    // Backed-off dead letters are due within a minute; poll until then or the budget ends.
    const std::stop_token never;
    check_produced(producer_->retry_dead_letters(never), "a dead letter");
    drained = producer_->flush(std::min(drain_ms(), 100));
  }
  drained = drained && producer_->dead_letters_to_retry() == 0 && !undelivered_at_stop_;
  checkpoint_now();  // what was delivered (exactly_once: the open transaction is committed)
  bool bounded = drained;
  if (const auto err = consumer_->commit_within(remaining_ms());
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn(
        "final offset commit: {} (RocksDB holds the offsets; the next start resumes there)",
        rd_kafka_err2str(err));
    bounded = bounded && err != RD_KAFKA_RESP_ERR__TIMED_OUT;
  }
  if (config_.kafka.consumer_mode == ConsumerMode::group && !assigned_once_) {
    // librdkafka #4312: closing a cooperative consumer before its first assignment aborts.
    consumer_->abandon();
  } else if (!consumer_->close_within(remaining_ms())) {
    spdlog::warn(
        "the consumer did not close within shutdown.timeout_ms; left without leaving "
        "the group");
    bounded = false;
  }
  metrics_.flush_batched();  // the drain's delivery reports

  if (fatal_) {
    spdlog::error("stopped after a fatal error: {}", *fatal_);
    return kExitFailed;
  }
  if (!bounded) {
    spdlog::error(
        "shutdown.timeout_ms ({} ms) passed ({} records undelivered); only what was delivered is "
        "checkpointed",
        config_.shutdown.timeout_ms, in_flight());
    return kExitShutdownTimedOut;
  }
  spdlog::info("stopped cleanly");
  return kExitClean;
}

Pipeline::PartitionSlot* Pipeline::slot_for(std::int32_t partition) {
  if (partition < 0 || static_cast<std::size_t>(partition) >= slots_.size()) return nullptr;
  return slots_[static_cast<std::size_t>(partition)].get();
}

std::size_t Pipeline::in_flight() const {
  std::size_t count = 0;
  for (const auto& slot : slots_) {
    if (slot) count += slot->tracker.in_flight();
  }
  return count;
}

void Pipeline::fail(std::string reason) {
  if (fatal_) return;
  spdlog::error("{}; stopping consumption", reason);
  fatal_ = std::move(reason);
  health_->set_ready(false);
}

void Pipeline::on_delivered(const OutputOrigin& origin, const rd_kafka_message_t& message) {
  if (origin.kind == OutputKind::changelog) {
    metrics_.changelog_written.Increment();
    ++changelog_acknowledged_;
    return;
  }
  PartitionSlot* slot = slot_for(origin.partition);
  if (slot == nullptr) return;
  const auto consumed_ns = slot->tracker.complete(origin.offset);
  if (consumed_ns) {
    metrics_.pipeline_latency_batched.observe(static_cast<double>(steady_ns() - *consumed_ns) *
                                              1e-9);
  }
  if (origin.kind == OutputKind::event) {
    metrics_.produced_events.Increment();
    metrics_.last_event.Set(static_cast<double>(wall_clock_ms()) * 1e-3);
    if (tap_ && message.key != nullptr) {
      const std::string_view customer_id(static_cast<const char*>(message.key), message.key_len);
      // No value: an erasure's tombstone.
      const std::string_view value =
          message.payload == nullptr
              ? std::string_view()
              : std::string_view(static_cast<const char*>(message.payload), message.len);
      // exactly_once: shown once its transaction commits, never if it aborts.
      if (transactions_) {
        tapped_.emplace_back(customer_id, value);
      } else {
        tap_(customer_id, value);
      }
    }
  }
}

void Pipeline::on_failed(const OutputOrigin& origin, const rd_kafka_message_t& message) {
  metrics_.delivery_errors.Increment();
  const char* what = origin.kind == OutputKind::changelog ? "a changelog record"
                     : origin.kind == OutputKind::event   ? "the event"
                                                          : "the dead letter";
  fail_or_abort(std::string("delivering ") + what + " of " + config_.kafka.input_topic + "[" +
                std::to_string(origin.partition) + "]@" + std::to_string(origin.offset) +
                " failed: " + rd_kafka_err2str(message.err));
}

void Pipeline::on_dead_letter_retry(const OutputOrigin& origin) {
  metrics_.dlq_retries.Increment();
  spdlog::warn("dead letter of {}[{}]@{} failed to deliver; producing it again",
               config_.kafka.input_topic, origin.partition, origin.offset);
}

void Pipeline::on_assigned(rd_kafka_topic_partition_list_t& partitions) {
  if (shutting_down_) {
    // A rebalance the stop raced with, served by the consumer's close: librdkafka gives up the
    // whole assignment next, and nothing of these partitions is read. Restoring them would wait
    // for the group's offsets, which librdkafka no longer fetches for a closing consumer: the
    // read timed out and the stop failed (docs/contract.md#shutdown).
    spdlog::info("assigned partitions {} of {} while stopping: left for the group's next owner",
                 partition_names(partitions), config_.kafka.input_topic);
    return;
  }
  if (auto failure = restorer_->prepare(consumer_->handle(), partitions)) {
    fail(std::move(failure->reason));
    return;
  }
  std::size_t restored_customers = 0;
  for (int i = 0; i < partitions.cnt; ++i) {
    rd_kafka_topic_partition_t& tp = partitions.elems[i];
    auto slot = std::make_unique<PartitionSlot>();
    auto checkpoint = store_->restore(tp.partition, slot->state);
    if (!checkpoint) {
      fail("restoring partition " + std::to_string(tp.partition) + ": " +
           checkpoint.error().message);
      return;
    }
    topology_.normalize_restored(slot->state);
    // RocksDB's offset wins: it is written with the state, the Kafka commit trails it.
    tp.offset = *checkpoint ? (*checkpoint)->next_offset : RD_KAFKA_OFFSET_INVALID;
    slot->next_offset = *checkpoint ? (*checkpoint)->next_offset : -1;
    slot->committed_offset = slot->next_offset;
    // Another instance processed up to here and wrote the changelog, but its last commit failed
    // (a rebalance in progress): the group's offset would stay behind, showing lag for records
    // already done, until the next record in this partition (none, when the stream has ended).
    // exactly_once commits offsets only in its transactions.
    if (!transactions_ && slot->next_offset > restorer_->group_offset(tp.partition)) {
      slot->store_restored_offset = slot->next_offset;
    }
    restored_customers += slot->state.size();
    const auto index = static_cast<std::size_t>(tp.partition);
    if (index >= slots_.size()) slots_.resize(index + 1);
    slots_[index] = std::move(slot);
  }
  restorer_->report_lost_records(consumer_->handle(), partitions);
  assigned_once_ = true;
  if (!shutting_down_ && !fatal_) health_->set_ready(true);
  spdlog::info("assigned partitions {} of {}; restored {} customers from RocksDB",
               partition_names(partitions), config_.kafka.input_topic, restored_customers);
}

void Pipeline::on_revoked(const rd_kafka_topic_partition_list_t& partitions, bool lost) {
  // Drain first either way: a late delivery report must never meet a re-assigned partition.
  producer_->flush(config_.shutdown.timeout_ms);
  // Revoked: their work is committed while this member still owns them. Lost: another member
  // may own them already, so the open transaction aborts (after they are dropped, so that only
  // the kept partitions rewind).
  if (!lost) checkpoint_now();
  for (int i = 0; i < partitions.cnt; ++i) {
    const std::int32_t partition = partitions.elems[i].partition;
    const auto index = static_cast<std::size_t>(partition);
    if (index < slots_.size() && slots_[index]) {
      if (slots_[index]->customers_gauge != nullptr) {
        metrics_.partition_customers.Remove(slots_[index]->customers_gauge);
      }
      slots_[index].reset();
    }
    producer_->forget_dead_letters_of(partition);
    consumer_lag_.forget(partition);
  }
  // A write already handed over finishes; the lost partitions' offsets are not stored.
  if (lost && writer_) {
    if (auto written = writer_->wait()) finish_checkpoint(*written);
  }
  if (lost && transactions_ && transactions_->open()) {
    doomed_ = "partitions lost";
    commit_transaction();
  }
  spdlog::info("{} partitions {} of {}", lost ? "lost" : "revoked", partition_names(partitions),
               config_.kafka.input_topic);
}

}  // namespace tastesync
