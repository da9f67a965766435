#include "state/changelog_restore.hpp"

namespace tastesync {

Status<StateError> ChangelogRestore::add(std::string_view key,
                                         std::optional<std::string_view> value) {
  if (partition_of_key(key) != partition_) {
    return Failure{malformed_error("changelog partition " + std::to_string(partition_) +
                                   " holds a record of another partition")};
  }
  if (key == reset_marker_key(partition_)) {
    // What came before belongs to a state `tastesync reset` threw away: the partition starts
    // empty here, whatever the local store held.
    if (auto deleted = store_->delete_partition(partition_); !deleted) {
      return Failure{deleted.error()};
    }
    pending_.clear();
    checkpoint_.reset();
    records_applied_ = 0;
    ++resets_;
    return Done{};
  }
  pending_.emplace_back(key, value);
  if (key != checkpoint_key(partition_)) return Done{};

  if (!value) return Failure{malformed_error("a changelog checkpoint record has no value")};
  const auto checkpoint = decode_checkpoint_value(*value);
  if (!checkpoint) return Failure{malformed_error("a changelog checkpoint record is malformed")};
  if (!checkpoint_) {
    if (auto deleted = store_->delete_partition(partition_); !deleted) {
      return Failure{deleted.error()};
    }
  }
  StateStore::Batch batch;
  for (const auto& [k, v] : pending_) {
    if (auto put = batch.put_raw(partition_, k, v); !put) return Failure{put.error()};
  }
  if (auto written = store_->write(batch); !written) return Failure{written.error()};
  records_applied_ += pending_.size();
  pending_.clear();
  checkpoint_ = checkpoint;
  return Done{};
}

}  // namespace tastesync
