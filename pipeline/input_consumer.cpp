#include "pipeline/input_consumer.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace tastesync {

bool statistics_show_a_broker_up(const char* json, std::size_t size) {
  simdjson::dom::parser parser;
  simdjson::dom::object brokers;
  if (parser.parse(json, size)["brokers"].get_object().get(brokers) != simdjson::SUCCESS) {
    return false;
  }
  for (const auto [name, broker] : brokers) {
    std::int64_t node = -1;
    std::string_view state;
    if (broker["nodeid"].get_int64().get(node) == simdjson::SUCCESS && node >= 0 &&
        broker["state"].get_string().get(state) == simdjson::SUCCESS && state == "UP") {
      return true;
    }
  }
  return false;
}

std::map<std::string, std::string> consumer_properties(const Config& config) {
  std::map<std::string, std::string> properties = {
      {"bootstrap.servers", config.kafka.brokers},
      {"group.id", config.kafka.group_id},
      {"client.id", "tastesync-" + config.kafka.group_id},
      // At-least-once, librdkafka's recipe: store an offset only once its outputs are delivered
      // and its state written; auto-commit sends what was stored.
      {"enable.auto.commit", "true"},
      {"enable.auto.offset.store", "false"},
      {"auto.commit.interval.ms", "1000"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      // An upstream producing transactionally: what it aborted is not a sighting (librdkafka's
      // default, written down because the changelog restore depends on it too).
      {"isolation.level", "read_committed"},
      {"socket.nagle.disable", "true"},
      {"fetch.wait.max.ms", "50"},
      // librdkafka 2.0.2 holds this against the whole forwarded consumer queue, not per
      // partition, and once it is reached its fetcher looks again only when its thread wakes,
      // up to 1 s later: the FetchWaker started in start() wakes it while a backlog drains. A
      // shallow prefetch, ~4 MB of sightings, keeps what librdkafka receives on memory it has
      // used before instead of 64 MiB of fresh pages (docs/design.md#fetch-wake).
      {"queued.min.messages", "16000"},
      {"statistics.interval.ms", "5000"},
      // librdkafka's 10 s backoff ceiling kept a client away up to 8.5 s after a broker came
      // back; 1 s (the Java client's) brings it back in ~0.6 s (docs/platform.md#mock-outages).
      {"reconnect.backoff.max.ms", "1000"},
  };
  if (config.processing.guarantee == Guarantee::exactly_once) {
    // Offsets go in the output transaction (docs/contract.md#exactly-once), never by commit.
    properties["enable.auto.commit"] = "false";
  }
  if (config.kafka.consumer_mode == ConsumerMode::group) {
    properties["partition.assignment.strategy"] = "cooperative-sticky";
    properties["session.timeout.ms"] = std::to_string(config.kafka.session_timeout_ms);
    properties["heartbeat.interval.ms"] = std::to_string(config.kafka.heartbeat_interval_ms);
    if (!config.kafka.group_instance_id.empty()) {
      properties["group.instance.id"] = config.kafka.group_instance_id;
    }
  }
  for (const auto& [name, value] : config.kafka.properties) properties[name] = value;
  return properties;
}

InputConsumer::InputConsumer(const Config& config, AssignmentListener& listener,
                             std::function<void(const char*, std::size_t)> on_statistics)
    : listener_(listener),
      on_statistics_(std::move(on_statistics)),
      mode_(config.kafka.consumer_mode),
      transactional_(config.processing.guarantee == Guarantee::exactly_once),
      topic_(config.kafka.input_topic) {
  KafkaConf conf = make_kafka_conf(consumer_properties(config), "kafka.properties");
  rd_kafka_conf_set_opaque(conf.get(), this);
  if (mode_ == ConsumerMode::group) rd_kafka_conf_set_rebalance_cb(conf.get(), &rebalance);
  rd_kafka_conf_set_stats_cb(conf.get(), &statistics);
  rd_kafka_conf_set_error_cb(conf.get(), &error);
  handle_ = make_kafka_handle(RD_KAFKA_CONSUMER, std::move(conf));
  // Serve statistics and other events from consume() too.
  rd_kafka_poll_set_consumer(handle_.get());
  // 0 turns librdkafka's timer off; the caught-up commit then keeps to one a second.
  const std::int64_t interval_ms = integer_property("auto.commit.interval.ms", 5000);
  auto_commit_interval_ns_ = (interval_ms > 0 ? interval_ms : 1000) * 1'000'000;
}

InputConsumer::~InputConsumer() {
  if (!abandoned_ && close_within(10000)) return;
  // rd_kafka_destroy would wait for the close in progress (up to the session timeout, ~45 s with
  // the coordinator gone). Only a process exiting past its shutdown timeout gets here: the handle
  // is left to the operating system.
  (void)handle_.release();
}

bool InputConsumer::cooperative() const {
  return std::strcmp(rd_kafka_rebalance_protocol(handle_.get()), "COOPERATIVE") == 0;
}

void InputConsumer::start(int partition_count) {
  if (mode_ == ConsumerMode::group) {
    const TopicPartitionList topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), topic_.c_str(), RD_KAFKA_PARTITION_UA);
    const auto err = rd_kafka_subscribe(handle_.get(), topics.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("subscribing to " + topic_ + ": " + rd_kafka_err2str(err));
    }
    start_waker();
    return;
  }
  const TopicPartitionList partitions(rd_kafka_topic_partition_list_new(partition_count));
  for (int p = 0; p < partition_count; ++p) {
    rd_kafka_topic_partition_list_add(partitions.get(), topic_.c_str(), p)->offset =
        RD_KAFKA_OFFSET_INVALID;
  }
  listener_.on_assigned(*partitions);
  const auto err = rd_kafka_assign(handle_.get(), partitions.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("assigning " + topic_ + ": " + rd_kafka_err2str(err));
  }
  start_waker();
}

std::int64_t InputConsumer::integer_property(const char* name, std::int64_t fallback) const {
  char value[32] = {};
  std::size_t size = sizeof(value);
  if (rd_kafka_conf_get(rd_kafka_conf(handle_.get()), name, value, &size) != RD_KAFKA_CONF_OK) {
    return fallback;
  }
  return std::strtoll(value, nullptr, 10);
}

void InputConsumer::start_waker() {
  FetchWakerOptions options;
  options.queue_limit = static_cast<std::size_t>(integer_property("queued.min.messages", 0));
  waker_ = std::make_unique<FetchWaker>(handle_.get(), options);
}

std::size_t InputConsumer::consume(std::vector<KafkaMessage>& out, std::size_t max,
                                   int timeout_ms) {
  std::size_t count = 0;
  if (waker_) waker_->before_take(max);
  // The first record may wait; the rest are only what is already fetched, so a record never
  // waits for a batch to fill.
  for (int wait = timeout_ms; count < max; wait = 0) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(handle_.get(), wait);
    if (message == nullptr) break;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR && brokers_down_) {
      if (fetched_before_down_ > 0) {
        --fetched_before_down_;
      } else {
        mark_brokers_up("a record fetched");
      }
    }
    out.emplace_back(message);
    ++count;
  }
  return count;
}

void InputConsumer::store_offset(std::int32_t partition, std::int64_t next_offset) {
  const TopicPartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), partition)->offset = next_offset;
  // Fails only for a partition no longer assigned: its new owner resumes from RocksDB/commit.
  (void)rd_kafka_offsets_store(handle_.get(), list.get());
}

rd_kafka_resp_err_t InputConsumer::commit_within(int timeout_ms) {
  if (transactional_) return RD_KAFKA_RESP_ERR_NO_ERROR;
  const KafkaQueue results(rd_kafka_queue_new(handle_.get()));
  const auto err = rd_kafka_commit_queue(handle_.get(), nullptr, results.get(), nullptr, nullptr);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return err == RD_KAFKA_RESP_ERR__NO_OFFSET ? RD_KAFKA_RESP_ERR_NO_ERROR : err;
  }
  rd_kafka_event_t* event = rd_kafka_queue_poll(results.get(), timeout_ms);
  if (event == nullptr) return RD_KAFKA_RESP_ERR__TIMED_OUT;
  const auto result = rd_kafka_event_error(event);
  rd_kafka_event_destroy(event);
  return result == RD_KAFKA_RESP_ERR__NO_OFFSET ? RD_KAFKA_RESP_ERR_NO_ERROR : result;
}

bool InputConsumer::commit_caught_up(std::int64_t steady_ns) {
  if (transactional_ || closed_ || mode_ != ConsumerMode::assign) return false;
  if (caught_up_commit_ns_ && steady_ns - *caught_up_commit_ns_ < auto_commit_interval_ns_) {
    return false;
  }
  caught_up_commit_ns_ = steady_ns;
  // Asynchronous, with no offset_commit_cb: no answer is queued for us; librdkafka logs a
  // failure (COMMITFAIL) and its timer commits again.
  (void)rd_kafka_commit(handle_.get(), nullptr, 1);
  return true;
}

bool InputConsumer::close_within(int timeout_ms) {
  if (waker_) waker_->stop();
  if (closed_ || !handle_) return true;
  closed_ = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const KafkaQueue events(rd_kafka_queue_new(handle_.get()));
  if (rd_kafka_error_t* error = rd_kafka_consumer_close_queue(handle_.get(), events.get())) {
    rd_kafka_error_destroy(error);
  }
  while (rd_kafka_consumer_closed(handle_.get()) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      abandoned_ = true;
      return false;
    }
    rd_kafka_event_t* event = rd_kafka_queue_poll(events.get(), 100);
    if (event == nullptr) continue;
    // The final revoke arrives as an event, not through the callback: serve it the same way.
    if (rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE) {
      rebalance(handle_.get(), rd_kafka_event_error(event),
                rd_kafka_event_topic_partition_list(event), this);
    }
    rd_kafka_event_destroy(event);
  }
  return true;
}

void InputConsumer::abandon() {
  if (waker_) waker_->stop();
  if (closed_ || !handle_) return;
  closed_ = true;
  rd_kafka_destroy_flags(handle_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

void InputConsumer::rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto& self = *static_cast<InputConsumer*>(opaque);
  const bool cooperative = self.cooperative();
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // The assignment is acknowledged either way: librdkafka waits for it, and a pipeline that
    // failed stops and closes the consumer next.
    self.guarded("assigning partitions", [&] { self.listener_.on_assigned(*partitions); });
    if (cooperative) {
      rd_kafka_error_t* error = rd_kafka_incremental_assign(rk, partitions);
      if (error != nullptr) rd_kafka_error_destroy(error);
    } else {
      rd_kafka_assign(rk, partitions);
    }
    return;
  }
  const bool lost = rd_kafka_assignment_lost(rk) != 0;
  self.guarded("revoking partitions", [&] {
    self.listener_.on_revoked(*partitions, lost);
    // Commit what on_revoked stored before the partitions go to another member. Not in the
    // close: the stop has just committed, librdkafka commits what is stored as it gives the
    // partitions up (enable.auto.commit), and a commit of our own then is one more operation
    // in flight while librdkafka terminates (docs/contract.md#shutdown).
    if (!lost && !self.closed_) (void)self.commit_within(kRevokeCommitTimeoutMs);
  });
  if (cooperative) {
    rd_kafka_error_t* error = rd_kafka_incremental_unassign(rk, partitions);
    if (error != nullptr) rd_kafka_error_destroy(error);
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

int InputConsumer::statistics(rd_kafka_t* /*rk*/, char* json, std::size_t json_len, void* opaque) {
  auto& self = *static_cast<InputConsumer*>(opaque);
  if (self.on_statistics_) {
    self.guarded("reading statistics", [&] { self.on_statistics_(json, json_len); });
  }
  // librdkafka reports "all brokers are down" once per outage at most: in one CI run the consumer
  // logged each broker's disconnect and never that, and /readyz stayed 200 through the whole
  // outage. The statistics say it either way (docs/contract.md#health).
  self.guarded("reading statistics", [&] {
    if (statistics_show_a_broker_up(json, json_len)) {
      self.mark_brokers_up("librdkafka's statistics");
    } else {
      self.mark_brokers_down("no broker UP in librdkafka's statistics");
    }
  });
  return 0;  // librdkafka frees the JSON
}

void InputConsumer::mark_brokers_down(const char* seen_in) {
  if (brokers_down_) return;
  brokers_down_ = true;
  // Callbacks are served from the consumer poll, on the thread that consumes, so nothing is
  // taken from the queue meanwhile. Its length counts other events too: an overestimate only
  // leaves the statistics to say when a broker answers.
  const KafkaQueue queue(rd_kafka_queue_get_consumer(handle_.get()));
  fetched_before_down_ = queue ? rd_kafka_queue_length(queue.get()) : 0;
  spdlog::warn("kafka: every broker is down ({}); /readyz answers 503 until one answers again",
               seen_in);
}

void InputConsumer::mark_brokers_up(const char* seen_in) {
  if (!brokers_down_) return;
  brokers_down_ = false;
  fetched_before_down_ = 0;
  spdlog::info("kafka: a broker answers again ({})", seen_in);
}

void InputConsumer::error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto& self = *static_cast<InputConsumer*>(opaque);
  self.guarded("reporting a client error", [&] {
    // What librdkafka logs itself when no error callback is set.
    spdlog::error("librdkafka {} ERROR: {}", rd_kafka_name(rk), reason);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) self.mark_brokers_down("librdkafka's error");
  });
}

void InputConsumer::guarded(const char* what, const std::function<void()>& body) noexcept {
  try {
    body();
  } catch (const std::exception& e) {
    report_failure(std::string(what) + ": " + e.what());
  } catch (...) {
    report_failure(std::string(what) + ": an unknown exception");
  }
}

void InputConsumer::report_failure(const std::string& reason) noexcept {
  try {
    listener_.on_callback_failed(reason);
  } catch (...) {
    // Not even the failure could be recorded: the one safe thing left is to stop now.
    std::fputs("tastesync: a librdkafka callback failed and could not be reported\n", stderr);
    std::_Exit(kExitCallbackFailed);
  }
}

}  // namespace tastesync
