// ParseAhead (docs/design.md#parse-ahead): whoever parses a record, the pipeline thread sees the
// parse an inline SightingParser gives, for every record of every batch, however the two threads'
// speeds compare.
#include "pipeline/parse_ahead.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace tastesync {
namespace {

constexpr std::size_t kMaxBatch = 1000;

// A sighting value (valid, or broken in one of several ways, some with escapes the parser
// unescapes into its own buffer) and the record around it.
struct TestRecord {
  std::string key;
  std::string value;
  RecordView view() const {
    RecordView record;
    record.key = key;
    record.value = value;
    record.timestamp_ms = 1740916800500;  // 2025-03-02T12:00:00.500Z
    return record;
  }
};

TestRecord test_record(int n) {
  const std::string customer = "cust-" + std::to_string(n % 97);
  const std::string number = std::to_string(n);
  std::string value;
  if (n % 4 == 1) {
    value = R"({"sighting_id": "q-)" + number + R"(", "customer_id": ")" + customer +
            R"(", "source": "qr", "qr": {"code": "TS-store100-T)" + std::to_string(n % 9) +
            R"("}, "detected_at": "2025-03-02T12:00:00.123Z"})";
  } else {
    // An escape in the platform: the parser unescapes it into a buffer of its own.
    value = R"({"sighting_id": "s-)" + number + R"(", "customer_id": ")" + customer +
            R"(", "source": "beacon", "beacon": {"uuid": "550e8400-e29b-41d4-a716-446655440000", )"
            R"("major": 100, "minor": )" +
            std::to_string(n % 5) + R"(, "rssi": -)" + std::to_string(40 + n % 50) +
            R"(, "tx_power": -59}, "detected_at": "2025-03-02T12:00:00.123Z", )"
            R"("device": {"platform": "i\u006fs"}})";
  }
  switch (n % 11) {
    case 3:
      value = value.substr(0, value.size() / 2);  // cut: invalid JSON
      break;
    case 7:
      value.replace(value.find("cust-"), 5, "other-");  // key_mismatch
      break;
    default:
      break;
  }
  return {customer, value};
}

void expect_same(const Result<Sighting, ParseError>& got, const Result<Sighting, ParseError>& want,
                 int n) {
  ASSERT_EQ(got.ok(), want.ok()) << "record " << n;
  if (!want.ok()) {
    EXPECT_EQ(got.error().code, want.error().code) << "record " << n;
    EXPECT_EQ(got.error().message, want.error().message) << "record " << n;
    return;
  }
  EXPECT_EQ(got->sighting_id, want->sighting_id) << "record " << n;
  EXPECT_EQ(got->customer_id, want->customer_id) << "record " << n;
  EXPECT_EQ(got->source, want->source) << "record " << n;
  EXPECT_EQ(got->beacon.uuid, want->beacon.uuid) << "record " << n;
  EXPECT_EQ(got->beacon.major, want->beacon.major) << "record " << n;
  EXPECT_EQ(got->beacon.minor, want->beacon.minor) << "record " << n;
  EXPECT_EQ(got->beacon.rssi_dbm, want->beacon.rssi_dbm) << "record " << n;
  EXPECT_EQ(got->beacon.tx_power_dbm, want->beacon.tx_power_dbm) << "record " << n;
  EXPECT_EQ(got->qr_code, want->qr_code) << "record " << n;
  EXPECT_EQ(got->detected_at_ms, want->detected_at_ms) << "record " << n;
  EXPECT_EQ(got->platform, want->platform) << "record " << n;
  EXPECT_EQ(got->sighting_id_hash, want->sighting_id_hash) << "record " << n;
  EXPECT_EQ(got->customer_id_hash, want->customer_id_hash) << "record " << n;
}

// Runs `batches` batches of `size` records through a ParseAhead, the pipeline thread spending
// `per_record` on each record after its parse (slower than the helper: it takes most of the
// batch; zero: the two meet near the middle), and checks every record against a reference parse.
void run_batches(int batches, std::size_t size, std::chrono::nanoseconds per_record,
                 std::uint64_t* parsed_ahead = nullptr) {
  int valid = 0;
  int refused = 0;
  ParseAhead ahead(ParseOptions{}, kMaxBatch);
  SightingParser own;  // the pipeline thread's, for the records it claims
  SightingParser reference;
  int n = 0;
  for (int b = 0; b < batches; ++b) {
    std::vector<TestRecord> records;
    std::vector<RecordView> views;
    std::vector<std::uint8_t> parse;
    for (std::size_t i = 0; i < size; ++i) records.push_back(test_record(n + static_cast<int>(i)));
    for (std::size_t i = 0; i < size; ++i) {
      views.push_back(records[i].view());
      parse.push_back(i % 13 == 5 ? 0 : 1);  // as a consumer error or an erasure request would be
    }
    const ParseAhead::Batch batch = ahead.start(views, parse);
    for (std::size_t i = 0; i < size; ++i, ++n) {
      if (parse[i] == 0) continue;
      const Result<Sighting, ParseError>* taken = ahead.take(i);
      // The reference parser's views last until its next parse: compare before that.
      if (taken != nullptr) {
        (taken->ok() ? valid : refused) += 1;
        expect_same(*taken, reference.parse(views[i]), n);
      } else {
        const auto inline_parse = own.parse(views[i]);
        (inline_parse.ok() ? valid : refused) += 1;
        expect_same(inline_parse, reference.parse(views[i]), n);
      }
      if (per_record.count() > 0) {
        const auto until = std::chrono::steady_clock::now() + per_record;
        while (std::chrono::steady_clock::now() < until) {
        }
      }
    }
  }
  // Both kinds went through: a parse that refused everything would compare equal too.
  if (size >= 11) {
    EXPECT_GT(valid, refused);
    EXPECT_GT(refused, 0);
  }
  if (parsed_ahead != nullptr) *parsed_ahead = ahead.parsed_ahead();
}

TEST(ParseAhead, EveryRecordIsParsedAsInlineWhenThePipelineThreadIsSlower) {
  std::uint64_t parsed_ahead = 0;
  run_batches(40, kMaxBatch, std::chrono::microseconds(5), &parsed_ahead);
  // The helper did some of the work (how much depends on the machine).
  EXPECT_GT(parsed_ahead, 0u);
}

TEST(ParseAhead, EveryRecordIsParsedAsInlineWhenBothRaceThroughTheBatch) {
  run_batches(100, kMaxBatch, std::chrono::nanoseconds(0));
}

TEST(ParseAhead, BatchesOfEverySizeUpToTheMaximum) {
  for (const std::size_t size : {std::size_t{1}, std::size_t{63}, std::size_t{64}, std::size_t{65},
                                 std::size_t{500}, kMaxBatch}) {
    run_batches(5, size, std::chrono::nanoseconds(0));
  }
}

// A batch the pipeline thread finishes before the helper woke costs it no wait, and a batch it
// abandons half-way (an exactly-once rewind) is let go of cleanly.
TEST(ParseAhead, ABatchLeftHalfTakenIsLetGoOf) {
  ParseAhead ahead(ParseOptions{}, kMaxBatch);
  std::vector<TestRecord> records;
  std::vector<RecordView> views;
  for (int i = 0; i < 200; ++i) records.push_back(test_record(i));
  for (const auto& record : records) views.push_back(record.view());
  const std::vector<std::uint8_t> parse(views.size(), 1);
  for (int round = 0; round < 50; ++round) {
    const ParseAhead::Batch batch = ahead.start(views, parse);
    for (std::size_t i = 0; i < 10; ++i) (void)ahead.take(i);
  }
  EXPECT_EQ(ahead.records_offered(), 50u * 200u);
}

TEST(ParseAhead, SmallBatchesStayOnThePipelineThread) {
  ParseAhead ahead(ParseOptions{}, kMaxBatch, 64);
  const TestRecord record = test_record(1);
  const std::vector<RecordView> views(10, record.view());
  const std::vector<std::uint8_t> parse(views.size(), 1);
  {
    const ParseAhead::Batch batch = ahead.start(views, parse);
    for (std::size_t i = 0; i < views.size(); ++i) EXPECT_EQ(ahead.take(i), nullptr);
  }
  EXPECT_EQ(ahead.parsed_ahead(), 0u);
  EXPECT_EQ(ahead.records_offered(), 0u);
}

TEST(ParseAhead, ABatchOverTheMaximumIsRefused) {
  ParseAhead ahead(ParseOptions{}, 4, 1);
  const std::vector<RecordView> views(5);
  const std::vector<std::uint8_t> parse(5, 1);
  EXPECT_THROW((void)ahead.start(views, parse), std::invalid_argument);
}

}  // namespace
}  // namespace tastesync
