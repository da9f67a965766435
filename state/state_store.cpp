// RocksDB state (docs/contract.md#state, docs/storage.md): the key layout, the compaction filter
// that expires by event time, and the store. The entries' encodings are state_entries.cpp's.
#include "state/state_store.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

#include "state/customer_state_codec.hpp"
#include "state/state_entries.hpp"

namespace tastesync {
namespace {

constexpr char kTopicKey[] = "m/input_topic";

// Drops customer entries and remembered sighting ids that expired by event time, judged against
// the partition's checkpointed watermark. A partition without one keeps everything: the filter
// never guesses.
class EventTimeExpiryFilter : public rocksdb::CompactionFilter {
 public:
  EventTimeExpiryFilter(std::shared_ptr<const CheckpointedWatermarks> watermarks,
                        std::int64_t customer_lag_ms, std::int64_t seen_lag_ms)
      : watermarks_(std::move(watermarks)),
        customer_lag_ms_(customer_lag_ms),
        seen_lag_ms_(seen_lag_ms) {}

  bool Filter(int /*level*/, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    const std::string_view k(key.data(), key.size());
    if (k.size() <= kPartitionPrefixLength || k[0] != 'p') return false;
    const char kind = k[kPartitionPrefixLength];
    if (kind != 'c' && kind != 's') return false;
    const auto progress = watermarks_->get(*prefix_partition(k));
    if (!progress) return false;
    const std::string_view v(value.data(), value.size());
    if (kind == 'c') {
      const auto expiry = encoded_expiry(v);
      return expiry && (expiry->last_activity_ms < progress->watermark_ms - customer_lag_ms_ ||
                        expiry->last_offset < progress->evicted_below_offset);
    }
    // A group expires with its newest id: a restore drops the older ones itself.
    const auto tag = seen_tag(k);
    EpochMs newest = std::numeric_limits<EpochMs>::min();
    if (!tag || !for_each_remembered(
                    *tag, v, [&](const RememberedId& id) { newest = std::max(newest, id.t_ms); })) {
      return false;
    }
    return newest < progress->watermark_ms - seen_lag_ms_;
  }

  const char* Name() const override { return "tastesync.EventTimeExpiryFilter"; }

 private:
  std::shared_ptr<const CheckpointedWatermarks> watermarks_;
  std::int64_t customer_lag_ms_;
  std::int64_t seen_lag_ms_;
};

StateError status_error(std::string_view what, const rocksdb::Status& status) {
  return storage_error(what, status.ToString());
}

}  // namespace

void CheckpointedWatermarks::set(std::int32_t partition, const PartitionProgress& progress) {
  const std::unique_lock lock(mutex_);
  progress_[partition] = progress;
}

std::optional<PartitionProgress> CheckpointedWatermarks::get(std::int32_t partition) const {
  const std::shared_lock lock(mutex_);
  const auto it = progress_.find(partition);
  if (it == progress_.end()) return std::nullopt;
  return it->second;
}

std::string customer_key(std::int32_t partition, std::string_view customer_id) {
  std::string key;
  key.reserve(kPartitionPrefixLength + 1 + customer_id.size());
  append_partition_prefix(key, partition);
  key.push_back('c');
  key.append(customer_id);
  return key;
}

std::string checkpoint_key(std::int32_t partition) {
  std::string key;
  append_partition_prefix(key, partition);
  key[0] = 'o';
  return key;
}

std::string reset_marker_key(std::int32_t partition) {
  std::string key;
  append_partition_prefix(key, partition);
  key[0] = 'r';
  return key;
}

Result<std::unique_ptr<StateStore>, StateError> StateStore::open(const StateStoreOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return Failure{storage_error("state.dir " + options.dir, ec.message())};
  // The state holds customer ids: only this user may read it (docs/design.md, "Files"). Files
  // RocksDB creates from now on follow the process umask (077 in the binary); files of a state
  // dir written before are closed down here.
  namespace fs = std::filesystem;
  fs::permissions(options.dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec)
    return Failure{storage_error("state.dir " + options.dir + ": cannot restrict it to its owner",
                                 ec.message())};
  // Best effort, never throwing: regular files only (a symlink's target is not ours to change).
  for (fs::directory_iterator it(options.dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->symlink_status(ec).type() != fs::file_type::regular) continue;
    fs::permissions(it->path(), fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace, ec);
  }
  ec.clear();

  auto store = std::make_unique<StateStore>(Key{});
  store->watermarks_ = std::make_shared<CheckpointedWatermarks>();
  store->expiry_lag_ms_ = options.expiry_lag_ms;

  // One block cache and one write-buffer budget for every partition: memory must not grow with
  // the partition count.
  auto cache = rocksdb::NewLRUCache(static_cast<std::size_t>(options.block_cache_bytes));
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  db_options.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(
      static_cast<std::size_t>(options.write_buffer_bytes), cache);
  store->filter_ = std::make_shared<EventTimeExpiryFilter>(
      store->watermarks_, options.expiry_lag_ms, options.seen_expiry_lag_ms);
  db_options.compaction_filter = store->filter_.get();
  // Writes are all this store does on the hot path (reads happen only at restore): an
  // append-only vector memtable, sorted at flush, costs a fraction of the default skip list's
  // ordered insert (measured in bench/: the skip list was ~30% of the state path).
  db_options.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  db_options.allow_concurrent_memtable_write = false;
  db_options.compression = rocksdb::kLZ4Compression;
  db_options.max_background_jobs = 2;

  rocksdb::DB* raw = nullptr;
  const auto status = rocksdb::DB::Open(db_options, options.dir, &raw);
  if (!status.ok()) return Failure{status_error("opening state.dir " + options.dir, status)};
  store->db_.reset(raw);

  std::string recorded_topic;
  const auto topic_status = store->db_->Get(rocksdb::ReadOptions(), kTopicKey, &recorded_topic);
  if (topic_status.IsNotFound()) {
    const auto put = store->db_->Put(rocksdb::WriteOptions(), kTopicKey, options.input_topic);
    if (!put.ok()) return Failure{status_error("recording the input topic", put)};
  } else if (!topic_status.ok()) {
    return Failure{status_error("reading the state's input topic", topic_status)};
  } else if (recorded_topic != options.input_topic) {
    return Failure{wrong_topic_error(options.dir, recorded_topic, options.input_topic)};
  }

  // Watermarks of every partition this store ever held, so stale partitions expire too.
  std::unique_ptr<rocksdb::Iterator> it(store->db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("o"); it->Valid() && it->key().starts_with("o"); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    const auto partition = prefix_partition(key);
    const auto checkpoint = decode_checkpoint({it->value().data(), it->value().size()});
    if (!partition || !checkpoint) {
      return Failure{
          malformed_error("state.dir " + options.dir + " holds a malformed checkpoint entry")};
    }
    store->watermarks_->set(*partition, checkpoint->progress);
  }
  if (!it->status().ok()) return Failure{status_error("scanning checkpoints", it->status())};
  return store;
}

std::optional<std::int32_t> partition_of_key(std::string_view key) {
  if (key.empty() || (key[0] != 'p' && key[0] != 'o' && key[0] != 'r')) return std::nullopt;
  return prefix_partition(key);
}

std::optional<PartitionCheckpoint> decode_checkpoint_value(std::string_view value) {
  return decode_checkpoint(value);
}

StateStore::StateStore(Key /*key*/) {}
StateStore::~StateStore() = default;

Result<std::optional<PartitionCheckpoint>, StateError> StateStore::restore(std::int32_t partition,
                                                                           PartitionState& into) {
  std::string value;
  const auto status = db_->Get(rocksdb::ReadOptions(), checkpoint_key(partition), &value);
  if (status.IsNotFound()) return std::optional<PartitionCheckpoint>();
  if (!status.ok()) return Failure{status_error("reading a checkpoint", status)};
  const auto checkpoint = decode_checkpoint(value);
  if (!checkpoint) {
    return Failure{
        malformed_error("partition " + std::to_string(partition) + ": malformed checkpoint")};
  }
  into.restore_progress(checkpoint->progress);
  const EpochMs horizon = checkpoint->progress.watermark_ms - expiry_lag_ms_;

  const std::string prefix = customer_key(partition, "");
  // The customers restored, in key order. Their remembered ids' keys (the id, a NUL, a tag) come
  // in the same order, so the pass over them walks this list instead of looking each customer up
  // again, which was a quarter of a restore (docs/bench.md#issue-17-17).
  std::vector<std::pair<std::string_view, CustomerState*>> restored;
  // Each key is read once, in order: its blocks are kept out of the block cache, where they
  // would only push out one another (docs/bench.md#issue-17-25).
  rocksdb::ReadOptions once_in_order;
  once_in_order.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(once_in_order));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    CustomerState state;
    if (!decode_customer_state({it->value().data(), it->value().size()}, state)) {
      return Failure{malformed_error("partition " + std::to_string(partition) +
                                     ": undecodable state of customer '" +
                                     it->key().ToString().substr(prefix.size()) + "'")};
    }
    // Reads compare event times and offsets themselves and never rely on compaction having run.
    if (state.last_activity_ms < horizon || into.evicted(state)) continue;
    restored.push_back(into.insert(it->key().ToString().substr(prefix.size()), std::move(state)));
  }
  if (!it->status().ok()) return Failure{status_error("restoring state", it->status())};

  std::string seen_prefix = prefix;
  seen_prefix.back() = 's';
  std::size_t next = 0;  // into restored
  for (it->Seek(seen_prefix); it->Valid() && it->key().starts_with(seen_prefix); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    const auto tag = seen_tag(key);
    const std::string_view customer_id = key.substr(
        seen_prefix.size(), key.size() - seen_prefix.size() - (tag ? tag->size() + 1 : 0));
    CustomerState* state = nullptr;
    if (tag) {
      while (next < restored.size() && restored[next].first < customer_id) ++next;
      // Not in the list: a customer not restored (expired), or keys out of the order above (a
      // store written otherwise), which the lookup still finds.
      state = next < restored.size() && restored[next].first == customer_id
                  ? restored[next].second
                  : into.find(customer_id);
    }
    // None for a customer that expired, or from before the customer was last forgotten
    // (expiry, eviction): those are not this life's.
    const auto attach = [state](const RememberedId& id) {
      if (state != nullptr && id.offset >= state->since_offset) {
        state->seen.push_back(SeenSighting{id.id_hash, id.t_ms});
      }
    };
    if (!tag || !for_each_remembered(*tag, {it->value().data(), it->value().size()}, attach)) {
      return Failure{malformed_error("partition " + std::to_string(partition) +
                                     ": malformed sighting id entry")};
    }
  }
  if (!it->status().ok()) return Failure{status_error("restoring sighting ids", it->status())};

  std::string room_prefix = prefix;
  room_prefix.back() = 'b';
  for (it->Seek(room_prefix); it->Valid() && it->key().starts_with(room_prefix); it->Next()) {
    const auto level = decode_room_level({it->value().data(), it->value().size()});
    Uuid beacon_id{};
    if (it->key().size() != room_prefix.size() + beacon_id.size() || !level) {
      return Failure{malformed_error("partition " + std::to_string(partition) +
                                     ": malformed room level entry")};
    }
    std::memcpy(beacon_id.data(), it->key().data() + room_prefix.size(), beacon_id.size());
    into.room().insert(beacon_id, *level);
  }
  if (!it->status().ok()) return Failure{status_error("restoring room levels", it->status())};
  return std::optional<PartitionCheckpoint>(*checkpoint);
}

StateStore::Batch::Batch() : batch_(std::make_unique<rocksdb::WriteBatch>()) {}
StateStore::Batch::~Batch() = default;
StateStore::Batch::Batch(Batch&&) noexcept = default;
StateStore::Batch& StateStore::Batch::operator=(Batch&&) noexcept = default;

void StateStore::Batch::put_customer(std::int32_t partition, std::string_view customer_id,
                                     std::string_view encoded_state) {
  key_.clear();
  append_partition_prefix(key_, partition);
  key_.push_back('c');
  key_.append(customer_id);
  // A WriteBatch only fails to Put past its size limit, which is unlimited here.
  (void)batch_->Put(key_, rocksdb::Slice(encoded_state.data(), encoded_state.size()));
}

void StateStore::Batch::put_seen(std::int32_t partition, std::string_view customer_id,
                                 std::span<const RememberedId> ids) {
  for (std::size_t first = 0; first < ids.size(); first += kMaxRememberedIdsPerKey) {
    const auto group = ids.subspan(first, std::min(kMaxRememberedIdsPerKey, ids.size() - first));
    key_.clear();
    append_partition_prefix(key_, partition);
    key_.push_back('s');
    key_.append(customer_id);
    key_.push_back('\0');
    key_.push_back(kSeenGroupTag);
    const auto offset = static_cast<std::uint64_t>(group.front().offset);
    for (int shift = 56; shift >= 0; shift -= 8) key_.push_back(static_cast<char>(offset >> shift));
    value_.resize(group.size() * kRememberedIdBytes);
    char* at = value_.data();
    for (const RememberedId& id : group) {
      store_i64(at, static_cast<std::int64_t>(id.id_hash));
      store_i64(at + 8, id.t_ms);
      store_i64(at + 16, id.offset);
      at += kRememberedIdBytes;
    }
    (void)batch_->Put(key_, value_);
  }
}

void StateStore::Batch::erase_customer(std::int32_t partition, std::string_view customer_id) {
  (void)batch_->Delete(customer_key(partition, customer_id));
  key_.clear();
  append_partition_prefix(key_, partition);
  key_.push_back('s');
  key_.append(customer_id);
  key_.push_back('\0');
  // Every id key of the customer is this prefix and more; '\1' after the prefix's '\0' ends the
  // range before the next customer id.
  std::string end = key_;
  end.back() = '\1';
  (void)batch_->DeleteRange(key_, end);
}

void StateStore::Batch::put_room_level(std::int32_t partition, const Uuid& beacon_id,
                                       const LearnedLevel& level) {
  key_.clear();
  append_partition_prefix(key_, partition);
  key_.push_back('b');
  key_.append(reinterpret_cast<const char*>(beacon_id.data()), beacon_id.size());
  (void)batch_->Put(key_, encode_room_level(level));
  room_levels_.push_back({partition, beacon_id, level});
}

void StateStore::Batch::set_checkpoint(std::int32_t partition,
                                       const PartitionCheckpoint& checkpoint) {
  (void)batch_->Put(checkpoint_key(partition), encode_checkpoint(checkpoint));
  progress_[partition] = checkpoint.progress;
}

Status<StateError> StateStore::Batch::put_raw(std::int32_t partition, std::string_view key,
                                              std::optional<std::string_view> value) {
  const auto owner = prefix_partition(key);
  const bool state_key = key.size() > kPartitionPrefixLength && key[0] == 'p' &&
                         (key[kPartitionPrefixLength] == 'c' ||
                          key[kPartitionPrefixLength] == 's' || key[kPartitionPrefixLength] == 'b');
  const bool checkpoint = key.size() == kPartitionPrefixLength && key[0] == 'o';
  if (!owner || *owner != partition || !(state_key || checkpoint)) {
    return Failure{malformed_error("a changelog record of partition " + std::to_string(partition) +
                                   " has a key that is not that partition's state")};
  }
  if (!value) {
    if (checkpoint) return Failure{malformed_error("a changelog checkpoint record has no value")};
    (void)batch_->Delete(rocksdb::Slice(key.data(), key.size()));
    return Done{};
  }
  if (checkpoint) {
    const auto decoded = decode_checkpoint(*value);
    if (!decoded) return Failure{malformed_error("a changelog checkpoint record is malformed")};
    progress_[partition] = decoded->progress;
  }
  if (const auto tag = seen_tag(key);
      state_key && key[kPartitionPrefixLength] == 's' && tag && tag->empty()) {
    // erase_customer's range, as for_each_change carried it.
    if (*value != kSeenErasureMarker) {
      return Failure{malformed_error("a changelog sighting-id record names no id")};
    }
    std::string end(key);
    end.back() = '\1';
    (void)batch_->DeleteRange(rocksdb::Slice(key.data(), key.size()), end);
    return Done{};
  }
  (void)batch_->Put(rocksdb::Slice(key.data(), key.size()),
                    rocksdb::Slice(value->data(), value->size()));
  return Done{};
}

void StateStore::Batch::for_each_change(
    const std::function<void(std::string_view key, std::optional<std::string_view> value)>& fn)
    const {
  using Fn = std::function<void(std::string_view, std::optional<std::string_view>)>;
  class Changes : public rocksdb::WriteBatch::Handler {
   public:
    explicit Changes(const Fn& fn) : fn_(fn) {}
    void Put(const rocksdb::Slice& key, const rocksdb::Slice& value) override {
      fn_({key.data(), key.size()}, std::string_view(value.data(), value.size()));
    }
    void Delete(const rocksdb::Slice& key) override { fn_({key.data(), key.size()}, std::nullopt); }
    // erase_customer's range (the only one a Batch holds): a changelog carries no ranges, so one
    // record under the range's first key says it, and put_raw restores it as the range.
    rocksdb::Status DeleteRangeCF(std::uint32_t /*column_family_id*/,
                                  const rocksdb::Slice& begin_key,
                                  const rocksdb::Slice& /*end_key*/) override {
      fn_({begin_key.data(), begin_key.size()}, kSeenErasureMarker);
      return rocksdb::Status::OK();
    }

   private:
    const Fn& fn_;
  };
  Changes changes(fn);
  (void)batch_->Iterate(&changes);
}

std::size_t StateStore::Batch::count() const {
  return static_cast<std::size_t>(batch_->Count());
}

void StateStore::Batch::clear() {
  batch_->Clear();
  progress_.clear();
  room_levels_.clear();
}

Status<StateError> StateStore::write(Batch& batch) {
  rocksdb::WriteOptions options;
  options.sync = false;
  options.disableWAL = false;
  const auto status = db_->Write(options, batch.batch_.get());
  if (!status.ok()) return Failure{status_error("writing state", status)};
  for (const auto& [partition, progress] : batch.progress_) watermarks_->set(partition, progress);
  batch.clear();
  return Done{};
}

bool StateStore::contains_customer(std::int32_t partition, std::string_view customer_id) const {
  std::string value;
  return db_->Get(rocksdb::ReadOptions(), customer_key(partition, customer_id), &value).ok();
}

Result<std::optional<PartitionCheckpoint>, StateError> StateStore::checkpoint(
    std::int32_t partition) {
  std::string value;
  const auto status = db_->Get(rocksdb::ReadOptions(), checkpoint_key(partition), &value);
  if (status.IsNotFound()) return std::optional<PartitionCheckpoint>();
  if (!status.ok()) return Failure{status_error("reading a checkpoint", status)};
  const auto decoded = decode_checkpoint(value);
  if (!decoded) {
    return Failure{
        malformed_error("partition " + std::to_string(partition) + ": malformed checkpoint")};
  }
  return std::optional<PartitionCheckpoint>(*decoded);
}

Status<StateError> StateStore::flush() {
  const auto status = db_->Flush(rocksdb::FlushOptions());
  if (!status.ok()) return Failure{status_error("flushing state", status)};
  return Done{};
}

Status<StateError> StateStore::delete_partition(std::int32_t partition) {
  std::string begin;
  append_partition_prefix(begin, partition);
  std::string end;
  append_partition_prefix(end, partition + 1);
  rocksdb::WriteBatch batch;
  (void)batch.DeleteRange(begin, end);
  (void)batch.Delete(checkpoint_key(partition));
  const auto status = db_->Write(rocksdb::WriteOptions(), &batch);
  if (!status.ok()) return Failure{status_error("deleting a partition's state", status)};
  return Done{};
}

Status<StateError> StateStore::compact() {
  const auto status = db_->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
  if (!status.ok()) return Failure{status_error("compacting state", status)};
  return Done{};
}

std::uint64_t StateStore::approximate_size_bytes() const {
  std::uint64_t live = 0;
  std::uint64_t memtables = 0;
  db_->GetIntProperty(rocksdb::DB::Properties::kLiveSstFilesSize, &live);
  db_->GetIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &memtables);
  return live + memtables;
}

std::uint64_t StateStore::estimated_keys() const {
  std::uint64_t keys = 0;
  db_->GetIntProperty(rocksdb::DB::Properties::kEstimateNumKeys, &keys);
  return keys;
}

}  // namespace tastesync
