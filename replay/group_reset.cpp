#include "replay/group_reset.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "common/clock.hpp"
#include "kafka/kafka.hpp"
#include "kafka/topic_admin.hpp"
#include "pipeline/output_producer.hpp"
#include "state/state_store.hpp"

namespace tastesync {
namespace {

struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* options) const {
    rd_kafka_AdminOptions_destroy(options);
  }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* event) const { rd_kafka_event_destroy(event); }
};

KafkaHandle group_client(const Config& config) {
  std::map<std::string, std::string> properties = {
      {"bootstrap.servers", config.kafka.brokers},
      {"group.id", config.kafka.group_id},
      {"client.id", config.kafka.group_id + "-reset"},
      {"enable.auto.commit", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
  };
  for (const auto& [name, value] : config.kafka.properties) properties[name] = value;
  return make_kafka_handle(RD_KAFKA_CONSUMER, make_kafka_conf(properties, "kafka.properties"));
}

// The group's members as "client.id@host", or nullopt when the broker cannot describe groups
// (the dev broker): then the offset commit below is the check.
std::optional<std::vector<std::string>> describe_members(rd_kafka_t* rk, const std::string& group,
                                                         int timeout_ms) {
  const std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter> options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS));
  char error[256];
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, error, sizeof(error)) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  const KafkaQueue queue(rd_kafka_queue_new(rk));
  const char* groups[] = {group.c_str()};
  rd_kafka_DescribeConsumerGroups(rk, groups, 1, options.get(), queue.get());
  const std::unique_ptr<rd_kafka_event_t, EventDeleter> event(
      rd_kafka_queue_poll(queue.get(), timeout_ms + 2000));
  if (!event || rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  const auto* result = rd_kafka_event_DescribeConsumerGroups_result(event.get());
  std::size_t count = 0;
  const rd_kafka_ConsumerGroupDescription_t** descriptions =
      result != nullptr ? rd_kafka_DescribeConsumerGroups_result_groups(result, &count) : nullptr;
  if (count != 1 || rd_kafka_ConsumerGroupDescription_error(descriptions[0]) != nullptr) {
    return std::nullopt;
  }
  std::vector<std::string> members;
  for (std::size_t i = 0; i < rd_kafka_ConsumerGroupDescription_member_count(descriptions[0]);
       ++i) {
    const auto* member = rd_kafka_ConsumerGroupDescription_member(descriptions[0], i);
    std::string name = rd_kafka_MemberDescription_client_id(member);
    name.append("@").append(rd_kafka_MemberDescription_host(member));
    members.push_back(std::move(name));
  }
  return members;
}

// The offset of the first record of topic[partition] in [low, high) stamped at or after
// `time_ms`, or `high` when there is none: read from the last record backwards in one step
// (its time), then forwards from `low` only when the last record is not older.
std::int64_t first_offset_at_or_after(rd_kafka_t* client, const std::string& topic,
                                      std::int32_t partition, std::int64_t low, std::int64_t high,
                                      EpochMs time_ms, int timeout_ms) {
  if (high <= low) return high;
  auto read_from = [&](std::int64_t start, bool first_only) -> std::int64_t {
    const TopicPartitionList assignment(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), partition)->offset = start;
    rd_kafka_assign(client, assignment.get());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::int64_t found = high;
    while (std::chrono::steady_clock::now() < deadline) {
      const KafkaMessage message(rd_kafka_consumer_poll(client, 100));
      if (!message) continue;
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      if (message->offset >= high) break;
      // Renewed per record: a long partition takes as long as it takes, a silent one does not.
      deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
      const std::int64_t stamp = rd_kafka_message_timestamp(message.get(), nullptr);
      if (stamp >= time_ms) {
        found = message->offset;
        break;
      }
      if (first_only) break;
    }
    rd_kafka_assign(client, nullptr);
    return found;
  };
  if (read_from(high - 1, true) == high) return high;  // even the last record is older
  return read_from(low, false);
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text.append(text.empty() ? "" : ", ").append(item);
  return text;
}

std::string state_dir_of(const Config& config) {
  return config.state.dir.empty() ? "./tastesync-state/" + config.kafka.group_id : config.state.dir;
}

}  // namespace

std::optional<long> state_dir_holder(const std::string& state_dir) {
  const std::string lock = (std::filesystem::path(state_dir) / "LOCK").string();
  const int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  // RocksDB takes a POSIX record lock on LOCK for as long as the database is open.
  struct flock query {};
  query.l_type = F_WRLCK;
  query.l_whence = SEEK_SET;
  const bool asked = ::fcntl(fd, F_GETLK, &query) == 0;
  ::close(fd);
  if (!asked || query.l_type == F_UNLCK) return std::nullopt;
  return static_cast<long>(query.l_pid);
}

GroupReset::GroupReset(Config config, ResetOptions options)
    : config_(std::move(config)), options_(options) {}

std::vector<std::string> GroupReset::run() {
  refuse_if_active();
  const KafkaHandle client = group_client(config_);
  const auto topics = list_topics(client.get(), config_.kafka.topic_check_timeout_ms);
  const auto input = topics.find(config_.kafka.input_topic);
  if (input == topics.end()) {
    throw ConfigError("kafka.input_topic: topic '" + config_.kafka.input_topic +
                      "' does not exist on " + config_.kafka.brokers);
  }
  // The commit is the last check on a broker that cannot describe groups: one refused because
  // the group has members changes nothing, so it comes before the state is touched.
  commit_offsets(target_offsets(input->second));
  wipe_state_dir();
  mark_changelog();
  return said_;
}

void GroupReset::refuse_if_active() {
  const std::string dir = state_dir_of(config_);
  if (const auto holder = state_dir_holder(dir)) {
    throw ConfigError("refusing: process " + std::to_string(*holder) + " has the state dir " + dir +
                      " open (a running instance); stop it first");
  }
  const KafkaHandle client = group_client(config_);
  // librdkafka 2.0.2 aborts (an assertion in rd_kafka_enq_once_del_source_return) when the
  // broker lacks DescribeGroups, as the dev broker does: there, the commit is the check.
  on_dev_broker_ = list_topics(client.get(), config_.kafka.topic_check_timeout_ms)
                       .contains(std::string(kDevBrokerAdminTopic));
  if (on_dev_broker_) return;
  const auto members =
      describe_members(client.get(), config_.kafka.group_id, config_.kafka.topic_check_timeout_ms);
  if (members && !members->empty()) {
    throw ConfigError("refusing: group " + config_.kafka.group_id + " has " +
                      std::to_string(members->size()) + " active member(s): " + join(*members) +
                      "; stop them first");
  }
}

std::vector<std::int64_t> GroupReset::target_offsets(int partitions) {
  const KafkaHandle client = group_client(config_);
  const std::string& topic = config_.kafka.input_topic;
  const int timeout_ms = config_.kafka.topic_check_timeout_ms;
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(partitions), 0);
  std::vector<std::int64_t> high(offsets.size(), 0);
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0;
    const auto err = rd_kafka_query_watermark_offsets(
        client.get(), topic.c_str(), p, &low, &high[static_cast<std::size_t>(p)], timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("the offsets of " + topic + "[" + std::to_string(p) +
                               "]: " + rd_kafka_err2str(err));
    }
    offsets[static_cast<std::size_t>(p)] = low;
  }
  if (!options_.to_ms) return offsets;
  const TopicPartitionList list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = *options_.to_ms;
  }
  const bool answered = rd_kafka_offsets_for_times(client.get(), list.get(), timeout_ms) ==
                        RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int p = 0; p < partitions; ++p) {
    const auto index = static_cast<std::size_t>(p);
    const auto& tp = list->elems[p];
    if (answered && tp.err == RD_KAFKA_RESP_ERR_NO_ERROR && tp.offset >= 0) {
      offsets[index] = tp.offset;
      continue;
    }
    // -1 is a real broker's "no record at or after the time", and the dev broker's answer to
    // every time: a scan tells them apart, and reads nothing when the last record is older.
    offsets[index] = first_offset_at_or_after(client.get(), topic, p, offsets[index], high[index],
                                              *options_.to_ms, timeout_ms);
  }
  return offsets;
}

void GroupReset::commit_offsets(const std::vector<std::int64_t>& offsets) {
  const KafkaHandle client = group_client(config_);
  const std::string& topic = config_.kafka.input_topic;
  const TopicPartitionList list(
      rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  std::string where;
  for (std::size_t p = 0; p < offsets.size(); ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), static_cast<std::int32_t>(p))
        ->offset = offsets[p];
    where.append(where.empty() ? "" : " ")
        .append(std::to_string(p))
        .append(":")
        .append(std::to_string(offsets[p]));
  }
  auto err = rd_kafka_commit(client.get(), list.get(), 0);
  const bool refused = err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
                       err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
                       err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS;
  if (refused && on_dev_broker_) err = commit_as_only_member(list.get());
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID || err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
      err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS) {
    throw ConfigError("refusing: group " + config_.kafka.group_id +
                      " has active members (the broker refused a commit from outside the group: " +
                      rd_kafka_err2str(err) + "); stop them first");
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("committing the new offsets of group " + config_.kafka.group_id +
                             ": " + rd_kafka_err2str(err));
  }
  said_.push_back("committed offsets of group " + config_.kafka.group_id + " on " + topic + " (" +
                  (options_.to_ms
                       ? "the first record at or after " + format_canonical_string(*options_.to_ms)
                       : std::string("earliest")) +
                  "), partition:offset " + where);
}

rd_kafka_resp_err_t GroupReset::commit_as_only_member(rd_kafka_topic_partition_list_t* offsets) {
  // The dev broker refuses every commit from outside a group that ever had members, even once
  // they all left (its groups are never emptied). So join it: the same protocol as `run`
  // (mixing strategies aborts the mock), and only a member given every partition is alone.
  std::map<std::string, std::string> properties = {
      {"bootstrap.servers", config_.kafka.brokers},
      {"group.id", config_.kafka.group_id},
      {"client.id", config_.kafka.group_id + "-reset"},
      {"enable.auto.commit", "false"},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"session.timeout.ms", std::to_string(config_.kafka.session_timeout_ms)},
      {"heartbeat.interval.ms", std::to_string(config_.kafka.heartbeat_interval_ms)},
  };
  for (const auto& [name, value] : config_.kafka.properties) properties[name] = value;
  KafkaConf conf = make_kafka_conf(properties, "kafka.properties");
  // Whether the group gave this member an assignment (even an empty one) yet: closing a
  // cooperative consumer before that aborts the process (librdkafka #4312, docs/platform.md).
  bool assigned_once = false;
  rd_kafka_conf_set_opaque(conf.get(), &assigned_once);
  rd_kafka_conf_set_rebalance_cb(conf.get(),
                                 [](rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                    rd_kafka_topic_partition_list_t* partitions, void* opaque) {
                                   rd_kafka_error_t* error = nullptr;
                                   if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                                     *static_cast<bool*>(opaque) = true;
                                     error = rd_kafka_incremental_assign(rk, partitions);
                                   } else {
                                     error = rd_kafka_incremental_unassign(rk, partitions);
                                   }
                                   if (error != nullptr) rd_kafka_error_destroy(error);
                                 });
  KafkaHandle member = make_kafka_handle(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(member.get());
  const TopicPartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), config_.kafka.input_topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  if (rd_kafka_subscribe(member.get(), topics.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID;
  }
  // A group whose other members keep some partitions never gives this one all of them. The
  // wait goes on past the deadline, up to as long again, only for a first assignment to arrive:
  // a busy member can take its time to rejoin.
  const auto now = [] { return std::chrono::steady_clock::now(); };
  const std::chrono::milliseconds limit(3 * config_.kafka.session_timeout_ms);
  const auto deadline = now() + limit;
  int assigned = 0;
  while (assigned < offsets->cnt &&
         (now() < deadline || (!assigned_once && now() < deadline + limit))) {
    const KafkaMessage message(rd_kafka_consumer_poll(member.get(), 100));
    rd_kafka_topic_partition_list_t* assignment = nullptr;
    if (rd_kafka_assignment(member.get(), &assignment) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      assigned = assignment->cnt;
      rd_kafka_topic_partition_list_destroy(assignment);
    }
  }
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID;
  if (assigned == offsets->cnt) err = rd_kafka_commit(member.get(), offsets, 0);
  if (assigned_once) {
    rd_kafka_consumer_close(member.get());
  } else {
    // Left without leaving the group, which notices after its session timeout (what `run` does
    // in the same case, InputConsumer::abandon). librdkafka 2.0.2 still aborts here if the group
    // has answered the join but not yet sent the assignment (its final destroy frees the
    // assignor's state unchecked): the longer wait above is what makes that unlikely.
    rd_kafka_destroy_flags(member.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    said_.push_back("joined group " + config_.kafka.group_id +
                    " alone (the dev broker takes no commit from outside a group) to commit");
  }
  return err;
}

void GroupReset::wipe_state_dir() {
  namespace fs = std::filesystem;
  const std::string dir = state_dir_of(config_);
  std::error_code error;
  if (!fs::exists(dir, error)) {
    said_.push_back("no local state at " + dir + " (state.dir): nothing to remove");
    return;
  }
  // Only what is plainly a RocksDB directory is removed: a mistyped --state-dir must not take
  // anything else with it.
  if (!fs::is_directory(dir, error) || !fs::exists(fs::path(dir) / "CURRENT", error)) {
    throw ConfigError("state.dir " + dir +
                      " holds no RocksDB database (no CURRENT file): not removing it");
  }
  std::uintmax_t bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir, error)) {
    if (entry.is_regular_file(error)) bytes += entry.file_size(error);
  }
  fs::remove_all(dir, error);
  if (error) throw std::runtime_error("removing " + dir + ": " + error.message());
  said_.push_back("removed the local state " + dir + " (" + std::to_string(bytes) + " bytes)");
}

void GroupReset::mark_changelog() {
  const std::string topic = changelog_topic(config_);
  TopicAdmin admin(producer_properties(config_), config_.kafka.topic_check_timeout_ms);
  const auto topics = admin.list();
  const auto found = topics.find(topic);
  if (found == topics.end()) {
    said_.push_back("no changelog topic " + topic + ": nothing to mark");
    return;
  }
  auto properties = producer_properties(config_);
  properties["client.id"] = config_.kafka.group_id + "-reset";
  const KafkaHandle producer =
      make_kafka_handle(RD_KAFKA_PRODUCER, make_kafka_conf(properties, "kafka.properties"));
  // Not const: RD_KAFKA_V_VALUE takes a void* (copied, with RD_KAFKA_MSG_F_COPY).
  std::string value = "reset " + format_canonical_string(wall_clock_ms());
  for (int p = 0; p < found->second; ++p) {
    const std::string key = reset_marker_key(p);
    const auto err = rd_kafka_producev(
        producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(p),
        RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("marking " + topic + ": " + rd_kafka_err2str(err));
    }
  }
  if (rd_kafka_flush(producer.get(), config_.kafka.topic_check_timeout_ms) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("marking " + topic + ": not delivered in time");
  }
  said_.push_back("wrote a reset marker to each of the " + std::to_string(found->second) +
                  " partitions of " + topic + ": no restore uses what came before it");
}

}  // namespace tastesync
