#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/erasure.hpp"
#include "sinks/redis/redis_write_script.hpp"
#include "sinks/redis/redis_writer.hpp"
#include "tests/support/redis_test_server.hpp"
#include "tests/support/redis_test_support.hpp"
#include "tests/support/sink_events.hpp"

namespace tastesync {
namespace {

using testing::beacon_event;
using testing::hash;
using testing::integer;
using testing::qr_event;

class RedisWriterFailureTest : public ::testing::Test {
 protected:
  std::string script_sha() {
    const RedisReply reply = testing::run(redis_, {"SCRIPT", "LOAD", kRedisWriteScript});
    return reply ? std::string(reply_text(*reply)) : std::string();
  }

  bool script_cached(std::string_view sha) {
    const RedisReply reply = testing::run(redis_, {"SCRIPT", "EXISTS", sha});
    return reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
           reply->element[0]->integer == 1;
  }

  testing::RedisTestServer server_;
  RedisConnection redis_{server_.options()};
  RedisWriter writer_{server_.options()};
  const EpochMs now_ms_ = tastesync::wall_clock_ms();
};

TEST_F(RedisWriterFailureTest, StoppedServerFailsTheBatchAndARestartedOneTakesTheRetry) {
  ASSERT_TRUE(writer_.write(
      std::vector<SinkEvent>{qr_event("before", "store100", "Counter", now_ms_ - 60'000)},
      now_ms_));
  const std::string sha = script_sha();
  ASSERT_TRUE(script_cached(sha));
  const std::vector<SinkEvent> batch = {beacon_event("after", "store100", "Table 3", now_ms_)};

  server_.stop();
  const auto failed = writer_.write(batch, now_ms_);
  ASSERT_FALSE(failed);
  EXPECT_FALSE(failed.error().message.empty());
  EXPECT_FALSE(writer_.write(batch, now_ms_)) << "reconnecting to a stopped server fails too";

  server_.start();
  ASSERT_FALSE(redis_.reconnect());
  ASSERT_FALSE(script_cached(sha)) << "a restart empties the script cache";
  const auto retried = writer_.write(batch, now_ms_);
  ASSERT_TRUE(retried) << retried.error().message;
  EXPECT_TRUE(retried->rejected.empty());
  EXPECT_EQ(retried->customers_written, 1u);
  EXPECT_EQ(integer(redis_, {"EXISTS", "customer:after"}), 1);
  EXPECT_EQ(integer(redis_, {"EXISTS", "customer:before"}), 1) << "kept by the append-only file";
}

TEST_F(RedisWriterFailureTest, FlushedScriptCacheIsLoadedAgainAndTheBatchWritten) {
  ASSERT_TRUE(writer_.write(
      std::vector<SinkEvent>{qr_event("first", "store100", "Counter", now_ms_)}, now_ms_));
  ASSERT_TRUE(redis_.command({"SCRIPT", "FLUSH"}));
  const std::vector<SinkEvent> batch = {qr_event("second", "store100", "Counter", now_ms_),
                                        qr_event("third", "store100", "Counter", now_ms_)};
  const auto written = writer_.write(batch, now_ms_);
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_TRUE(written->rejected.empty());
  EXPECT_EQ(written->customers_written, 2u);
  EXPECT_EQ(integer(redis_, {"EXISTS", "customer:second", "customer:third"}), 2);
}

TEST_F(RedisWriterFailureTest, WrongTypeKeyRejectsThatEventOnlyAndLeavesNoTrace) {
  ASSERT_TRUE(redis_.command({"SET", "customer:x", "not a hash"}));
  const std::vector<SinkEvent> batch = {beacon_event("a", "store100", "Table 1", now_ms_),
                                        beacon_event("x", "store100", "Table 2", now_ms_),
                                        beacon_event("b", "store100", "Table 3", now_ms_)};
  const auto written = writer_.write(batch, now_ms_);
  ASSERT_TRUE(written) << written.error().message;
  ASSERT_EQ(written->rejected.size(), 1u);
  EXPECT_EQ(written->rejected[0].index, 1u);
  EXPECT_TRUE(written->rejected[0].reason.starts_with("WRONGTYPE")) << written->rejected[0].reason;
  EXPECT_EQ(written->customers_written, 2u);

  EXPECT_EQ(integer(redis_, {"EXISTS", "customer:a", "customer:b"}), 2);
  const RedisReply text = testing::run(redis_, {"GET", "customer:x"});
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(reply_text(*text), "not a hash");
  EXPECT_FALSE(testing::sorted_set(redis_, "store:store100:present").contains("x"));
}

// An event of a customer with a newer one later in the batch is still checked: a key of the
// wrong type rejects it, and its beacon is not written, as when it is a batch of its own.
TEST_F(RedisWriterFailureTest, AWrongTypeKeyRejectsAnEventEvenWhenANewerOneOfItsCustomerFollows) {
  ASSERT_TRUE(redis_.command({"SET", "store:storeB:present", "not a sorted set"}));
  SinkEvent older = beacon_event("c1", "storeB", "Table 1", now_ms_ - 2000);
  older.beacon_id = "bc0c82d4-d881-5fe0-a68c-3ed7c3562701";
  SinkEvent newer = beacon_event("c1", "storeA", "Table 2", now_ms_ - 1000);
  newer.beacon_id = "bc0c82d4-d881-5fe0-a68c-3ed7c3562702";
  const auto written = writer_.write(std::vector<SinkEvent>{older, newer}, now_ms_);
  ASSERT_TRUE(written) << written.error().message;
  ASSERT_EQ(written->rejected.size(), 1u);
  EXPECT_EQ(written->rejected[0].index, 0u);
  EXPECT_TRUE(written->rejected[0].reason.starts_with("WRONGTYPE")) << written->rejected[0].reason;
  EXPECT_EQ(written->customers_written, 1u);
  EXPECT_EQ(written->beacons_written, 1u);
  EXPECT_EQ(integer(redis_, {"EXISTS", "beacon:" + *older.beacon_id}), 0);
  EXPECT_EQ(hash(redis_, "beacon:" + *newer.beacon_id).at("location"), "Table 2");
  EXPECT_EQ(hash(redis_, "customer:c1").at("location"), "Table 2");
}

// An erasure time that is not a number (written by something other than the sinks) makes the
// script fail as a whole, whichever event of its chunk it belongs to: the chunk is run again one
// event per call, and only that customer's event is rejected.
TEST_F(RedisWriterFailureTest, AChunkTheScriptFailsAsAWholeIsRetriedOneEventPerCall) {
  ASSERT_TRUE(redis_.command({"HSET", "tastesync:forgotten", customer_hash("x"), "yesterday"}));
  const std::vector<SinkEvent> batch = {beacon_event("a", "store100", "Table 1", now_ms_),
                                        beacon_event("x", "store100", "Table 2", now_ms_),
                                        beacon_event("b", "store100", "Table 3", now_ms_)};
  const auto written = writer_.write(batch, now_ms_);
  ASSERT_TRUE(written) << written.error().message;
  ASSERT_EQ(written->rejected.size(), 1u);
  EXPECT_EQ(written->rejected[0].index, 1u);
  EXPECT_NE(written->rejected[0].reason.find("user_script"), std::string::npos)
      << written->rejected[0].reason;
  // "a" was written by the chunk before it failed, so its retry counts nothing: the counts are
  // what the last call of each event changed.
  EXPECT_EQ(written->customers_written, 1u);
  EXPECT_EQ(hash(redis_, "customer:a").at("location"), "Table 1");
  EXPECT_EQ(hash(redis_, "customer:b").at("location"), "Table 3");
  EXPECT_EQ(integer(redis_, {"EXISTS", "customer:x"}), 0);
}

TEST_F(RedisWriterFailureTest, ReadOnlyServerFailsTheWholeBatchInsteadOfRejectingEvents) {
  // A replica of a server that does not exist: up, answering, and refusing every write.
  ASSERT_TRUE(redis_.command({"REPLICAOF", "127.0.0.1", "1"}));
  const std::vector<SinkEvent> batch = {qr_event("a", "store100", "Counter", now_ms_)};
  const auto failed = writer_.write(batch, now_ms_);
  ASSERT_FALSE(failed) << "READONLY is the server's state, not the event's fault";
  EXPECT_NE(failed.error().message.find("READONLY"), std::string::npos) << failed.error().message;

  ASSERT_TRUE(redis_.command({"REPLICAOF", "NO", "ONE"}));
  const auto retried = writer_.write(batch, now_ms_);
  ASSERT_TRUE(retried) << retried.error().message;
  EXPECT_EQ(retried->customers_written, 1u);
}

TEST_F(RedisWriterFailureTest, ThousandEventsAreWrittenInOneCall) {
  std::vector<SinkEvent> batch;
  batch.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    batch.push_back(beacon_event("cust" + std::to_string(i), "store100", "Table 3", now_ms_ - i));
  }
  const auto written = writer_.write(batch, now_ms_);
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_TRUE(written->rejected.empty());
  EXPECT_EQ(written->customers_written, 1000u);
  EXPECT_EQ(written->present_written, 1000u);
  EXPECT_EQ(written->beacons_written, 1u) << "the newest event is first; older ones do not rewrite";
  EXPECT_EQ(integer(redis_, {"ZCARD", "store:store100:present"}), 1000);
  EXPECT_EQ(integer(redis_, {"DBSIZE"}), 1000 + 2);
}

TEST_F(RedisWriterFailureTest, EmptyBatchNeedsNoServer) {
  server_.stop();
  const auto written = writer_.write({}, now_ms_);
  ASSERT_TRUE(written);
  EXPECT_TRUE(written->rejected.empty());
}

}  // namespace
}  // namespace tastesync
