#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/event_time.hpp"
#include "config/config.hpp"

namespace tastesync {

// `tastesync reset` (docs/operations.md#reset), like Kafka Streams' application reset tool:
// the group starts over from the earliest offsets (or a time) with no state.
struct ResetOptions {
  std::optional<EpochMs> to_ms;  // --to-timestamp; nullopt: --to-earliest
};

// Throws ConfigError when it must refuse (the group has active members, an instance has the
// state dir open, the state dir is not a tastesync one) before changing anything, and
// std::runtime_error when a step fails. Each line of `said` is one thing it did.
class GroupReset {
 public:
  GroupReset(Config config, ResetOptions options);
  std::vector<std::string> run();

 private:
  void refuse_if_active();
  std::vector<std::int64_t> target_offsets(int partitions);
  void commit_offsets(const std::vector<std::int64_t>& offsets);
  rd_kafka_resp_err_t commit_as_only_member(rd_kafka_topic_partition_list_t* offsets);
  void wipe_state_dir();
  void mark_changelog();

  Config config_;
  ResetOptions options_;
  std::vector<std::string> said_;
  bool on_dev_broker_ = false;
};

// The pid of another process holding the RocksDB LOCK of `state_dir`, if one does.
std::optional<long> state_dir_holder(const std::string& state_dir);

}  // namespace tastesync
