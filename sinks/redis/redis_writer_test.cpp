#include "sinks/redis/redis_writer.hpp"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/erasure.hpp"
#include "tests/support/redis_test_server.hpp"
#include "tests/support/redis_test_support.hpp"
#include "tests/support/sink_events.hpp"

namespace tastesync {
namespace {

using testing::beacon_event;
using testing::erasure;
using testing::hash;
using testing::integer;
using testing::qr_event;
using testing::sorted_set;

constexpr EpochMs kSecond = 1000;
constexpr EpochMs kMinute = 60 * kSecond;
constexpr EpochMs kHour = 60 * kMinute;
constexpr EpochMs kDay = 24 * kHour;
constexpr EpochMs kPresentWindowMs = 180 * kSecond;

// Event times are near the wall clock: Redis itself deletes a key whose absolute expiry passed.
class RedisWriterTest : public ::testing::Test {
 protected:
  RedisBatchWritten write(const std::vector<SinkEvent>& events, EpochMs now_ms) {
    auto result = writer_.write(events, now_ms);
    EXPECT_TRUE(result) << result.error().message;
    if (!result) return {};
    EXPECT_TRUE(result->rejected.empty()) << result->rejected.front().reason;
    return std::move(result).value();
  }
  RedisBatchWritten write(const SinkEvent& event) { return write({event}, now_ms_); }

  testing::RedisTestServer server_;
  RedisConnection redis_{server_.options()};
  RedisWriter writer_{server_.options()};
  const EpochMs now_ms_ = tastesync::wall_clock_ms();
};

TEST_F(RedisWriterTest, CustomerHashHoldsTheEventsFields) {
  const SinkEvent event = beacon_event("cust123", "store100", "Table 3", now_ms_ - kMinute);
  EXPECT_EQ(write(event).customers_written, 1u);
  const std::map<std::string, std::string> expected = {
      {"location", "Table 3"},
      {"location_type", "table"},
      {"store_id", "store100"},
      {"confidence", "0.950"},
      {"detected_at", event.detected_at},
      {"detected_at_ms", std::to_string(event.detected_at_ms)},
      {"event_id", event.event_id},
      {"identification", "arrival"},
  };
  EXPECT_EQ(hash(redis_, "customer:cust123"), expected);
}

TEST_F(RedisWriterTest, NewerEventReplacesTheCustomerHash) {
  write(beacon_event("cust123", "store100", "Table 3", now_ms_ - 2 * kMinute));
  SinkEvent newer = beacon_event("cust123", "store100", "Table 4", now_ms_ - kMinute);
  newer.identification = "move";
  EXPECT_EQ(write(newer).customers_written, 1u);
  const auto stored = hash(redis_, "customer:cust123");
  EXPECT_EQ(stored.at("location"), "Table 4");
  EXPECT_EQ(stored.at("identification"), "move");
  EXPECT_EQ(stored.at("detected_at"), newer.detected_at);
}

TEST_F(RedisWriterTest, OlderEventAfterANewerOneLeavesTheCustomerHashUnchanged) {
  write(beacon_event("cust123", "store100", "Table 4", now_ms_ - kMinute));
  const auto before = hash(redis_, "customer:cust123");
  const auto expiry_before = integer(redis_, {"PEXPIRETIME", "customer:cust123"});

  EXPECT_EQ(write(beacon_event("cust123", "store100", "Table 3", now_ms_ - 2 * kMinute))
                .customers_written,
            0u);
  EXPECT_EQ(hash(redis_, "customer:cust123"), before);
  EXPECT_EQ(integer(redis_, {"PEXPIRETIME", "customer:cust123"}), expiry_before);
}

TEST_F(RedisWriterTest, SameMillisecondGoesToTheGreaterEventIdWhateverTheOrder) {
  SinkEvent a = beacon_event("cust123", "store100", "Table 3", now_ms_);
  SinkEvent b = beacon_event("cust123", "store100", "Table 4", now_ms_);
  a.event_id = "aaaa";
  b.event_id = "bbbb";
  write({b, a}, now_ms_);
  EXPECT_EQ(hash(redis_, "customer:cust123").at("location"), "Table 4");
  testing::run(redis_, {"FLUSHALL"});
  write({a, b}, now_ms_);
  EXPECT_EQ(hash(redis_, "customer:cust123").at("location"), "Table 4");
}

TEST_F(RedisWriterTest, CustomerHashExpiresAnHourAfterDetectedAt) {
  const SinkEvent event = beacon_event("cust123", "store100", "Table 3", now_ms_ - 10 * kMinute);
  write(event);
  EXPECT_EQ(integer(redis_, {"PEXPIRETIME", "customer:cust123"}), event.detected_at_ms + kHour);
}

TEST_F(RedisWriterTest, EventAnHourOldWritesNoCustomerKey) {
  EXPECT_EQ(write(qr_event("old", "store100", "Counter", now_ms_ - kHour)).customers_written, 0u);
  EXPECT_EQ(integer(redis_, {"EXISTS", "customer:old"}), 0);
  write(qr_event("recent", "store100", "Counter", now_ms_ - kHour + kSecond));
  EXPECT_EQ(integer(redis_, {"EXISTS", "customer:recent"}), 1);
}

TEST_F(RedisWriterTest, BeaconHashHoldsRegistryFieldsAndExpiresADayAfterDetectedAt) {
  const SinkEvent event = beacon_event("cust123", "store100", "Table 3", now_ms_ - kSecond);
  EXPECT_EQ(write(event).beacons_written, 1u);
  const std::string key = "beacon:" + *event.beacon_id;
  const std::map<std::string, std::string> expected = {
      {"store_id", "store100"},   {"location", "Table 3"},
      {"location_type", "table"}, {"uuid", "550e8400-e29b-41d4-a716-446655440000"},
      {"major", "100"},           {"minor", "13"},
      {"status", "active"},       {"detected_at_ms", std::to_string(event.detected_at_ms)},
  };
  EXPECT_EQ(hash(redis_, key), expected);
  EXPECT_EQ(integer(redis_, {"PEXPIRETIME", key}), event.detected_at_ms + kDay);
  const long long ttl_ms = integer(redis_, {"PTTL", key});
  EXPECT_GT(ttl_ms, kDay - kMinute);
  EXPECT_LE(ttl_ms, kDay);
}

TEST_F(RedisWriterTest, NewerBeaconEventRefreshesTheBeaconAndAnOlderOneDoesNot) {
  SinkEvent older = beacon_event("cust1", "store100", "Table 3", now_ms_ - 2 * kMinute);
  SinkEvent newer = beacon_event("cust2", "store100", "Table 9", now_ms_ - kMinute);
  write(older);
  EXPECT_EQ(write(newer).beacons_written, 1u);
  EXPECT_EQ(write(older).beacons_written, 0u);
  const std::string key = "beacon:" + *newer.beacon_id;
  EXPECT_EQ(hash(redis_, key).at("location"), "Table 9");
  EXPECT_EQ(integer(redis_, {"PEXPIRETIME", key}), newer.detected_at_ms + kDay);
}

TEST_F(RedisWriterTest, QrEventWritesNoBeaconKey) {
  EXPECT_EQ(write(qr_event("cust9", "store100", "Counter", now_ms_)).beacons_written, 0u);
  EXPECT_EQ(integer(redis_, {"EXISTS", "customer:cust9"}), 1);
  const RedisReply beacons = testing::run(redis_, {"KEYS", "beacon:*"});
  ASSERT_NE(beacons, nullptr);
  EXPECT_EQ(beacons->elements, 0u);
}

TEST_F(RedisWriterTest, PresentSetScoresTheLatestDetectedAt) {
  const EpochMs first = now_ms_ - 2 * kMinute;
  const EpochMs latest = now_ms_ - kMinute;
  write(qr_event("cust1", "store100", "Counter", first));
  write(qr_event("cust1", "store100", "Counter", latest));
  write(qr_event("cust1", "store100", "Counter", first + kSecond));
  EXPECT_EQ(sorted_set(redis_, "store:store100:present"),
            (std::map<std::string, double>{{"cust1", static_cast<double>(latest)}}));
}

TEST_F(RedisWriterTest, PresentSetNeverLowersAScore) {
  testing::run(redis_, {"ZADD", "store:store100:present", std::to_string(now_ms_), "cust1"});
  write(qr_event("cust1", "store100", "Counter", now_ms_ - kMinute));
  EXPECT_EQ(sorted_set(redis_, "store:store100:present").at("cust1"), static_cast<double>(now_ms_));
}

TEST_F(RedisWriterTest, PresentSetDropsMembersMoreThan180sOlderThanTheNewest) {
  const EpochMs start = now_ms_ - 4 * kMinute;
  write({qr_event("early", "store100", "Counter", start)}, start);
  write({qr_event("edge", "store100", "Counter", start + kMinute)}, start + kMinute);
  const EpochMs newest = start + kMinute + kPresentWindowMs;
  write({qr_event("late", "store100", "Counter", newest)}, newest);
  const auto present = sorted_set(redis_, "store:store100:present");
  EXPECT_FALSE(present.contains("early"));
  EXPECT_TRUE(present.contains("edge")) << "exactly 180 s older than the newest is kept";
  EXPECT_TRUE(present.contains("late"));
}

TEST_F(RedisWriterTest, PresentSetExpires180sAfterTheLastWrite) {
  write(qr_event("cust1", "store100", "Counter", now_ms_ - 2 * kMinute));
  const long long ttl_ms = integer(redis_, {"PTTL", "store:store100:present"});
  EXPECT_GT(ttl_ms, kPresentWindowMs - 10 * kSecond);
  EXPECT_LE(ttl_ms, kPresentWindowMs);
}

TEST_F(RedisWriterTest, EventOlderThan180sUpdatesTheCustomerButNotThePresentSet) {
  const auto written = write(qr_event("cust1", "store100", "Counter", now_ms_ - 181 * kSecond));
  EXPECT_EQ(written.customers_written, 1u);
  EXPECT_EQ(written.present_written, 0u);
  EXPECT_EQ(integer(redis_, {"EXISTS", "store:store100:present"}), 0);
}

TEST_F(RedisWriterTest, MovingToAnotherStoreLeavesTheOldStoresPresentSet) {
  write(qr_event("cust1", "storeA", "Counter", now_ms_ - 2 * kMinute));
  write(qr_event("cust2", "storeA", "Counter", now_ms_ - 2 * kMinute));
  write(qr_event("cust1", "storeB", "Counter", now_ms_ - kMinute));
  EXPECT_EQ(sorted_set(redis_, "store:storeA:present").count("cust1"), 0u);
  EXPECT_EQ(sorted_set(redis_, "store:storeA:present").count("cust2"), 1u);
  EXPECT_EQ(sorted_set(redis_, "store:storeB:present").count("cust1"), 1u);
}

TEST_F(RedisWriterTest, OlderEventInAnotherStoreDoesNotMoveTheCustomerBack) {
  write(qr_event("cust1", "storeB", "Counter", now_ms_ - kMinute));
  const auto written = write(qr_event("cust1", "storeA", "Counter", now_ms_ - 2 * kMinute));
  EXPECT_EQ(written.present_written, 0u);
  EXPECT_EQ(integer(redis_, {"EXISTS", "store:storeA:present"}), 0);
  EXPECT_EQ(sorted_set(redis_, "store:storeB:present").count("cust1"), 1u);
  EXPECT_EQ(hash(redis_, "customer:cust1").at("store_id"), "storeB");
}

TEST_F(RedisWriterTest, ReplayingABatchChangesNothing) {
  const std::vector<SinkEvent> batch = {
      beacon_event("cust1", "storeA", "Table 1", now_ms_ - 3 * kMinute),
      qr_event("cust2", "storeA", "Counter", now_ms_ - 2 * kMinute),
      beacon_event("cust1", "storeB", "Table 2", now_ms_ - kMinute),
      beacon_event("cust1", "storeA", "Table 1", now_ms_ - 4 * kMinute),
      qr_event("cust3", "storeB", "Counter", now_ms_ - 30 * kMinute),
      qr_event("cust4", "storeB", "Counter", now_ms_ - 2 * kHour),
  };
  write(batch, now_ms_);
  const auto before = testing::dump(redis_);
  ASSERT_EQ(before.size(), 6u) << "3 customers, 2 present sets, 1 beacon, nothing for cust4";

  const auto replayed = write(batch, now_ms_ + kSecond);
  EXPECT_EQ(replayed.customers_written, 0u);
  EXPECT_EQ(replayed.present_written, 0u);
  EXPECT_EQ(replayed.beacons_written, 0u);
  EXPECT_EQ(testing::dump(redis_), before);
}

// The present sets' expiry is relative (PEXPIRE at the call), so two runs at different moments
// differ there and only there.
std::map<std::string, std::string> without_present_expiry(std::map<std::string, std::string> keys) {
  static const std::regex kExpiry("^zset expires [0-9]+:");
  for (auto& [key, description] : keys) {
    if (key.starts_with("store:")) description = std::regex_replace(description, kExpiry, "zset:");
  }
  return keys;
}

// Customers come back, move between stores, age out of the present window and the hour, share
// beacons and are erased between chunks; events arrive out of order.
std::vector<SinkEvent> mixed_events(EpochMs now_ms) {
  std::mt19937 random(17);
  const auto below = [&random](std::uint32_t bound) { return random() % bound; };
  const std::array<std::string, 3> stores = {"storeA", "storeB", "storeC"};
  std::vector<SinkEvent> events;
  for (int i = 0; i < 900; ++i) {
    const std::string customer = "cust" + std::to_string(below(40));
    const std::string& store = stores[below(3)];
    const int table = 1 + static_cast<int>(below(6));
    const EpochMs age = below(10) == 0 ? kHour + below(kHour) : below(5 * kMinute);
    if (below(4) == 0) {
      events.push_back(qr_event(customer, store, "Counter", now_ms - age));
    } else {
      SinkEvent event =
          beacon_event(customer, store, "Table " + std::to_string(table), now_ms - age);
      event.beacon_id = "bc0c82d4-d881-5fe0-a68c-3ed7c35627" + std::to_string(10 + table);
      event.beacon_minor = table;
      events.push_back(std::move(event));
    }
    if (i % 300 == 150) events.push_back(erasure(customer, now_ms - 2 * kMinute));
  }
  return events;
}

// The chunked script (redis_write_script.cpp) against its definition: a batch written in calls
// of the default size (each stretch between erasures is one call) leaves the same keys, fields,
// scores, expiries and counts as the same batch written one event per call, and as in calls of
// 64 events (chunks that end at the limit).
TEST_F(RedisWriterTest, AChunkLeavesWhatOneCallPerEventLeaves) {
  const std::vector<SinkEvent> events = mixed_events(now_ms_);
  const RedisBatchWritten chunked = write(events, now_ms_);
  const auto chunked_keys = without_present_expiry(testing::dump(redis_));
  ASSERT_GT(chunked_keys.size(), 40u);

  for (const std::size_t events_per_call : {std::size_t{1}, std::size_t{64}}) {
    ASSERT_TRUE(redis_.command({"FLUSHALL"}));
    RedisWriter writer(server_.options(), events_per_call);
    const auto written = writer.write(events, now_ms_);
    ASSERT_TRUE(written) << written.error().message;
    EXPECT_TRUE(written->rejected.empty());
    EXPECT_EQ(without_present_expiry(testing::dump(redis_)), chunked_keys) << events_per_call;
    EXPECT_EQ(written->customers_written, chunked.customers_written) << events_per_call;
    EXPECT_EQ(written->present_written, chunked.present_written) << events_per_call;
    EXPECT_EQ(written->beacons_written, chunked.beacons_written) << events_per_call;
  }
  EXPECT_GT(chunked.beacons_written, 6u) << "later events refresh the beacons";
  for (const std::string store : {"storeA", "storeB", "storeC"}) {
    const auto ttl = integer(redis_, {"PTTL", "store:" + store + ":present"});
    EXPECT_GT(ttl, 0) << store;
    EXPECT_LE(ttl, kPresentWindowMs) << store;
  }
}

// What a reader of the contract's keys sees (docs/contract.md#redis): every hash with its fields
// and expiry, and who is in each store within the present window, with their scores. A present
// set's trim and expiry follow its writes, which a batch makes fewer of (docs/storage.md#sinks).
std::map<std::string, std::string> as_readers_see(RedisConnection& redis, EpochMs now_ms) {
  std::map<std::string, std::string> keys = testing::dump(redis);
  for (auto& [key, description] : keys) {
    if (!key.starts_with("store:")) continue;
    description = "present:";
    for (const auto& [member, score] : sorted_set(redis, key)) {
      if (score >= static_cast<double>(now_ms - kPresentWindowMs)) {
        description.append(" ").append(member).append("=").append(std::to_string(score));
      }
    }
  }
  return keys;
}

// A batch skips the writes of an event that a newer one of the same customer later in the batch
// overwrites (RedisWriter::mark_superseded). Readers see what the events written one batch each
// leave: the same hashes, fields, expiries, erasures and presence.
TEST_F(RedisWriterTest, ABatchLeavesForReadersWhatItsEventsOneBatchEachLeave) {
  const std::vector<SinkEvent> events = mixed_events(now_ms_);
  const RedisBatchWritten batched = write(events, now_ms_);
  const auto batched_keys = as_readers_see(redis_, now_ms_);
  ASSERT_GT(batched_keys.size(), 40u);
  ASSERT_TRUE(redis_.command({"FLUSHALL"}));

  RedisBatchWritten one_by_one;
  for (const SinkEvent& event : events) {
    const RedisBatchWritten written = write({event}, now_ms_);
    one_by_one.customers_written += written.customers_written;
    one_by_one.present_written += written.present_written;
    one_by_one.beacons_written += written.beacons_written;
  }
  EXPECT_EQ(as_readers_see(redis_, now_ms_), batched_keys);
  EXPECT_EQ(batched.beacons_written, one_by_one.beacons_written);
  // At most one write per customer between erasures (40 customers, three erasures), except for
  // events of a customer in the same millisecond, which this batch has none of.
  EXPECT_LE(batched.customers_written, 4u * 40u);
  EXPECT_LT(batched.customers_written, one_by_one.customers_written);
  EXPECT_GT(batched.customers_written, 40u);
}

// Events of one customer in the same millisecond are all left to the script, which keeps the
// first of two with the same event id and otherwise the greater id, as one batch each does.
TEST_F(RedisWriterTest, EventsOfACustomerInOneMillisecondLeaveWhatTheyLeaveOneBatchEach) {
  SinkEvent first = beacon_event("cust1", "store100", "Table 1", now_ms_ - kSecond);
  SinkEvent same_id = beacon_event("cust1", "store100", "Table 2", now_ms_ - kSecond);
  same_id.event_id = first.event_id;
  SinkEvent greater_id = beacon_event("cust1", "store100", "Table 3", now_ms_ - kSecond);
  greater_id.event_id = "ffffffff-ffff-5fff-bfff-ffffffffffff";
  SinkEvent older = beacon_event("cust1", "store100", "Table 4", now_ms_ - 2 * kSecond);

  write({older, first, same_id}, now_ms_);
  EXPECT_EQ(hash(redis_, "customer:cust1").at("location"), "Table 1");
  write({greater_id, first}, now_ms_);
  EXPECT_EQ(hash(redis_, "customer:cust1").at("location"), "Table 3");
}

// Two events of a customer in one millisecond, in two stores, share a call: the second takes the
// customer out of the first's set, its only member. The call succeeds as it is (no error reply,
// so no retry one event per call) and leaves what the events one batch each leave.
TEST_F(RedisWriterTest, ACallThatEmptiesAPresentSetItWroteSucceeds) {
  SinkEvent first = beacon_event("cust1", "storeA", "Table 1", now_ms_ - kSecond);
  first.event_id = "aaaaaaaa-aaaa-5aaa-aaaa-aaaaaaaaaaaa";
  SinkEvent second = beacon_event("cust1", "storeB", "Table 2", now_ms_ - kSecond);
  second.event_id = "bbbbbbbb-bbbb-5bbb-bbbb-bbbbbbbbbbbb";
  const auto errors = [this] {
    const RedisReply info = testing::run(redis_, {"INFO", "stats"});
    const std::string text(info ? reply_text(*info) : "");
    const auto at = text.find("total_error_replies:");
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + 20));
  };
  const long long errors_before = errors();
  ASSERT_GE(errors_before, 0);
  const RedisBatchWritten written = write({first, second}, now_ms_);
  EXPECT_EQ(errors(), errors_before);
  EXPECT_EQ(written.customers_written, 2u);
  EXPECT_EQ(integer(redis_, {"EXISTS", "store:storeA:present"}), 0);
  EXPECT_EQ(sorted_set(redis_, "store:storeB:present").size(), 1u);
  EXPECT_EQ(hash(redis_, "customer:cust1").at("store_id"), "storeB");
}

// A superseded event still writes its beacon's hash when it is that beacon's newest: the
// customer's newer event was heard by another beacon.
TEST_F(RedisWriterTest, AnEventASameCustomersNewerOneSupersedesStillRefreshesItsBeacon) {
  SinkEvent earlier = beacon_event("cust1", "store100", "Table 1", now_ms_ - 20 * kSecond);
  SinkEvent later = beacon_event("cust1", "store100", "Table 2", now_ms_ - 10 * kSecond);
  later.beacon_id = "bc0c82d4-d881-5fe0-a68c-3ed7c3562799";
  later.beacon_minor = 2;
  const RedisBatchWritten written = write({earlier, later}, now_ms_);
  EXPECT_EQ(written.customers_written, 1u);
  EXPECT_EQ(written.beacons_written, 2u);
  EXPECT_EQ(hash(redis_, "customer:cust1").at("location"), "Table 2");
  EXPECT_EQ(hash(redis_, "beacon:" + *earlier.beacon_id).at("location"), "Table 1");
  EXPECT_EQ(hash(redis_, "beacon:" + *later.beacon_id).at("location"), "Table 2");
  EXPECT_EQ(sorted_set(redis_, "store:store100:present").size(), 1u);

  // The same batch again, and the newer event first: nothing moves back.
  EXPECT_EQ(write({later, earlier}, now_ms_).customers_written, 0u);
  EXPECT_EQ(hash(redis_, "customer:cust1").at("location"), "Table 2");
}

// docs/operations.md#forget: the tombstone deletes the customer's hash and presence, keeps only
// the hash of their id, and no replay of their earlier events writes them again; a visit after
// the request does.
TEST_F(RedisWriterTest, AnErasureDeletesTheCustomerAndNoReplayBringsThemBack) {
  const SinkEvent old_event = beacon_event("gone", "store100", "Table 3", now_ms_ - 2 * kMinute);
  write(old_event);
  write(beacon_event("kept", "store100", "Table 4", now_ms_ - 2 * kMinute));
  ASSERT_EQ(sorted_set(redis_, "store:store100:present").size(), 2u);

  write(erasure("gone", now_ms_ - kMinute));
  EXPECT_EQ(integer(redis_, {"EXISTS", "customer:gone"}), 0);
  EXPECT_EQ(sorted_set(redis_, "store:store100:present").count("gone"), 0u);
  EXPECT_EQ(sorted_set(redis_, "store:store100:present").count("kept"), 1u);
  EXPECT_EQ(hash(redis_, "tastesync:forgotten"),
            (std::map<std::string, std::string>{
                {tastesync::customer_hash("gone"), std::to_string(now_ms_ - kMinute)}}));

  EXPECT_EQ(write(old_event).customers_written, 0u) << "a replay of the old event";
  EXPECT_EQ(integer(redis_, {"EXISTS", "customer:gone"}), 0);
  EXPECT_EQ(sorted_set(redis_, "store:store100:present").count("gone"), 0u);

  const SinkEvent visit = beacon_event("gone", "store100", "Table 1", now_ms_ - kSecond);
  EXPECT_EQ(write(visit).customers_written, 1u);
  write(erasure("gone", now_ms_ - kMinute));  // the tombstone again: the visit stays
  EXPECT_EQ(hash(redis_, "customer:gone").at("location"), "Table 1");
}

}  // namespace
}  // namespace tastesync
