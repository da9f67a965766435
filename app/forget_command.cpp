#include "app/forget_command.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <thread>
#include <vector>

#include "app/cli_flags.hpp"
#include "app/logging.hpp"
#include "common/clock.hpp"
#include "common/erasure.hpp"
#include "common/uuid.hpp"
#include "kafka/kafka.hpp"
#include "stages/parse.hpp"

namespace tastesync {
namespace {

using Clock = std::chrono::steady_clock;

std::map<std::string, std::string> client_properties(const Config& config) {
  std::map<std::string, std::string> properties = {{"bootstrap.servers", config.kafka.brokers},
                                                   {"client.id", "tastesync-forget"}};
  for (const auto& [name, value] : config.kafka.properties) properties[name] = value;
  return properties;
}

std::string new_request_id() {
  Uuid uuid{};
  if (RAND_bytes(uuid.data(), static_cast<int>(uuid.size())) != 1) {
    throw std::runtime_error("no random bytes for a request id");
  }
  uuid[6] = static_cast<std::uint8_t>((uuid[6] & 0x0f) | 0x40);  // version 4
  uuid[8] = static_cast<std::uint8_t>((uuid[8] & 0x3f) | 0x80);
  return format_uuid_string(uuid);
}

struct Delivery {
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR__IN_PROGRESS;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* /*opaque*/) {
  auto* delivery = static_cast<Delivery*>(message->_private);
  delivery->error = message->err;
  delivery->partition = message->partition;
  delivery->offset = message->offset;
}

// Every partition of customer-events from its end as of now, so the tombstone, whichever
// partition it lands in, is read however much came before it.
KafkaHandle follow_events(const Config& config) {
  auto properties = client_properties(config);
  properties["group.id"] = config.kafka.group_id + "-forget";
  properties["enable.auto.commit"] = "false";
  properties["isolation.level"] = "read_committed";  // exactly_once: only a committed tombstone
  KafkaHandle consumer =
      make_kafka_handle(RD_KAFKA_CONSUMER, make_kafka_conf(properties, "kafka.properties"));
  const std::string& topic = config.kafka.output_topic;
  const int timeout_ms = config.kafka.topic_check_timeout_ms;
  const auto count = topic_partition_counts(consumer.get(), {topic}, timeout_ms).front();
  if (!count) throw ConfigError(topic + " does not exist on " + config.kafka.brokers);
  const TopicPartitionList assignment(rd_kafka_topic_partition_list_new(*count));
  for (int partition = 0; partition < *count; ++partition) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (const auto error = rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(),
                                                            partition, &low, &high, timeout_ms);
        error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("the end of " + topic + "[" + std::to_string(partition) +
                               "]: " + rd_kafka_err2str(error));
    }
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), partition)->offset = high;
  }
  if (const auto error = rd_kafka_assign(consumer.get(), assignment.get()); error) {
    throw std::runtime_error(std::string("reading ") + topic + ": " + rd_kafka_err2str(error));
  }
  return consumer;
}

// The request on the input topic: no value, keyed by the customer (so it lands in their
// partition, murmur2 like every producer of the input), idempotent.
Delivery produce_request(const Config& config, const std::string& customer_id,
                         const std::string& request_id, EpochMs now_ms) {
  auto properties = client_properties(config);
  properties["enable.idempotence"] = "true";
  properties["partitioner"] = "murmur2_random";
  KafkaConf conf = make_kafka_conf(properties, "kafka.properties");
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  const KafkaHandle producer = make_kafka_handle(RD_KAFKA_PRODUCER, std::move(conf));
  const std::string at = std::to_string(now_ms);
  Delivery delivery;
  const auto error = rd_kafka_producev(
      producer.get(), RD_KAFKA_V_TOPIC(config.kafka.input_topic.c_str()),
      RD_KAFKA_V_KEY(customer_id.data(), customer_id.size()), RD_KAFKA_V_VALUE(nullptr, 0),
      RD_KAFKA_V_HEADER(kForgetHeader, request_id.data(), static_cast<ssize_t>(request_id.size())),
      RD_KAFKA_V_HEADER(kForgetAtHeader, at.data(), static_cast<ssize_t>(at.size())),
      RD_KAFKA_V_TIMESTAMP(now_ms), RD_KAFKA_V_OPAQUE(&delivery), RD_KAFKA_V_END);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("producing the request to " + config.kafka.input_topic + ": " +
                             rd_kafka_err2str(error));
  }
  rd_kafka_flush(producer.get(), config.kafka.topic_check_timeout_ms);
  if (delivery.error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("the request was not delivered to " + config.kafka.input_topic + ": " +
                             rd_kafka_err2str(delivery.error));
  }
  return delivery;
}

// Where the pipeline put the tombstone of `request_id`, or nullopt by the deadline.
std::optional<Delivery> wait_for_tombstone(rd_kafka_t* consumer, const std::string& request_id,
                                           Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    const KafkaMessage message(rd_kafka_consumer_poll(consumer, 100));
    if (!message || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (forget_request_of(*message) == request_id) {
      return Delivery{RD_KAFKA_RESP_ERR_NO_ERROR, message->partition, message->offset};
    }
  }
  return std::nullopt;
}

// Whether `group` has committed past `offset` of the output partition, by the deadline.
bool wait_for_sink(const Config& config, const std::string& group, const Delivery& tombstone,
                   Clock::time_point deadline) {
  auto properties = client_properties(config);
  properties["group.id"] = group;
  properties["enable.auto.commit"] = "false";
  const KafkaHandle handle =
      make_kafka_handle(RD_KAFKA_CONSUMER, make_kafka_conf(properties, "kafka.properties"));
  bool done = false;
  while (!done && Clock::now() < deadline) {
    const TopicPartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), config.kafka.output_topic.c_str(),
                                      tombstone.partition);
    if (rd_kafka_committed(handle.get(), list.get(), 5000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        list->elems[0].offset > tombstone.offset) {
      done = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  rd_kafka_consumer_close(handle.get());
  return done;
}

int forget_loaded(const Config& config, const ForgetArguments& arguments) {
  const std::string request_id =
      arguments.request_id.empty() ? new_request_id() : arguments.request_id;
  if (const auto error = check_forget_request(arguments.customer_id, request_id)) {
    throw ConfigError("CUSTOMER_ID is not a customer id: " + error->message);
  }
  const std::string customer = "sha256:" + customer_hash_short(arguments.customer_id);
  const auto deadline = Clock::now() + std::chrono::seconds(arguments.timeout_s);

  // Reading starts before the request exists, so the tombstone cannot slip past the reader.
  const KafkaHandle events = arguments.no_wait ? KafkaHandle() : follow_events(config);
  const Delivery request =
      produce_request(config, arguments.customer_id, request_id, wall_clock_ms());
  spdlog::info("erasure {}: customer {}: requested at {}[{}]@{}", request_id, customer,
               config.kafka.input_topic, request.partition, request.offset);
  std::printf("erasure %s: customer %s: request queued at %s[%d]@%lld\n", request_id.c_str(),
              customer.c_str(), config.kafka.input_topic.c_str(), request.partition,
              static_cast<long long>(request.offset));
  std::fflush(stdout);
  if (arguments.no_wait) return 0;

  const auto tombstone = wait_for_tombstone(events.get(), request_id, deadline);
  rd_kafka_consumer_close(events.get());
  if (!tombstone) {
    std::printf(
        "erasure %s: no tombstone on %s within %d s: is the pipeline running? The request stays "
        "queued and is applied when it runs\n",
        request_id.c_str(), config.kafka.output_topic.c_str(), arguments.timeout_s);
    return 1;
  }
  std::printf("erasure %s: state erased by the partition's owner; tombstone at %s[%d]@%lld\n",
              request_id.c_str(), config.kafka.output_topic.c_str(), tombstone->partition,
              static_cast<long long>(tombstone->offset));
  std::fflush(stdout);

  std::vector<std::pair<std::string, std::string>> sinks;
  if (!config.postgres.dsn.empty()) {
    sinks.emplace_back("postgres", config.kafka.group_id + "-sink-postgres");
  }
  if (!config.redis.address.empty()) {
    sinks.emplace_back("redis", config.kafka.group_id + "-sink-redis");
  }
  if (sinks.empty()) {
    std::printf("erasure %s: no sink in this configuration to wait for\n", request_id.c_str());
  }
  int exit_code = 0;
  for (const auto& [name, group] : sinks) {
    if (wait_for_sink(config, group, *tombstone, deadline)) {
      std::printf("erasure %s: sink %s applied it (group %s)\n", request_id.c_str(), name.c_str(),
                  group.c_str());
    } else {
      std::printf(
          "erasure %s: sink %s has not applied it within %d s (group %s); it will when "
          "it catches up\n",
          request_id.c_str(), name.c_str(), arguments.timeout_s, group.c_str());
      exit_code = 1;
    }
    std::fflush(stdout);
  }
  spdlog::info("erasure {}: customer {}: {}", request_id, customer,
               exit_code == 0 ? "done" : "not confirmed by every sink yet");
  return exit_code;
}

}  // namespace

CLI::App* add_forget_subcommand(CLI::App& app, ForgetArguments& arguments) {
  CLI::App* forget = app.add_subcommand(
      "forget",
      "Erase a customer: RocksDB state, Redis, PostgreSQL, and a tombstone on customer-events "
      "(docs/operations.md#forget)");
  RunArguments& run = arguments.run;
  forget->add_option("CUSTOMER_ID", arguments.customer_id, "The customer to erase")->required();
  forget->add_option_function<std::string>(
      "--config", [&run](const std::string& path) { run.config_path = path; },
      "YAML config file (defaults < file < TASTESYNC_* environment < flags); the one the "
      "pipeline and its sinks run with");
  key_flag(*forget, run, "--brokers", "kafka.brokers", "Kafka bootstrap servers");
  key_flag(*forget, run, "--group-id", "kafka.group_id",
           "The pipeline's consumer group (its sinks' groups are named after it)");
  key_flag(*forget, run, "--input-topic", "kafka.input_topic", "Sightings topic");
  key_flag(*forget, run, "--output-topic", "kafka.output_topic", "CustomerIdentified topic");
  key_flag(*forget, run, "--postgres", "postgres.dsn",
           "PostgreSQL DSN of the PostgreSQL sink: wait until it applied the erasure");
  key_flag(*forget, run, "--redis", "redis.address",
           "Redis host:port of the Redis sink: wait until it applied the erasure");
  key_flag(*forget, run, "--log-level", "log.level", "trace, debug, info, warn, error");
  forget
      ->add_option("--request-id", arguments.request_id,
                   "The request's id in every audit line, e.g. a ticket number (default: a new "
                   "UUID)")
      ->check(CLI::Validator(
          [](const std::string& id) -> std::string {
            return valid_erasure_request_id(id) ? "" : "1 to 64 printable ASCII characters";
          },
          "ID"));
  forget
      ->add_option("--timeout", arguments.timeout_s,
                   "Seconds to wait for the pipeline and the sinks to apply it (default 60)")
      ->check(CLI::Range(1, 3600));
  forget->add_flag("--no-wait", arguments.no_wait,
                   "Queue the request and exit without waiting for it to be applied");
  return forget;
}

int forget_command(const ForgetArguments& arguments) {
  const Config config =
      load_config({arguments.run.config_path, process_environment(), arguments.run.overrides});
  if (config.kafka.brokers.empty()) {
    throw ConfigError("kafka.brokers is not set: the request goes to the pipeline's Kafka");
  }
  const Redactor redactor = redactor_for(config);
  setup_logging(config.log, redactor);
  return with_redacted_errors(redactor, [&] { return forget_loaded(config, arguments); });
}

}  // namespace tastesync
