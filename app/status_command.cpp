#include "app/status_command.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <regex>
#include <sstream>

#include "app/cli_flags.hpp"
#include "app/logging.hpp"
#include "common/clock.hpp"
#include "common/event_time.hpp"
#include "http/http_fetch.hpp"
#include "kafka/kafka.hpp"

namespace tastesync {
namespace {

constexpr int kInstanceTimeoutMs = 5000;

struct PartitionLag {
  int partition = 0;
  std::int64_t start = 0;       // the log's first offset
  std::int64_t end = 0;         // its high watermark
  std::int64_t committed = -1;  // -1: nothing committed
  // What the group has not committed yet: from its offset, or from the log's start without one.
  std::int64_t lag() const { return end - (committed >= 0 ? committed : start); }
};

struct GroupLag {
  std::string group;
  std::string topic;
  std::vector<PartitionLag> partitions;
  std::int64_t total() const {
    std::int64_t sum = 0;
    for (const PartitionLag& partition : partitions) sum += partition.lag();
    return sum;
  }
  bool committed_any() const {
    return std::any_of(partitions.begin(), partitions.end(),
                       [](const PartitionLag& p) { return p.committed >= 0; });
  }
};

// A group's committed offsets against the topic's ends, read without joining the group.
GroupLag group_lag(const Config& config, const std::string& group, const std::string& topic) {
  std::map<std::string, std::string> properties = {
      {"bootstrap.servers", config.kafka.brokers},
      {"group.id", group},
      {"client.id", "tastesync-status"},
      {"enable.auto.commit", "false"},
  };
  for (const auto& [name, value] : config.kafka.properties) properties[name] = value;
  const KafkaHandle handle =
      make_kafka_handle(RD_KAFKA_CONSUMER, make_kafka_conf(properties, "kafka.properties"));
  const int timeout_ms = config.kafka.topic_check_timeout_ms;
  const std::optional<int> count =
      topic_partition_counts(handle.get(), {topic}, timeout_ms).front();
  if (!count) throw ConfigError(topic + " does not exist on " + config.kafka.brokers);
  const TopicPartitionList list(rd_kafka_topic_partition_list_new(*count));
  for (int partition = 0; partition < *count; ++partition) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  }
  if (const rd_kafka_resp_err_t error = rd_kafka_committed(handle.get(), list.get(), timeout_ms);
      error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("committed offsets of " + group + ": " + rd_kafka_err2str(error));
  }
  GroupLag lag{group, topic, {}};
  for (int i = 0; i < list->cnt; ++i) {
    PartitionLag partition;
    partition.partition = list->elems[i].partition;
    partition.committed = list->elems[i].offset >= 0 ? list->elems[i].offset : -1;
    if (const rd_kafka_resp_err_t error =
            rd_kafka_query_watermark_offsets(handle.get(), topic.c_str(), partition.partition,
                                             &partition.start, &partition.end, timeout_ms);
        error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("the end of " + topic + "[" + std::to_string(partition.partition) +
                               "]: " + rd_kafka_err2str(error));
    }
    lag.partitions.push_back(partition);
  }
  rd_kafka_consumer_close(handle.get());
  return lag;
}

// What an instance's /metrics says about it.
struct InstanceStatus {
  std::string url;
  std::string error;  // "" when it answered
  bool ready = false;
  double partitions = 0;
  double customers = 0;
  double state_bytes = 0;
  double last_event_s = 0;
  std::vector<int> partitions_owned;       // one tastesync_partition_customers series each
  std::map<std::string, double> sink_lag;  // by sink name
};

InstanceStatus instance_status(const std::string& url, const std::string& token) {
  InstanceStatus status;
  status.url = url;
  const std::string base = url.ends_with('/') ? url.substr(0, url.size() - 1) : url;
  auto answer = http_fetch(base + "/metrics", token, kInstanceTimeoutMs);
  if (!answer) {
    status.error = answer.error();
    return status;
  }
  if (answer->status != 200) {
    status.error = "/metrics answered " + std::to_string(answer->status) +
                   (answer->status == 401 ? " (set metrics.token)" : "");
    return status;
  }
  static const std::regex sample(R"(^([a-z_]+)(\{([^}]*)\})? ([-+0-9.eE]+|NaN|\+Inf)$)");
  static const std::regex label(R"(([a-z_]+)="([^"]*)\")");
  std::istringstream lines(answer->body);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (line.empty() || line[0] == '#' || !std::regex_match(line, match, sample)) continue;
    const std::string name = match[1].str();
    const std::string labels = match[3].str();
    const double value = std::strtod(match[4].str().c_str(), nullptr);
    std::map<std::string, std::string> by_name;
    for (auto it = std::sregex_iterator(labels.begin(), labels.end(), label);
         it != std::sregex_iterator(); ++it) {
      by_name[(*it)[1].str()] = (*it)[2].str();
    }
    if (name == "tastesync_ready") status.ready = value > 0;
    if (name == "tastesync_assigned_partitions") status.partitions = value;
    if (name == "tastesync_state_customers") status.customers = value;
    if (name == "tastesync_state_store_bytes") status.state_bytes = value;
    if (name == "tastesync_last_event_timestamp_seconds") status.last_event_s = value;
    if (name == "tastesync_partition_customers" && by_name.contains("partition")) {
      status.partitions_owned.push_back(std::stoi(by_name["partition"]));
    }
    if (name == "tastesync_sink_lag_records" && by_name.contains("sink")) {
      status.sink_lag[by_name["sink"]] = value;
    }
  }
  return status;
}

std::string rfc3339(double seconds) {
  if (seconds <= 0) return "";
  return format_canonical_string(static_cast<EpochMs>(seconds * 1000));
}

void print_text(const GroupLag& input, const std::vector<GroupLag>& sinks,
                const std::vector<InstanceStatus>& instances) {
  std::printf("group %s on %s: %zu partitions, lag %lld records\n", input.group.c_str(),
              input.topic.c_str(), input.partitions.size(), static_cast<long long>(input.total()));
  std::printf("  %-9s %12s %12s %12s\n", "partition", "end", "committed", "lag");
  for (const PartitionLag& p : input.partitions) {
    std::printf("  %-9d %12lld %12s %12lld\n", p.partition, static_cast<long long>(p.end),
                p.committed >= 0 ? std::to_string(p.committed).c_str() : "-",
                static_cast<long long>(p.lag()));
  }
  for (const GroupLag& sink : sinks) {
    if (sink.committed_any()) {
      std::printf("sink group %s on %s: lag %lld records\n", sink.group.c_str(), sink.topic.c_str(),
                  static_cast<long long>(sink.total()));
    } else {
      std::printf("sink group %s on %s: nothing committed (no such sink, or not started)\n",
                  sink.group.c_str(), sink.topic.c_str());
    }
  }
  const double now_s = static_cast<double>(wall_clock_ms()) / 1000.0;
  for (const InstanceStatus& instance : instances) {
    if (!instance.error.empty()) {
      std::printf("instance %s: unreachable: %s\n", instance.url.c_str(), instance.error.c_str());
      continue;
    }
    std::vector<int> owned = instance.partitions_owned;
    std::sort(owned.begin(), owned.end());
    std::string partitions;
    for (const int p : owned) partitions += (partitions.empty() ? "" : ",") + std::to_string(p);
    std::printf("instance %s: %s, %d partitions [%s], %.0f customers, state %.1f MiB, ",
                instance.url.c_str(), instance.ready ? "ready" : "NOT READY",
                static_cast<int>(instance.partitions), partitions.c_str(), instance.customers,
                instance.state_bytes / (1 << 20));
    if (instance.last_event_s > 0) {
      std::printf("last event %s (%.0f s ago)", rfc3339(instance.last_event_s).c_str(),
                  now_s - instance.last_event_s);
    } else {
      std::printf("no event yet");
    }
    for (const auto& [sink, lag] : instance.sink_lag) {
      std::printf(", sink %s lag %.0f", sink.c_str(), lag);
    }
    std::printf("\n");
  }
}

void write_group(rapidjson::Writer<rapidjson::StringBuffer>& out, const GroupLag& group) {
  out.StartObject();
  out.Key("group");
  out.String(group.group.c_str());
  out.Key("topic");
  out.String(group.topic.c_str());
  out.Key("lag");
  out.Int64(group.total());
  out.Key("partitions");
  out.StartArray();
  for (const PartitionLag& p : group.partitions) {
    out.StartObject();
    out.Key("partition");
    out.Int(p.partition);
    out.Key("end");
    out.Int64(p.end);
    out.Key("committed");
    if (p.committed >= 0) {
      out.Int64(p.committed);
    } else {
      out.Null();
    }
    out.Key("lag");
    out.Int64(p.lag());
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
}

void print_json(const GroupLag& input, const std::vector<GroupLag>& sinks,
                const std::vector<InstanceStatus>& instances) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> out(buffer);
  out.StartObject();
  out.Key("input");
  write_group(out, input);
  out.Key("sinks");
  out.StartArray();
  for (const GroupLag& sink : sinks) write_group(out, sink);
  out.EndArray();
  out.Key("instances");
  out.StartArray();
  for (const InstanceStatus& instance : instances) {
    out.StartObject();
    out.Key("url");
    out.String(instance.url.c_str());
    out.Key("reachable");
    out.Bool(instance.error.empty());
    if (!instance.error.empty()) {
      out.Key("error");
      out.String(instance.error.c_str());
    } else {
      out.Key("ready");
      out.Bool(instance.ready);
      out.Key("partitions");
      out.StartArray();
      std::vector<int> owned = instance.partitions_owned;
      std::sort(owned.begin(), owned.end());
      for (const int p : owned) out.Int(p);
      out.EndArray();
      out.Key("customers");
      out.Int64(static_cast<std::int64_t>(instance.customers));
      out.Key("state_bytes");
      out.Int64(static_cast<std::int64_t>(instance.state_bytes));
      out.Key("last_event_at");
      if (instance.last_event_s > 0) {
        out.String(rfc3339(instance.last_event_s).c_str());
      } else {
        out.Null();
      }
      out.Key("sink_lag");
      out.StartObject();
      for (const auto& [sink, lag] : instance.sink_lag) {
        out.Key(sink.c_str());
        out.Int64(static_cast<std::int64_t>(lag));
      }
      out.EndObject();
    }
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
  std::printf("%s\n", buffer.GetString());
}

int status_loaded(const Config& config, const StatusArguments& arguments) {
  if (config.kafka.brokers.empty()) {
    throw ConfigError("tastesync status needs kafka.brokers (--brokers, TASTESYNC_KAFKA__BROKERS)");
  }
  const GroupLag input = group_lag(config, config.kafka.group_id, config.kafka.input_topic);
  std::vector<GroupLag> sinks;
  for (const char* kind : {"-sink-postgres", "-sink-redis"}) {
    sinks.push_back(group_lag(config, config.kafka.group_id + kind, config.kafka.output_topic));
  }
  std::vector<InstanceStatus> instances;
  for (const std::string& url : arguments.instances) {
    instances.push_back(instance_status(url, config.metrics.token));
  }
  if (arguments.json) {
    print_json(input, sinks, instances);
  } else {
    print_text(input, sinks, instances);
  }
  std::fflush(stdout);
  const bool all_answered = std::all_of(instances.begin(), instances.end(),
                                        [](const InstanceStatus& i) { return i.error.empty(); });
  return all_answered ? 0 : 1;
}

}  // namespace

CLI::App* add_status_subcommand(CLI::App& app, StatusArguments& arguments) {
  CLI::App* status = app.add_subcommand(
      "status",
      "The group's lag per partition and the sinks', from Kafka; each running instance's "
      "partitions, state and last event, from its /metrics (docs/operations.md#status)");
  RunArguments& run = arguments.run;
  status->add_option_function<std::string>(
      "--config", [&run](const std::string& path) { run.config_path = path; },
      "YAML config file (defaults < file < TASTESYNC_* environment < flags)");
  key_flag(*status, run, "--brokers", "kafka.brokers", "Kafka bootstrap servers");
  key_flag(*status, run, "--group-id", "kafka.group_id", "The pipeline's consumer group");
  key_flag(*status, run, "--input-topic", "kafka.input_topic", "Sightings topic");
  key_flag(*status, run, "--output-topic", "kafka.output_topic", "CustomerIdentified topic");
  key_flag(*status, run, "--log-level", "log.level", "trace, debug, info, warn, error");
  status->add_option("--instance", arguments.instances,
                     "A running instance's metrics address, http://host:port (repeatable)");
  status->add_flag("--json", arguments.json, "One JSON object instead of the table");
  return status;
}

int status_command(const StatusArguments& arguments) {
  const Config config =
      load_config({arguments.run.config_path, process_environment(), arguments.run.overrides});
  const Redactor redactor = redactor_for(config);
  setup_logging(config.log, redactor);
  return with_redacted_errors(redactor, [&] { return status_loaded(config, arguments); });
}

}  // namespace tastesync
