// A crash between checkpoints must not change any outcome: state restored from RocksDB (through
// PendingWrites, the StateStore and Dedupe::normalize) continues exactly as the uninterrupted
// run, including re-deliveries of sightings remembered only in the restored id keys.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <tuple>
#include <vector>

#include "stages/stages_test_support.hpp"
#include "stages/topology.hpp"
#include "state/pending_writes.hpp"
#include "state/state_store.hpp"
#include "state/state_test_support.hpp"

namespace tastesync {
namespace {

using stage_testing::kT0;
constexpr EpochMs kNow = kT0 + 24 * 3600 * 1000;  // the wall clock: a day after the records

using stage_testing::fixture_registry;
using stage_testing::Record;
using stage_testing::view;

Record sighting(int customer, int id, int minor, int rssi, EpochMs t_ms) {
  return stage_testing::beacon_record("c" + std::to_string(customer), "s" + std::to_string(id),
                                      minor, rssi, t_ms);
}

// Customers moving between tables, staying, and gateways re-sending sightings up to a minute
// old (so some re-deliveries land after the checkpoint, their originals before it). Every 13th
// record comes from one of many customers seen once (so a small customer cap evicts). Every
// 29th, a customer at a table scans its QR code (so the location filter learns the room).
std::vector<Record> stream() {
  std::vector<Record> records;
  const int minors[] = {1, 11, 12, 13, 14, 20};
  for (int i = 0; i < 900; ++i) {
    const int customer = i % 13 == 0 ? 100 + i : i % 5;
    const EpochMs t = kT0 + i * 400;
    const int minor = minors[(i / 60 + customer) % 6];
    if (i % 29 == 0 && minor >= 11 && minor <= 14) {
      records.push_back(stage_testing::qr_record("c" + std::to_string(customer),
                                                 "q" + std::to_string(i),
                                                 "TS-store100-T" + std::to_string(minor - 10), t));
    }
    records.push_back(sighting(customer, i, minor, -48 - i % 11, t));
    if (i % 37 == 0 && i >= 100) {
      const int old = i - 90;  // about 36 s earlier
      records.push_back(sighting(old % 5, old, minors[(old / 60 + old % 5) % 6], -48 - old % 11,
                                 kT0 + old * 400));
    }
  }
  return records;
}

std::string describe(const Outcome& outcome) {
  return std::to_string(static_cast<int>(outcome.kind)) + "/" +
         std::string(drop_reason_name(outcome.drop_reason)) + "/" +
         std::string(outcome.event_value);
}

// (records processed before the crash, state.max_customers_per_partition, score.model, records
// per batch: 0 for none begun, so every second change takes a snapshot)
class RestoreEquivalence : public ::testing::TestWithParam<
                               std::tuple<std::size_t, std::size_t, ScoreModel, std::size_t>> {
 protected:
  void SetUp() override {
    options_.max_customers_per_partition = std::get<1>(GetParam());
    options_.score.model = std::get<2>(GetParam());
  }

  std::unique_ptr<StateStore> open_store() { return state_dir_.open(); }

  state_testing::TempStateDir state_dir_;
  TopologyOptions options_;
};

TEST_P(RestoreEquivalence, ACrashAfterAPartialCheckpointChangesNoOutcome) {
  const std::vector<Record> records = stream();
  const std::size_t crash_at = std::get<0>(GetParam());  // records processed before the crash
  const std::size_t delivered = crash_at - 7;            // outputs delivered before it
  const std::size_t batch_records = std::get<3>(GetParam());
  // Where the checkpoint stops: at `delivered`, or before it where a batch's changes of one
  // customer must stay together (docs/design.md#checkpoint-cuts).
  std::size_t checkpointed = 0;

  // The uninterrupted run.
  std::vector<std::string> reference;
  {
    Topology topology(fixture_registry(), options_);
    PartitionState partition;
    std::size_t evicted = 0;
    std::size_t learnt = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const Outcome outcome = topology.process(view(records[i], i), partition, kNow);
      evicted += outcome.evicted_customers;
      learnt += outcome.learned_levels.size();
      reference.push_back(describe(outcome));
    }
    if (options_.max_customers_per_partition < 5) {
      EXPECT_GT(evicted, 0u);
    }
    if (options_.score.model == ScoreModel::filter && options_.max_customers_per_partition > 5) {
      EXPECT_GT(learnt, 5u) << "the stream's QR scans teach the room";
    }
  }

  // A run that checkpoints up to `delivered`, then dies after `crash_at` records.
  {
    auto store = open_store();
    Topology topology(fixture_registry(), options_);
    PartitionState partition;
    PendingWrites pending;
    std::vector<PartitionProgress> progress_after;  // what the offset tracker keeps per record
    for (std::size_t i = 0; i < crash_at; ++i) {
      if (batch_records > 0 && i % batch_records == 0) pending.begin_batch();
      const Outcome outcome = topology.process(view(records[i], i), partition, kNow, &pending);
      if (outcome.touched != nullptr) {
        pending.changed(static_cast<std::int64_t>(i), outcome.customer_id, *outcome.touched,
                        outcome.remembered, outcome.learned_levels, &partition.room());
      }
      progress_after.push_back(partition.progress());
      if (i + 1 == delivered) {
        const std::int64_t cut = pending.checkpointable_before(static_cast<std::int64_t>(i + 1));
        ASSERT_GT(cut, 0);
        ASSERT_LE(cut, static_cast<std::int64_t>(delivered));
        checkpointed = static_cast<std::size_t>(cut);
        if (batch_records == 0) {
          ASSERT_EQ(checkpointed, delivered);
        } else {
          // Never further back than the start of the batch `delivered` falls in.
          ASSERT_GE(checkpointed, i / batch_records * batch_records);
        }
        StateStore::Batch batch;
        pending.drain_before(cut, 0, partition, batch);
        batch.set_checkpoint(0, PartitionCheckpoint{cut, progress_after[checkpointed - 1]});
        ASSERT_TRUE(store->write(batch).ok());
      }
    }
  }

  // The restart: restore, normalise, and process again from the checkpoint.
  auto store = open_store();
  PartitionState restored;
  const auto checkpoint = store->restore(0, restored);
  ASSERT_TRUE(checkpoint.ok());
  ASSERT_TRUE(checkpoint->has_value());
  ASSERT_EQ((*checkpoint)->next_offset, static_cast<std::int64_t>(checkpointed));
  Topology topology(fixture_registry(), options_);
  topology.normalize_restored(restored);
  for (std::size_t i = checkpointed; i < records.size(); ++i) {
    ASSERT_EQ(describe(topology.process(view(records[i], i), restored, kNow)), reference[i])
        << "record " << i;
  }
}

// Crash points spread over the stream, some right after a re-delivery; without a binding cap,
// and with one small enough that customers are evicted all along; every change snapshotted, and
// batches of 10 and of 64 records whose second changes take none.
INSTANTIATE_TEST_SUITE_P(
    CrashPoints, RestoreEquivalence,
    ::testing::Combine(::testing::Values(120, 305, 512, 611, 850), ::testing::Values(20000, 4),
                       ::testing::Values(ScoreModel::radius, ScoreModel::filter),
                       ::testing::Values(0, 10, 64)));

}  // namespace
}  // namespace tastesync
