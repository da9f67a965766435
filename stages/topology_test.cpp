#include "stages/topology.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "stages/stages_test_support.hpp"

namespace tastesync {
namespace {

using stage_testing::kT0;
constexpr EpochMs kNow = kT0 + 24 * 3600 * 1000;  // the wall clock, unless a test says otherwise
constexpr EpochMs kYear2099 = 4070908800000;

using stage_testing::beacon_record;
using stage_testing::fixture_registry;
using stage_testing::Record;

struct Result {
  Outcome::Kind kind;
  DropReason reason;
  std::string event_id;
  std::string value;
  ParseErrorCode error;  // when a dead letter
  std::size_t evicted;
};

class TopologyTest : public ::testing::Test {
 protected:
  TopologyTest() = default;
  explicit TopologyTest(const TopologyOptions& options) : topology_(fixture_registry(), options) {}

  Result feed(const Record& record, EpochMs now_ms = kNow) {
    return feed(topology_, partition_, record, next_offset_++, now_ms);
  }

  static Result feed(Topology& topology, PartitionState& partition, const Record& record,
                     std::int64_t offset, EpochMs now_ms = kNow) {
    const Outcome outcome = topology.process(
        RecordView{record.key, record.value, record.timestamp_ms, offset}, partition, now_ms);
    return {outcome.kind,
            outcome.drop_reason,
            std::string(outcome.event_id),
            std::string(outcome.event_value),
            outcome.error ? outcome.error->code : ParseErrorCode::invalid_json,
            outcome.evicted_customers};
  }

  Topology topology_{fixture_registry(), TopologyOptions{}};
  PartitionState partition_;
  std::int64_t next_offset_ = 0;
};

// The model before issue 14 (score.model radius), for what only it does: the dwell of a move.
class TopologyRadiusTest : public TopologyTest {
 protected:
  TopologyRadiusTest() : TopologyTest(radius_options()) {}

  static TopologyOptions radius_options() {
    TopologyOptions options;
    options.score.model = ScoreModel::radius;
    return options;
  }
};

TEST_F(TopologyTest, SpecExampleSightingEmitsTheSpecEventId) {
  const Record record{
      "cust123",
      R"({"sighting_id":"0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10","customer_id":"cust123","source":"beacon",)"
      R"("beacon":{"uuid":"550e8400-e29b-41d4-a716-446655440000","major":100,"minor":13,"rssi":-50,"tx_power":-59},)"
      R"("detected_at":"2025-03-02T12:00:00.123Z","device":{"platform":"ios"}})",
      kT0 + 500};
  const Result result = feed(record);
  ASSERT_EQ(result.kind, Outcome::Kind::event);
  EXPECT_EQ(result.event_id, "10ef298c-1c10-55df-9149-b492e3cf5787");
  EXPECT_NE(result.value.find(R"("identification":"arrival")"), std::string::npos);
}

TEST_F(TopologyTest, MalformedRecordIsADeadLetterWithItsCode) {
  const Outcome outcome = topology_.process(RecordView{"cust", "{not json", kT0}, partition_, kNow);
  ASSERT_EQ(outcome.kind, Outcome::Kind::dead_letter);
  EXPECT_EQ(outcome.error->code, ParseErrorCode::invalid_json);
  EXPECT_EQ(outcome.touched, nullptr);
}

TEST_F(TopologyTest, RedeliveredSightingIsADuplicate) {
  EXPECT_EQ(feed(beacon_record("c", "s1", 13, -50, kT0)).kind, Outcome::Kind::event);
  const Result again = feed(beacon_record("c", "s1", 13, -50, kT0));
  EXPECT_EQ(again.kind, Outcome::Kind::dropped);
  EXPECT_EQ(again.reason, DropReason::duplicate);
}

// docs/operations.md#forget: after an erasure request nothing of the customer's past is read
// again; the same sighting is not a duplicate and is an arrival of a new life.
TEST_F(TopologyTest, AnErasureRequestResetsTheCustomerAndTheNextSightingStartsAfresh) {
  const Record first = beacon_record("c", "s1", 13, -50, kT0);
  EXPECT_EQ(feed(first).kind, Outcome::Kind::event);
  EXPECT_EQ(feed(beacon_record("other", "o1", 13, -50, kT0)).kind, Outcome::Kind::event);

  const RecordView request{std::string_view("c"), {}, kT0 + 1000, next_offset_++};
  const Outcome forgotten = topology_.forget(request, "r-1", partition_);
  ASSERT_EQ(forgotten.kind, Outcome::Kind::forgotten);
  EXPECT_EQ(forgotten.customer_id, "c");
  EXPECT_TRUE(forgotten.erased_state);
  ASSERT_EQ(forgotten.erased_seen.size(), 1u) << "the id of s1, whose key goes too";
  const CustomerState* state = partition_.find("c");
  ASSERT_NE(state, nullptr);
  EXPECT_TRUE(state->seen.empty());
  EXPECT_FALSE(state->last_emitted.has_value());
  EXPECT_EQ(state->last_activity_ms, 0);
  ASSERT_NE(partition_.find("other"), nullptr);
  EXPECT_TRUE(partition_.find("other")->last_emitted.has_value()) << "nobody else is touched";

  const Result again = feed(first);
  ASSERT_EQ(again.kind, Outcome::Kind::event) << drop_reason_name(again.reason);
  EXPECT_NE(again.value.find(R"("identification":"arrival")"), std::string::npos);

  // Idempotent: a second request finds an entry again (the new life), a third after the
  // entry left memory finds nothing and still answers forgotten.
  EXPECT_TRUE(topology_.forget(request, "r-1", partition_).erased_state);
  partition_.evict_older_than(kT0);
  EXPECT_EQ(partition_.find("c"), nullptr);
  const Outcome nothing = topology_.forget(request, "r-1", partition_);
  EXPECT_EQ(nothing.kind, Outcome::Kind::forgotten);
  EXPECT_FALSE(nothing.erased_state);
}

// docs/operations.md#forget: the tombstone's time covers every event the erased state produced,
// even one a phone running ahead stamped after the request, and never runs past the clock.
TEST_F(TopologyTest, TheErasuresTimeIsTheRequestsCappedByTheClockAndNotBeforeTheErasedActivity) {
  EXPECT_EQ(feed(beacon_record("c", "s1", 13, -50, kT0 + 60000)).kind, Outcome::Kind::event);
  const RecordView early{std::string_view("c"), {}, kT0, next_offset_++};
  const Outcome forgotten = topology_.forget(early, "r-1", partition_);
  EXPECT_EQ(forgotten.detected_at_ms, kT0 + 60000);
  EXPECT_EQ(erasure_time(early, forgotten, kNow), kT0 + 60000) << "the phone ran ahead";

  Outcome nothing_held;
  nothing_held.detected_at_ms = 0;
  const RecordView ahead{std::string_view("c"), {}, kNow + 3600000, 0};
  EXPECT_EQ(erasure_time(ahead, nothing_held, kNow), kNow) << "never past the clock";
  const RecordView stamped{std::string_view("c"), {}, kT0 + 5, 0};
  EXPECT_EQ(erasure_time(stamped, nothing_held, kNow), kT0 + 5);
  const RecordView unstamped{std::string_view("c"), {}, std::nullopt, 0};
  EXPECT_EQ(erasure_time(unstamped, nothing_held, kNow), kNow);
}

TEST_F(TopologyTest, AnErasureRequestWhoseKeyIsNoCustomerIdIsADeadLetter) {
  const Outcome no_key = topology_.forget(RecordView{std::nullopt, {}, kT0, 0}, "r-1", partition_);
  ASSERT_EQ(no_key.kind, Outcome::Kind::dead_letter);
  EXPECT_EQ(no_key.error->code, ParseErrorCode::key_mismatch);
  const std::string too_long(65, 'x');
  EXPECT_EQ(topology_.forget(RecordView{too_long, {}, kT0, 1}, "r-1", partition_).error->code,
            ParseErrorCode::out_of_range);
  EXPECT_EQ(topology_.forget(RecordView{std::string_view("a\x01"), {}, kT0, 2}, "r-1", partition_)
                .error->code,
            ParseErrorCode::out_of_range);
  EXPECT_EQ(topology_.forget(RecordView{std::string_view("\xff"), {}, kT0, 3}, "r-1", partition_)
                .error->code,
            ParseErrorCode::invalid_utf8);
  // A request id that could not go into a log line or a varchar(64) as it is.
  EXPECT_EQ(topology_.forget(RecordView{std::string_view("c"), {}, kT0, 4}, "two words", partition_)
                .error->code,
            ParseErrorCode::out_of_range);
  EXPECT_EQ(
      topology_
          .forget(RecordView{std::string_view("c"), {}, kT0, 5}, std::string(65, 'r'), partition_)
          .error->code,
      ParseErrorCode::out_of_range);
}

TEST_F(TopologyRadiusTest, StayingIsReportedOnceAMinuteAndAMoveOnceItHolds) {
  EXPECT_EQ(feed(beacon_record("c", "s1", 13, -50, kT0)).kind, Outcome::Kind::event);
  EXPECT_EQ(feed(beacon_record("c", "s2", 13, -50, kT0 + 30000)).reason, DropReason::suppressed);
  // Table 4 from now on: a move once it has held for the dwell (4 s, 5 readings).
  for (int i = 0; i < 4; ++i) {
    const std::string id = "s3" + std::to_string(i);
    EXPECT_EQ(feed(beacon_record("c", id, 14, -50, kT0 + 40000 + i * 1000)).reason,
              DropReason::pending_move);
  }
  const Result moved = feed(beacon_record("c", "s3", 14, -50, kT0 + 44000));
  ASSERT_EQ(moved.kind, Outcome::Kind::event) << drop_reason_name(moved.reason);
  EXPECT_NE(moved.value.find(R"("identification":"move")"), std::string::npos);
  const Result still = feed(beacon_record("c", "s4", 14, -50, kT0 + 104000));
  ASSERT_EQ(still.kind, Outcome::Kind::event);
  EXPECT_NE(still.value.find(R"("identification":"still_here")"), std::string::npos);
}

TEST_F(TopologyTest, WithTheLocationFilterAMoveFollowsSustainedEvidence) {
  TopologyOptions options;
  options.score.model = ScoreModel::filter;
  Topology topology(fixture_registry(), options);
  PartitionState partition;
  std::int64_t offset = 0;
  const auto feed_filter = [&](const Record& record) {
    return feed(topology, partition, record, offset++);
  };
  EXPECT_EQ(feed_filter(beacon_record("c", "s1", 13, -50, kT0)).kind, Outcome::Kind::event);
  EXPECT_EQ(feed_filter(beacon_record("c", "s2", 13, -50, kT0 + 30000)).reason,
            DropReason::suppressed);
  // Table 4 from now on: the belief in Table 3 holds for a reading, then the move is pending,
  // then it is a move (docs/scoring.md: sustained evidence, no fixed dwell).
  std::vector<DropReason> held;
  Result moved{};
  for (int i = 0; i < 8; ++i) {
    moved =
        feed_filter(beacon_record("c", "s3" + std::to_string(i), 14, -50, kT0 + 40000 + i * 1000));
    if (moved.kind == Outcome::Kind::event) break;
    held.push_back(moved.reason);
  }
  ASSERT_EQ(moved.kind, Outcome::Kind::event) << "never moved";
  ASSERT_FALSE(held.empty()) << "one reading moved a seated customer";
  EXPECT_EQ(held.front(), DropReason::suppressed);
  EXPECT_EQ(held.back(), DropReason::pending_move);
  EXPECT_NE(moved.value.find(R"("identification":"move")"), std::string::npos);
}

TEST_F(TopologyTest, AQrScanTeachesThePartitionsRoomAndTheRecordThatLearntSaysSo) {
  // One customer seated at Table 1, scanning its code; the readings after the scan, until its
  // window closes, teach the partition what Table 1's beacon reads there.
  for (const ScoreModel model : {ScoreModel::radius, ScoreModel::filter}) {
    TopologyOptions options;
    options.score.model = model;
    Topology topology(fixture_registry(), options);
    PartitionState partition;
    std::vector<std::size_t> learnt_by;
    for (int i = 0; i < 80; ++i) {
      const EpochMs t = kT0 + i * 500;
      const Record record = i == 10 ? stage_testing::qr_record("c", "q", "TS-store100-T1", t)
                                    : beacon_record("c", "s" + std::to_string(i), 11, -66, t);
      const Outcome outcome = topology.process(
          RecordView{record.key, record.value, record.timestamp_ms, i}, partition, kNow);
      if (!outcome.learned_levels.empty()) learnt_by.push_back(static_cast<std::size_t>(i));
    }
    if (model == ScoreModel::radius) {
      EXPECT_TRUE(partition.room().empty()) << "only the location filter learns";
      EXPECT_TRUE(learnt_by.empty());
      continue;
    }
    ASSERT_EQ(partition.room().size(), 1u);
    EXPECT_EQ(learnt_by, std::vector<std::size_t>{71}) << "the first reading after 30 s";
    partition.room().for_each(
        [](const Uuid&, const LearnedLevel& level) { EXPECT_NEAR(level.level_dbm, -66.0, 0.5); });
  }
}

TEST_F(TopologyTest, ToolsCanAskForEveryReadingsMostLikelyLocation) {
  TopologyOptions options;
  options.score.model = ScoreModel::filter;
  options.report_beliefs = true;
  Topology topology(fixture_registry(), options);
  PartitionState partition;
  const Record reading = beacon_record("c", "s1", 13, -75, kT0);
  const Outcome outcome = topology.process(
      RecordView{reading.key, reading.value, reading.timestamp_ms, 0}, partition, kNow);
  EXPECT_EQ(outcome.kind, Outcome::Kind::dropped) << "one faint reading identifies no one";
  ASSERT_TRUE(outcome.most_likely.has_value()) << "but it is scored";
  EXPECT_EQ(topology.registry().location(outcome.most_likely->location_index).name, "Table 3");
  EXPECT_GT(outcome.most_likely->probability, 0.0);
  EXPECT_LT(outcome.most_likely->probability, 0.8);

  const Outcome unasked = topology_.process(
      RecordView{reading.key, reading.value, reading.timestamp_ms, 0}, partition_, kNow);
  EXPECT_FALSE(unasked.most_likely.has_value()) << "not on the live path";
}

TEST_F(TopologyTest, EntranceThenTableWithinAMinuteEmitsBoth) {
  // Through the door, then sitting down at Table 3 twenty seconds later; readings once a second.
  std::vector<std::string> events;
  for (int s = 0; s < 40; ++s) {
    const bool seated = s >= 20;
    const Result result = feed(beacon_record("walker", "w" + std::to_string(s), seated ? 13 : 1,
                                             seated ? -52 : -56, kT0 + s * 1000));
    if (result.kind == Outcome::Kind::event) events.push_back(result.value);
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_NE(events[0].find(R"("location":"Entrance")"), std::string::npos);
  EXPECT_NE(events[0].find(R"("identification":"arrival")"), std::string::npos);
  EXPECT_NE(events[1].find(R"("location":"Table 3")"), std::string::npos);
  EXPECT_NE(events[1].find(R"("identification":"move")"), std::string::npos);
}

TEST_F(TopologyTest, UnknownBeaconIsACountedDropNotAnError) {
  const Result result = feed(beacon_record("c", "s1", 999, -50, kT0));
  EXPECT_EQ(result.kind, Outcome::Kind::dropped);
  EXPECT_EQ(result.reason, DropReason::unknown_beacon);
}

TEST_F(TopologyTest, SightingFarBehindThePartitionWatermarkIsDropped) {
  // Four records in a row move the watermark (docs/design.md).
  for (int i = 0; i < 4; ++i) {
    feed(beacon_record("a", "s1" + std::to_string(i), 13, -50, kT0 + 600000 + i * 1000));
  }
  const Result late = feed(beacon_record("b", "s2", 13, -50, kT0));
  EXPECT_EQ(late.kind, Outcome::Kind::dropped);
  EXPECT_EQ(late.reason, DropReason::beyond_lateness);
}

TEST_F(TopologyTest, APhoneClockAheadDoesNotPushOtherCustomersBehindTheLateness) {
  // Five minutes fast, which parse allows: detected_at ahead of the record's timestamp.
  Record fast = beacon_record("fast", "s1", 13, -50, kT0 + 300000);
  fast.timestamp_ms = kT0;
  EXPECT_EQ(feed(fast).kind, Outcome::Kind::event);
  const Result other = feed(beacon_record("other", "s2", 14, -50, kT0 - 1000));
  EXPECT_EQ(other.kind, Outcome::Kind::event) << drop_reason_name(other.reason);
}

TEST_F(TopologyTest, UnknownBeaconsCreateNoCustomerState) {
  feed(beacon_record("stranger", "s1", 999, -50, kT0));
  EXPECT_EQ(partition_.find("stranger"), nullptr);
}

TEST_F(TopologyTest, CustomerUnseenForTheRetentionArrivesAgain) {
  EXPECT_EQ(feed(beacon_record("c", "s1", 13, -50, kT0)).kind, Outcome::Kind::event);
  const Result back = feed(beacon_record("c", "s2", 13, -50, kT0 + 3600001));
  ASSERT_EQ(back.kind, Outcome::Kind::event);
  EXPECT_NE(back.value.find(R"("identification":"arrival")"), std::string::npos);
}

TEST_F(TopologyRadiusTest, AReplacedRegistryAppliesToReadingsAlreadyInTheWindow) {
  EXPECT_EQ(feed(beacon_record("c", "s1", 14, -50, kT0)).kind, Outcome::Kind::event);  // Table 4
  // Table 4's beacon goes into maintenance: its reading in the window no longer counts, so Table
  // 3 identifies alone.
  std::ifstream file(std::string(TASTESYNC_FIXTURES_DIR) + "/registry.json");
  std::ostringstream text;
  text << file.rdbuf();
  std::string changed = text.str();
  const auto table4 = changed.find("\"minor\": 14");
  ASSERT_NE(table4, std::string::npos);
  const auto status = changed.find("\"active\"", table4);
  changed.replace(status, 8, "\"maintenance\"");
  topology_.set_registry(Registry::from_json(changed).value());
  // Table 4's earlier reading no longer counts: Table 3 holds for the dwell, then identifies.
  for (int i = 1; i < 5; ++i) {
    feed(beacon_record("c", "s2" + std::to_string(i), 13, -50, kT0 + i * 1000));
  }
  const Result moved = feed(beacon_record("c", "s2", 13, -50, kT0 + 5000));
  ASSERT_EQ(moved.kind, Outcome::Kind::event) << drop_reason_name(moved.reason);
  EXPECT_NE(moved.value.find(R"("location":"Table 3")"), std::string::npos);
}

// A stream that exercises every path: several customers, moves, stays, duplicates, bad records.
std::vector<Record> mixed_stream() {
  std::vector<Record> records;
  const int minors[] = {1, 11, 12, 13, 14, 20};
  for (int i = 0; i < 600; ++i) {
    const std::string customer = "c" + std::to_string(i % 7);
    const int minor = minors[(i / 40 + i % 7) % 6];
    const EpochMs t = kT0 + i * 700;
    records.push_back(beacon_record(customer, "s" + std::to_string(i), minor, -50 - i % 9, t));
    if (i % 50 == 0) records.push_back(records.back());                 // redelivery
    if (i % 97 == 0) records.push_back({customer, "garbage", t + 50});  // dead letter
  }
  return records;
}

TEST_F(TopologyTest, SameRecordsGiveTheSameEvents) {
  Topology other(fixture_registry(), TopologyOptions{});
  PartitionState other_partition;
  std::size_t events = 0;
  const std::vector<Record> records = mixed_stream();
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Result a = feed(topology_, partition_, records[i], static_cast<std::int64_t>(i));
    const Result b = feed(other, other_partition, records[i], static_cast<std::int64_t>(i));
    ASSERT_EQ(a.kind, b.kind);
    ASSERT_EQ(a.event_id, b.event_id);
    ASSERT_EQ(a.value, b.value);
    events += a.kind == Outcome::Kind::event;
  }
  EXPECT_GT(events, 20u);
}

// The codec and RocksDB in between: state/restore_equivalence_test.cpp.
TEST_F(TopologyTest, StateRestoredIntoAFreshPartitionContinuesIdentically) {
  const std::vector<Record> records = mixed_stream();
  const std::size_t half = records.size() / 2;
  for (std::size_t i = 0; i < half; ++i) {
    feed(topology_, partition_, records[i], static_cast<std::int64_t>(i));
  }

  // What a restart does: every customer and the partition's progress into a fresh partition.
  PartitionState restored;
  restored.restore_progress(partition_.progress());
  partition_.for_each(
      [&](const std::string& id, const CustomerState& state) { restored.insert(id, state); });
  Topology after_restart(fixture_registry(), TopologyOptions{});
  for (std::size_t i = half; i < records.size(); ++i) {
    const auto offset = static_cast<std::int64_t>(i);
    const Result straight = feed(topology_, partition_, records[i], offset);
    const Result resumed = feed(after_restart, restored, records[i], offset);
    ASSERT_EQ(straight.kind, resumed.kind) << i;
    ASSERT_EQ(straight.reason, resumed.reason) << i;
    ASSERT_EQ(straight.value, resumed.value) << i;
  }
}

// docs/design.md, "Time that cannot be hijacked".
TEST_F(TopologyTest, ARecordStampedFarAheadOfTheWallClockIsADeadLetterAndMovesNothing) {
  Record from_2099 = beacon_record("c", "s1", 13, -50, kYear2099);
  const Result result = feed(from_2099, /*now_ms=*/kT0);
  EXPECT_EQ(result.kind, Outcome::Kind::dead_letter);
  EXPECT_EQ(result.error, ParseErrorCode::too_far_in_future);
  EXPECT_EQ(partition_.watermark_ms(), 0);
  EXPECT_EQ(partition_.size(), 0u);
}

TEST_F(TopologyTest, AKafkaTimestampFarAheadOfTheWallClockIsADeadLetter) {
  // detected_at is plausible; only the record's timestamp is from 2099 (the issue's probe).
  Record record = beacon_record("c", "s1", 13, -50, kT0);
  record.timestamp_ms = kYear2099;
  // parse's own window (detected_at >= timestamp - 24 h) would call it too_old: the wall clock
  // comes first for a timestamp that cannot be right.
  const Result result = feed(record, /*now_ms=*/kT0);
  EXPECT_EQ(result.kind, Outcome::Kind::dead_letter);
  EXPECT_EQ(result.error, ParseErrorCode::too_far_in_future);
  EXPECT_EQ(partition_.watermark_ms(), 0);
}

TEST_F(TopologyTest, DetectedAtAheadOfTheWallClockBeyondTheSkewIsADeadLetter) {
  // Within parse's window of the record timestamp (+5 min), but 8 minutes ahead of now.
  Record record = beacon_record("c", "s1", 13, -50, kT0 + 480000);
  record.timestamp_ms = kT0 + 240000;
  const Result result = feed(record, /*now_ms=*/kT0);
  EXPECT_EQ(result.kind, Outcome::Kind::dead_letter);
  EXPECT_EQ(result.error, ParseErrorCode::too_far_in_future);
}

TEST_F(TopologyTest, TwentyRecordsFromTheFutureDoNotBlindThePartition) {
  // The issue's probe: after them, every normal record is judged as if they had never come.
  Topology reference_topology(fixture_registry(), TopologyOptions{});
  PartitionState reference_partition;
  std::vector<Record> normal;
  for (int i = 0; i < 300; ++i) {
    normal.push_back(beacon_record("n" + std::to_string(i % 10), "n" + std::to_string(i),
                                   i % 2 == 0 ? 13 : 14, -50, kT0 + i * 1000));
  }
  for (int i = 0; i < 20; ++i) {
    Record hostile =
        beacon_record("h" + std::to_string(i), "h" + std::to_string(i), 13, -50, kYear2099 + i);
    EXPECT_EQ(feed(topology_, partition_, hostile, i, kT0 + 300000).error,
              ParseErrorCode::too_far_in_future);
  }
  std::size_t events = 0;
  for (std::size_t i = 0; i < normal.size(); ++i) {
    const EpochMs now_ms = normal[i].timestamp_ms + 100;
    const Result after = feed(topology_, partition_, normal[i], 20 + static_cast<int>(i), now_ms);
    const Result alone =
        feed(reference_topology, reference_partition, normal[i], static_cast<int>(i), now_ms);
    ASSERT_EQ(after.kind, alone.kind) << i;
    ASSERT_EQ(after.reason, alone.reason) << i;
    ASSERT_EQ(after.event_id, alone.event_id) << i;
    events += after.kind == Outcome::Kind::event;
  }
  EXPECT_GT(events, 10u);
}

TEST_F(TopologyTest, RecordsAheadOfTheWallClockWithinTheSkewDoNotPushTheWatermarkPastNow) {
  // A producer four minutes fast, for many records: accepted, but the watermark stops at now, so
  // a sighting delayed four minutes is still within the allowed lateness (5 min).
  for (int i = 0; i < 10; ++i) {
    const Result fast =
        feed(beacon_record("fast", "f" + std::to_string(i), 13, -50, kT0 + 240000 + i), kT0);
    EXPECT_NE(fast.kind, Outcome::Kind::dead_letter);
  }
  EXPECT_LE(partition_.watermark_ms(), kT0);
  const Result delayed = feed(beacon_record("slow", "s1", 14, -50, kT0 - 240000), kT0);
  EXPECT_EQ(delayed.kind, Outcome::Kind::event) << drop_reason_name(delayed.reason);
}

TEST_F(TopologyTest, OneRecordFarAheadWithinTheSkewDoesNotMoveTheWatermark) {
  // Replaying old records (now is much later): one record an hour ahead of the rest must not
  // make everything after it late.
  for (int i = 0; i < 10; ++i) feed(beacon_record("a", "a" + std::to_string(i), 13, -50, kT0 + i));
  feed(beacon_record("b", "b1", 13, -50, kT0 + 3600000));
  EXPECT_LE(partition_.watermark_ms(), kT0 + 9);
  const Result next = feed(beacon_record("c", "c1", 14, -50, kT0 + 20));
  EXPECT_EQ(next.kind, Outcome::Kind::event) << drop_reason_name(next.reason);
}

// docs/design.md, "Bounded memory".
TEST_F(TopologyTest, BeyondTheCustomerCapTheLeastRecentlyTouchedArriveAgain) {
  TopologyOptions options;
  options.max_customers_per_partition = 2;
  Topology topology(fixture_registry(), options);
  PartitionState partition;
  EXPECT_EQ(feed(topology, partition, beacon_record("a", "a1", 13, -50, kT0), 0).kind,
            Outcome::Kind::event);
  feed(topology, partition, beacon_record("b", "b1", 14, -50, kT0 + 1), 1);
  const Result third = feed(topology, partition, beacon_record("c", "c1", 13, -50, kT0 + 2), 2);
  EXPECT_EQ(third.evicted, 1u);
  // "a" was least recently touched: forgotten, so its next sighting is an arrival again, well
  // within the dedupe interval that would otherwise suppress it.
  const Result again = feed(topology, partition, beacon_record("a", "a2", 13, -50, kT0 + 3), 3);
  ASSERT_EQ(again.kind, Outcome::Kind::event) << drop_reason_name(again.reason);
  EXPECT_NE(again.value.find(R"("identification":"arrival")"), std::string::npos);
  // "b" was touched after "a": it is still known (its next sighting is suppressed).
  const Result b = feed(topology, partition, beacon_record("b", "b2", 14, -50, kT0 + 4), 4);
  EXPECT_EQ(b.reason, DropReason::suppressed);
}

TEST_F(TopologyTest, AFloodOfInventedCustomersDoesNotChangeHowRealOnesAreIdentified) {
  TopologyOptions options;
  options.max_customers_per_partition = 100;
  Topology flooded(fixture_registry(), options);
  PartitionState flooded_partition;
  Topology quiet(fixture_registry(), options);
  PartitionState quiet_partition;
  std::int64_t offset = 0;
  std::size_t evicted = 0;
  for (int i = 0; i < 1000; ++i) {
    const Result result = feed(
        flooded, flooded_partition,
        beacon_record("invented-" + std::to_string(i), "x" + std::to_string(i), 13, -50, kT0 + i),
        offset++);
    evicted += result.evicted;
  }
  EXPECT_GE(evicted, 900u);
  EXPECT_LE(flooded_partition.size(), 100u);
  const std::vector<Record> records = mixed_stream();
  for (std::size_t i = 0; i < records.size(); ++i) {
    Record record = records[i];
    record.timestamp_ms += 1000;  // after the flood
    const Result after = feed(flooded, flooded_partition, record, offset++);
    const Result alone = feed(quiet, quiet_partition, record, static_cast<std::int64_t>(i));
    ASSERT_EQ(after.kind, alone.kind) << i;
    ASSERT_EQ(after.reason, alone.reason) << i;
    ASSERT_EQ(after.event_id, alone.event_id) << i;
  }
}

}  // namespace
}  // namespace tastesync
