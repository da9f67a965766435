// Nothing a producer sends can stop, blind or exhaust the pipeline (docs/design.md, "Time that
// cannot be hijacked", "Bounded memory", "Dead letters that always fit"). Each test sends
// hostile records through the real librdkafka client to the dev broker, then normal sightings
// that must be identified exactly as if the hostile records had never come: the same events as
// the stages give for the normal records alone. Every hostile record must be in the DLQ with its
// code, or counted where the drops table of docs/contract.md#shape says drop.
#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <set>

#include "common/clock.hpp"
#include "config/topology_options.hpp"
#include "tests/support/broker_test.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_get.hpp"

namespace tastesync::testing {
namespace {

constexpr std::int64_t kBaseMs = 1740916800000;  // 2025-03-02T12:00:00.000Z
constexpr std::int64_t kYear2099Ms = 4070908800000;
constexpr int kPartitions = 6;
constexpr const char* kGroup = "tastesync-it";

OutgoingRecord sighting_record(const BeaconSighting& sighting) {
  return OutgoingRecord{.key = sighting.customer_id,
                        .value = to_json(sighting),
                        .timestamp_ms = epoch_ms(sighting.detected_at) + 50};
}

// Eight customers each arriving at Table 3 and moving to Table 4, one reading a second,
// interleaved: arrivals and moves in every partition they land in.
std::vector<OutgoingRecord> normal_records() {
  std::vector<OutgoingRecord> records;
  for (int j = 0; j < 30; ++j) {
    for (int i = 0; i < 8; ++i) {
      records.push_back(sighting_record(
          BeaconSighting{.sighting_id = "normal-" + std::to_string(i) + "-" + std::to_string(j),
                         .customer_id = "normal-" + std::to_string(i),
                         .minor = j < 8 ? 13 : 14,
                         .rssi_dbm = -50,
                         .detected_at = canonical_time(kBaseMs + 60000 + j * 1000 + i * 10)}));
    }
  }
  return records;
}

// An event without the one field a rerun may change (its `timestamp`, the wall clock).
std::string without_timestamp(const std::optional<std::string>& value) {
  rapidjson::Document document = parse_json(value);
  if (document.HasParseError() || !document.IsObject()) return "<not JSON>";
  document.RemoveMember("timestamp");
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  document.Accept(writer);
  return buffer.GetString();
}

// What the stages alone make of `records` (keyed by murmur2 into partitions, as the producer
// does): event id -> event without its timestamp.
std::map<std::string, std::string> events_of_stages(const std::vector<OutgoingRecord>& records) {
  auto registry = Registry::from_json(read_file(fixtures_dir() / "registry.json")).value();
  Topology topology(std::move(registry), topology_options(Config{}));
  std::vector<PartitionState> partitions(kPartitions);
  std::vector<std::int64_t> offsets(kPartitions, 0);
  std::map<std::string, std::string> events;
  for (const OutgoingRecord& record : records) {
    const auto p = static_cast<std::size_t>(murmur2_partition(*record.key, kPartitions));
    const RecordView view{*record.key, *record.value, record.timestamp_ms, offsets[p]++};
    const Outcome outcome = topology.process(view, partitions[p], wall_clock_ms());
    if (outcome.kind == Outcome::Kind::event) {
      events[std::string(outcome.event_id)] = without_timestamp(std::string(outcome.event_value));
    }
  }
  return events;
}

// What one hostile record must come to.
struct Hostile {
  OutgoingRecord record;
  std::string dlq_code;  // "" when it is not a dead letter (accepted, or dropped and counted)
};

class HostileInput : public BrokerTest {
 protected:
  // Sends `hostile`, then the normal records; checks the normal customers' events against the
  // stages' and every expected dead letter; returns the dead letters of the hostile records in
  // their order (null where none was expected).
  std::vector<std::optional<Record>> send_and_check(const std::vector<Hostile>& hostile,
                                                    const Environment& environment = {}) {
    start_broker();
    metrics_port_ = free_loopback_port();
    PipelineOptions options = pipeline_options("pipeline", "main");
    options.environment = environment;
    options.extra_arguments = {"--metrics-port", std::to_string(metrics_port_)};
    pipeline_ = start_pipeline(options);

    std::vector<OutgoingRecord> hostile_records;
    for (const Hostile& h : hostile) hostile_records.push_back(h.record);
    const std::vector<Delivery> hostile_deliveries =
        producer().produce_all("raw-beacons", hostile_records);
    const std::vector<OutgoingRecord> normal = normal_records();
    producer().produce_all("raw-beacons", normal);
    wait_caught_up(kGroup, "raw-beacons", *pipeline_);
    EXPECT_TRUE(pipeline_->process().running()) << "the pipeline stopped";

    // The normal customers: exactly the stages' events for the normal records alone.
    const std::map<std::string, std::string> expected = events_of_stages(normal);
    EXPECT_GE(expected.size(), 16u) << "an arrival and a move per customer";
    std::map<std::string, std::string> actual;
    for (const Record& event : read_all("customer-events")) {
      if (!event.key || !event.key->starts_with("normal-")) continue;
      actual[event.header_text("event_id")] = without_timestamp(event.value);
    }
    EXPECT_EQ(actual, expected);

    // Every hostile record the DLQ should hold, by its source offset, with its code.
    const std::vector<Record> dead_letters = read_all("raw-beacons-dlq");
    std::vector<std::optional<Record>> found(hostile.size());
    for (std::size_t i = 0; i < hostile.size(); ++i) {
      const Delivery& delivery = hostile_deliveries[i];
      for (const Record& letter : dead_letters) {
        if (letter.header_text("dlq.source.partition") == std::to_string(delivery.partition) &&
            letter.header_text("dlq.source.offset") == std::to_string(delivery.offset)) {
          found[i] = letter;
        }
      }
      if (hostile[i].dlq_code.empty()) {
        EXPECT_FALSE(found[i].has_value()) << "hostile record " << i << " is not a dead letter";
        continue;
      }
      if (!found[i]) {
        ADD_FAILURE() << "hostile record " << i << " (" << hostile[i].dlq_code
                      << ") is not in the DLQ";
        continue;
      }
      EXPECT_EQ(found[i]->header_text("dlq.error.code"), hostile[i].dlq_code) << "record " << i;
      std::size_t bytes = found[i]->value.value_or("").size() + found[i]->key.value_or("").size();
      for (const Header& header : found[i]->headers) {
        bytes += header.name.size() + header.value.value_or("").size();
      }
      EXPECT_LE(bytes, 1000000u) << "the dead letter of record " << i << " is too large";
    }
    return found;
  }

  std::optional<double> metric(const std::string& series) const {
    const auto page = http_get(metrics_port_, "/metrics");
    return page ? metric_value(*page, series) : std::nullopt;
  }

  std::unique_ptr<PipelineProcess> pipeline_;
  int metrics_port_ = 0;
};

OutgoingRecord valid(const std::string& customer, const std::string& sighting_id) {
  return sighting_record(BeaconSighting{.sighting_id = sighting_id,
                                        .customer_id = customer,
                                        .minor = 11,
                                        .detected_at = canonical_time(kBaseMs)});
}

TEST_F(HostileInput, OneMegabyteKeysGoToTheDlqCutToFitAndStopNothing) {
  const std::string key(1 << 20, 'k');
  OutgoingRecord huge_key = valid("someone", "huge-key");
  huge_key.key = key;  // not the body's customer_id
  const auto found = send_and_check({{huge_key, "key_mismatch"}, {huge_key, "key_mismatch"}});
  ASSERT_TRUE(found[0].has_value());
  EXPECT_EQ(found[0]->header_text("dlq.truncated"), "key");
  EXPECT_EQ(found[0]->header_text("dlq.original.key.bytes"), std::to_string(key.size()));
  ASSERT_TRUE(found[0]->key.has_value());
  EXPECT_TRUE(key.starts_with(*found[0]->key));
  EXPECT_EQ(found[0]->value, huge_key.value) << "the value fits: kept whole";
}

TEST_F(HostileInput, AHundredHeadersOfTenKilobytesAreCutFromTheDeadLetterAndIgnoredOtherwise) {
  std::vector<Header> headers;
  for (int i = 0; i < 100; ++i)
    headers.push_back({"h" + std::to_string(i), std::string(10240, 'h')});
  OutgoingRecord broken{
      .key = "heavy", .value = "{not json", .headers = headers, .timestamp_ms = kBaseMs};
  OutgoingRecord fine = valid("heavy-but-valid", "heavy-1");
  fine.headers = headers;
  const auto found = send_and_check({{broken, "invalid_json"}, {fine, ""}});
  ASSERT_TRUE(found[0].has_value());
  EXPECT_EQ(found[0]->value, std::optional<std::string>("{not json"));
  EXPECT_EQ(found[0]->header_text("dlq.original.headers.count"), "100");
  // 100 x 10 KiB is more than message.max.bytes: the last headers are dropped.
  EXPECT_EQ(found[0]->header_text("dlq.truncated"), "headers");
  const auto originals_kept =
      std::count_if(found[0]->headers.begin(), found[0]->headers.end(),
                    [](const Header& header) { return !header.name.starts_with("dlq."); });
  EXPECT_GT(originals_kept, 50);
  EXPECT_LT(originals_kept, 100);
  EXPECT_EQ(found[0]->headers.front().name, "h0") << "original headers first, in order";
}

TEST_F(HostileInput, ValuesAtTheSizeLimitPassAndOneByteOverAreTooLarge) {
  // parse.max_record_bytes is 4096: a valid sighting padded to exactly that, and one byte more.
  OutgoingRecord at_limit = valid("at-limit", "limit-1");
  at_limit.value->insert(
      at_limit.value->size() - 1,
      R"(,"pad":")" + std::string(4096 - at_limit.value->size() - 9, 'p') + R"(")");
  ASSERT_EQ(at_limit.value->size(), 4096u);
  OutgoingRecord over = valid("over-limit", "limit-2");
  over.value->insert(over.value->size() - 1,
                     R"(,"pad":")" + std::string(4097 - over.value->size() - 9, 'p') + R"(")");
  ASSERT_EQ(over.value->size(), 4097u);
  // And one at Kafka's size limit for the pipeline's producer: its dead letter cannot carry it
  // whole with the dlq.* headers.
  OutgoingRecord at_kafka_limit{
      .key = "kafka-limit", .value = std::string(999900, 'x'), .timestamp_ms = kBaseMs};
  const auto found =
      send_and_check({{at_limit, ""}, {over, "too_large"}, {at_kafka_limit, "too_large"}});
  EXPECT_EQ(found[1]->value, over.value) << "a 4097-byte dead letter fits: kept whole";
  ASSERT_TRUE(found[2].has_value());
  EXPECT_EQ(found[2]->header_text("dlq.truncated"), "value");
  EXPECT_EQ(found[2]->header_text("dlq.original.value.bytes"), "999900");
  const std::vector<Record> events = read_all("customer-events");
  const auto at_limit_events = std::count_if(events.begin(), events.end(), [](const Record& event) {
    return event.key == std::optional<std::string>("at-limit");
  });
  EXPECT_EQ(at_limit_events, 1) << "exactly at the limit is a sighting like any other";
}

TEST_F(HostileInput, NullKeysAndValuesAreDeadLettersThatStayNull) {
  OutgoingRecord null_key = valid("null-key-customer", "null-1");
  null_key.key.reset();
  const OutgoingRecord null_value{.key = "null-value", .timestamp_ms = kBaseMs};
  const OutgoingRecord both_null{.timestamp_ms = kBaseMs};
  const auto found = send_and_check(
      {{null_key, "key_mismatch"}, {null_value, "invalid_json"}, {both_null, "invalid_json"}});
  ASSERT_TRUE(found[2].has_value());
  EXPECT_FALSE(found[2]->key.has_value());
  EXPECT_FALSE(found[2]->value.has_value());
  ASSERT_TRUE(found[1].has_value());
  EXPECT_FALSE(found[1]->value.has_value());
}

TEST_F(HostileInput, TimestampsFrom1970And2099AndDetectedAtFarAheadMoveNothing) {
  std::vector<Hostile> hostile;
  // Record timestamps in January 1970 (0 would mean "now" to librdkafka): detected_at is
  // decades after them.
  for (const std::int64_t timestamp : {std::int64_t{1}, std::int64_t{86400000}}) {
    OutgoingRecord record = valid("epoch", "epoch-" + std::to_string(timestamp));
    record.timestamp_ms = timestamp;
    hostile.push_back({record, "too_far_in_future"});
  }
  // Twenty records stamped 2099 in the normal customers' partitions (the first review's probe).
  for (int i = 0; i < 20; ++i) {
    OutgoingRecord record =
        sighting_record(BeaconSighting{.sighting_id = "future-" + std::to_string(i),
                                       .customer_id = "normal-" + std::to_string(i % 8),
                                       .minor = 13,
                                       .detected_at = canonical_time(kYear2099Ms + i)});
    hostile.push_back({record, "too_far_in_future"});
  }
  // detected_at a day ahead of its record's timestamp (parse allows five minutes).
  OutgoingRecord ahead = sighting_record(BeaconSighting{
      .sighting_id = "ahead-1", .customer_id = "ahead", .detected_at = canonical_time(kBaseMs)});
  ahead.timestamp_ms = kBaseMs - 24 * 3600 * 1000 + 1;
  hostile.push_back({ahead, "too_far_in_future"});
  send_and_check(hostile);
  // They moved no watermark: nothing normal was late.
  EXPECT_EQ(metric(R"(tastesync_drops_total{reason="beyond_lateness"})"), 0.0);
  EXPECT_EQ(metric(R"(tastesync_dlq_total{code="too_far_in_future"})"),
            static_cast<double>(hostile.size()));
}

TEST_F(HostileInput, InvalidUtf8InKeysAndHeaderValuesIsKeptByteForByte) {
  OutgoingRecord bad_key = valid("utf8", "utf8-1");
  bad_key.key = std::string("\xff\xfe\xc3\x28", 4);
  OutgoingRecord bad_header{.key = "utf8-header",
                            .value = "{broken",
                            .headers = {{"trace", std::string("\xc3\x28\xa0\xa1", 4)}},
                            .timestamp_ms = kBaseMs};
  const auto found = send_and_check({{bad_key, "key_mismatch"}, {bad_header, "invalid_json"}});
  ASSERT_TRUE(found[0].has_value());
  EXPECT_EQ(found[0]->key, bad_key.key);
  ASSERT_TRUE(found[1].has_value());
  EXPECT_EQ(found[1]->header_text("trace"), std::string("\xc3\x28\xa0\xa1", 4));
}

TEST_F(HostileInput, AHundredThousandInventedCustomersAreForgottenNotHeldForever) {
  // Valid sightings of a registered beacon, each from a customer nobody else will ever name
  // (weak ones: they create state, and are counted as drops rather than identified).
  std::vector<Hostile> hostile;
  hostile.reserve(100000);
  for (int i = 0; i < 100000; ++i) {
    OutgoingRecord record =
        sighting_record(BeaconSighting{.sighting_id = "x" + std::to_string(i),
                                       .customer_id = "invented-" + std::to_string(i),
                                       .minor = 11,
                                       .rssi_dbm = -97,
                                       .detected_at = canonical_time(kBaseMs + i / 10)});
    hostile.push_back({std::move(record), ""});
  }
  send_and_check(hostile, {{"TASTESYNC_STATE__MAX_CUSTOMERS_PER_PARTITION", "2000"}});
  const auto evicted = metric("tastesync_state_evicted_customers_total");
  ASSERT_TRUE(evicted.has_value());
  // 100 000 over 6 partitions with 2 000 each: all but the last ~12 000 are forgotten.
  EXPECT_GE(*evicted, 85000.0);
  // Memory holds the live ones (the gauge follows once a second).
  EXPECT_TRUE(wait_until(
      [&] {
        const auto customers = metric("tastesync_state_customers");
        return customers && *customers <= 6 * 2000.0 + 8;
      },
      std::chrono::seconds(30)))
      << metric("tastesync_state_customers").value_or(-1);
  const auto consumed = metric("tastesync_records_consumed_total");
  ASSERT_TRUE(consumed.has_value());
  EXPECT_GE(*consumed, 100000.0 + 96);
}

}  // namespace
}  // namespace tastesync::testing
