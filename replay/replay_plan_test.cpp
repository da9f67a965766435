// Which records a replay feeds and emits, its --warmup durations and what it prints
// (docs/operations.md#replay).
#include "replay/replay_plan.hpp"

#include <gtest/gtest.h>

namespace tastesync {
namespace {

using Role = ReplayRange::Role;

TEST(ReplayRange, FromTheBeginningEverythingUpToTheEndIsEmitted) {
  ReplayRange range;
  EXPECT_EQ(range.role_of(0), Role::emit);
  EXPECT_EQ(range.role_of(std::nullopt), Role::emit);  // the stages dead-letter it
  range.to_ms = 1000;
  EXPECT_EQ(range.role_of(999), Role::emit);
  EXPECT_EQ(range.role_of(1000), Role::skip);  // the end is exclusive
  EXPECT_FALSE(range.feed_from_ms());
}

TEST(ReplayRange, BeforeTheRangeTheWarmupFeedsTheStateOnly) {
  const ReplayRange range{.from_ms = 10000, .to_ms = 20000, .warmup_ms = 3000};
  EXPECT_EQ(range.feed_from_ms(), 7000);
  EXPECT_EQ(range.role_of(6999), Role::skip);
  EXPECT_EQ(range.role_of(7000), Role::warmup);
  EXPECT_EQ(range.role_of(9999), Role::warmup);
  EXPECT_EQ(range.role_of(10000), Role::emit);
  EXPECT_EQ(range.role_of(19999), Role::emit);
  EXPECT_EQ(range.role_of(20000), Role::skip);
  // No timestamp: older than any, so outside a range that starts somewhere.
  EXPECT_EQ(range.role_of(std::nullopt), Role::skip);
}

TEST(ReplayDuration, UnitsFromMillisecondsToDays) {
  EXPECT_EQ(parse_duration_ms("500"), 500);
  EXPECT_EQ(parse_duration_ms("500ms"), 500);
  EXPECT_EQ(parse_duration_ms("90s"), 90000);
  EXPECT_EQ(parse_duration_ms("15m"), 900000);
  EXPECT_EQ(parse_duration_ms("1h"), 3600000);
  EXPECT_EQ(parse_duration_ms("2d"), 172800000);
  EXPECT_EQ(parse_duration_ms("0s"), 0);
  for (const char* bad :
       {"", "h", "-1s", "1.5h", "1 h", "1hh", "1w", "99999999999999d", "9999999999999999999999"}) {
    EXPECT_FALSE(parse_duration_ms(bad)) << bad;
  }
}

TEST(ReplaySummary, OneJsonLineWithTheCountsTheIssueNames) {
  ReplaySummary summary;
  summary.records_read = 1200;
  summary.events = 40;
  summary.dlq = 3;
  summary.dropped[static_cast<std::size_t>(DropReason::duplicate)] = 7;
  summary.erasures = 2;
  summary.seconds = 2.0;
  summary.output_topic = "replayed";
  summary.dlq_topic = "replayed-dlq";
  const std::string json = summary.to_json();
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_EQ(json.rfind("{\"records_read\":1200,\"events\":40,\"dlq\":3,\"dropped\":{", 0), 0u)
      << json;
  EXPECT_NE(json.find("\"duplicate\":7"), std::string::npos) << json;
  EXPECT_NE(json.find("\"erasures\":2"), std::string::npos) << json;
  EXPECT_NE(json.find("\"records_per_s\":600"), std::string::npos) << json;
  EXPECT_NE(json.find("\"dry_run\":false"), std::string::npos) << json;
}

TEST(ReplayProgress, SaysWhereInTheRangeAndHowLongIsLeft) {
  EXPECT_EQ(progress_line(500, 2000, 1.0),
            "replay: 500 of 2000 records (25.0 %), 500 records/s, about 3 s left");
  EXPECT_EQ(progress_line(0, 0, 0.0), "replay: 0 of 0 records (100.0 %), 0 records/s");
}

}  // namespace
}  // namespace tastesync
