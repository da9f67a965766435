#include "kafka/dead_letter.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tastesync {
namespace {

constexpr std::size_t kMax = 1000000;  // librdkafka's default message.max.bytes

std::vector<Header> dlq_headers() {
  return {{"dlq.error.code", "invalid_json"},
          {"dlq.error.message", "not JSON"},
          {"dlq.source.topic", "raw-beacons"},
          {"dlq.source.partition", "3"},
          {"dlq.source.offset", "42"}};
}

const Header* find(const DeadLetter& letter, std::string_view name) {
  for (const Header& header : letter.headers) {
    if (header.name == name) return &header;
  }
  return nullptr;
}

std::string value_of(const DeadLetter& letter, std::string_view name) {
  const Header* header = find(letter, name);
  return header != nullptr && header->value ? *header->value : "<absent>";
}

TEST(DeadLetter, ARecordThatFitsIsKeptWholeWithNoSizeHeaders) {
  RecordBytes original{"cust1", std::string_view("{bad"), {{"trace", "abc"}, {"empty", {}}}};
  const DeadLetter letter = make_dead_letter(original, dlq_headers(), kMax);
  EXPECT_EQ(letter.key, "cust1");
  EXPECT_EQ(letter.value, "{bad");
  ASSERT_GE(letter.headers.size(), 2u);
  EXPECT_EQ(letter.headers[0].name, "trace");
  EXPECT_EQ(letter.headers[1].name, "empty");
  EXPECT_FALSE(letter.headers[1].value.has_value()) << "a null header value stays null";
  EXPECT_EQ(value_of(letter, "dlq.error.code"), "invalid_json");
  EXPECT_EQ(find(letter, "dlq.truncated"), nullptr);
}

TEST(DeadLetter, NullKeyAndValueStayNull) {
  const DeadLetter letter = make_dead_letter(RecordBytes{}, dlq_headers(), kMax);
  EXPECT_FALSE(letter.key.has_value());
  EXPECT_FALSE(letter.value.has_value());
}

TEST(DeadLetter, AOneMegabyteKeyIsCutToFitAndSaysSo) {
  const std::string key(1 << 20, 'k');
  RecordBytes original{key, std::string_view("{}"), {}};
  const DeadLetter letter = make_dead_letter(original, dlq_headers(), kMax);
  EXPECT_LE(letter.wire_bytes(), kMax);
  ASSERT_TRUE(letter.key.has_value());
  EXPECT_LT(letter.key->size(), key.size());
  EXPECT_GT(letter.key->size(), kMax / 2) << "cut only as much as needed";
  EXPECT_EQ(letter.value, "{}");
  EXPECT_EQ(value_of(letter, "dlq.truncated"), "key");
  EXPECT_EQ(value_of(letter, "dlq.original.key.bytes"), std::to_string(key.size()));
  EXPECT_EQ(value_of(letter, "dlq.original.value.bytes"), "2");
}

TEST(DeadLetter, KeyValueAndHeadersAllLargeAreCutFairly) {
  const std::string key(600000, 'k');
  const std::string value(600000, 'v');
  const std::string header_value(10 * 1024, 'h');
  RecordBytes original{key, std::string_view(value), {}};
  for (int i = 0; i < 100; ++i) original.headers.push_back({"h", header_value});
  const DeadLetter letter = make_dead_letter(original, dlq_headers(), kMax);
  EXPECT_LE(letter.wire_bytes(), kMax);
  EXPECT_EQ(value_of(letter, "dlq.truncated"), "key,value,headers");
  EXPECT_EQ(value_of(letter, "dlq.original.headers.count"), "100");
  // Max-min fair: each of the three gets about a third.
  EXPECT_GT(letter.key->size(), kMax / 4);
  EXPECT_GT(letter.value->size(), kMax / 4);
  EXPECT_EQ(letter.key->size(), letter.value->size());
  EXPECT_EQ(value_of(letter, "dlq.error.code"), "invalid_json") << "dlq.* headers always kept";
}

TEST(DeadLetter, AValueOneByteOverTheLimitIsCutByLittle) {
  const std::string value(kMax, 'v');
  RecordBytes original{"c", std::string_view(value), {}};
  const DeadLetter letter = make_dead_letter(original, dlq_headers(), kMax);
  EXPECT_LE(letter.wire_bytes(), kMax);
  EXPECT_GT(letter.value->size(), kMax - 4096);
  EXPECT_EQ(value_of(letter, "dlq.truncated"), "value");
  EXPECT_EQ(letter.key, "c");
}

TEST(DeadLetter, MetadataOnlyKeepsTheDlqHeadersAndTheOriginalSizes) {
  const std::string value(5000, 'v');
  RecordBytes original{"cust", std::string_view(value), {{"trace", "abc"}}};
  const DeadLetter whole = make_dead_letter(original, dlq_headers(), kMax);
  const DeadLetter bare = metadata_only(whole);
  EXPECT_FALSE(bare.key.has_value());
  EXPECT_FALSE(bare.value.has_value());
  EXPECT_EQ(find(bare, "trace"), nullptr);
  EXPECT_EQ(value_of(bare, "dlq.error.code"), "invalid_json");
  EXPECT_EQ(value_of(bare, "dlq.source.offset"), "42");
  EXPECT_EQ(value_of(bare, "dlq.truncated"), "key,value,headers");
  EXPECT_EQ(value_of(bare, "dlq.original.key.bytes"), "4");
  EXPECT_EQ(value_of(bare, "dlq.original.value.bytes"), "5000");
  EXPECT_EQ(value_of(bare, "dlq.original.headers.count"), "1");
}

TEST(DeadLetter, MetadataOnlyOfACutLetterKeepsTheOriginalsSizesNotTheCutOnes) {
  const std::string key(2 << 20, 'k');
  const DeadLetter cut = make_dead_letter(RecordBytes{key, {}, {}}, dlq_headers(), kMax);
  const DeadLetter bare = metadata_only(cut);
  EXPECT_EQ(value_of(bare, "dlq.original.key.bytes"), std::to_string(key.size()));
  EXPECT_EQ(find(bare, "dlq.original.value.bytes"), nullptr) << "the value was null";
  int truncated_headers = 0;
  for (const Header& header : bare.headers) truncated_headers += header.name == "dlq.truncated";
  EXPECT_EQ(truncated_headers, 1);
}

TEST(DeadLetter, AnOriginalHeaderInTheDlqNamespaceIsKeptUnderAnotherName) {
  const std::string large(900000, 'x');
  RecordBytes original{"c",
                       std::string_view("{bad"),
                       {{"dlq.truncated", "value"}, {"dlq.x", std::string_view(large)}}};
  const DeadLetter letter = make_dead_letter(original, dlq_headers(), kMax);
  EXPECT_EQ(value_of(letter, "original.dlq.truncated"), "value");
  EXPECT_EQ(find(letter, "dlq.truncated"), nullptr) << "the letter itself was not cut";
  EXPECT_EQ(value_of(letter, "original.dlq.x").size(), large.size());
  // Its metadata-only form keeps nothing of them: it always fits.
  const DeadLetter bare = metadata_only(letter);
  EXPECT_LT(bare.wire_bytes(), 4096u);
  EXPECT_EQ(value_of(bare, "dlq.original.headers.count"), "2");
  EXPECT_EQ(value_of(bare, "dlq.original.value.bytes"), "4");
}

TEST(DeadLetter, NothingFitsASmallLimitButTheDlqHeaders) {
  const std::string value(100000, 'v');
  const DeadLetter letter =
      make_dead_letter(RecordBytes{"c", std::string_view(value), {}}, dlq_headers(), 4096);
  EXPECT_LE(letter.wire_bytes(), 4096u);
  EXPECT_EQ(value_of(letter, "dlq.error.code"), "invalid_json");
}

TEST(DeadLetter, ReasonsAreBoundedAtACharacterBoundary) {
  std::string reason(kMaxDeadLetterReasonBytes - 1, 'a');
  reason += "\xC3\xA9";  // é straddles the limit
  reason += std::string(100, 'b');
  const std::string bounded = bounded_reason(reason);
  EXPECT_EQ(bounded.size(), kMaxDeadLetterReasonBytes - 1);
  EXPECT_EQ(bounded_reason("short"), "short");
}

TEST(DeadLetter, MaxMessageBytesComesFromTheProducerProperties) {
  EXPECT_EQ(max_message_bytes({}), 1000000u);
  EXPECT_EQ(max_message_bytes({{"message.max.bytes", "200000"}}), 200000u);
}

}  // namespace
}  // namespace tastesync
