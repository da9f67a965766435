#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/kafka.hpp"

namespace tastesync::testing {

// Unlike the product's KafkaHandle: the tests' readers and inspectors never joined a group, and
// some use a pipeline's group id to read its commits, so they must never close (commit) as a
// consumer. The other owners come from kafka/kafka.hpp.
struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* handle) const {
    rd_kafka_destroy_flags(handle, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;

struct Header {
  std::string name;
  std::optional<std::string> value;  // nullopt: a header with a null value
  bool operator==(const Header&) const = default;
};

struct Record {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::optional<std::string> key;    // nullopt: null key
  std::optional<std::string> value;  // nullopt: null value
  std::vector<Header> headers;
  std::int64_t timestamp_ms = -1;
  // The first header called `name`, or null when there is none.
  const Header* header(std::string_view name) const;
  // The value of the first header called `name`; "" when absent or null.
  std::string header_text(std::string_view name) const;
};

struct OutgoingRecord {
  std::optional<std::string> key{};
  std::optional<std::string> value{};
  std::vector<Header> headers{};
  std::optional<std::int64_t> timestamp_ms{};  // nullopt: the producer's clock
  std::optional<std::int32_t> partition{};     // nullopt: murmur2_random of the key
};

struct Delivery {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

// A producer configured as docs/contract.md#topics asks of every producer
// (partitioner=murmur2_random).
class TestProducer {
 public:
  explicit TestProducer(const std::string& brokers);
  // Produces one record and waits for its delivery report; throws when it fails.
  Delivery produce(const std::string& topic, const OutgoingRecord& record);
  // Produces them all (in order, pipelined) and waits for every delivery report.
  std::vector<Delivery> produce_all(const std::string& topic,
                                    const std::vector<OutgoingRecord>& records);

 private:
  KafkaHandle handle_;
};

// Reads every partition of a topic from its beginning (the log start offset, which the mock
// moves past 0 once a partition holds 5 MiB), keeping everything it has read.
class TopicReader {
 public:
  TopicReader(const std::string& brokers, std::string topic);

  // Reads until `done(records())` holds or `timeout` passes; returns whether it holds.
  bool read_until(const std::function<bool(const std::vector<Record>&)>& done,
                  std::chrono::milliseconds timeout);
  bool read_at_least(std::size_t count, std::chrono::milliseconds timeout);
  // Reads up to each partition's high watermark as of this call: everything written so far.
  // Throws when that takes longer than `timeout`.
  void read_to_end(std::chrono::milliseconds timeout = std::chrono::seconds(60));

  const std::vector<Record>& records() const { return records_; }

 private:
  void poll_once(int timeout_ms);

  std::string topic_;
  KafkaHandle consumer_;
  // Asks for the watermarks on connections of its own: on the consumer's, a ListOffsets request
  // waits behind the fetch the broker holds open on a quiet topic, up to fetch.wait.max.ms a
  // partition (docs/storage.md#sinks says the same of the sinks).
  KafkaHandle watermarks_;
  std::vector<std::int64_t> next_offset_;  // per partition: one past the last offset read
  std::vector<Record> records_;
};

// Metadata, watermarks and a group's committed offsets, read without joining any group.
class KafkaInspector {
 public:
  explicit KafkaInspector(std::string brokers);

  int partition_count(const std::string& topic);
  std::vector<std::int64_t> high_watermarks(const std::string& topic);
  std::vector<std::int64_t> low_watermarks(const std::string& topic);
  // The group's committed offset per partition (-1 where it has none).
  std::vector<std::int64_t> committed_offsets(const std::string& group_id,
                                              const std::string& topic);
  // Whether the group has committed every partition of `topic` up to its high watermark: all
  // of its input is processed and delivered (the commit trails delivery,
  // docs/contract.md#delivery).
  bool caught_up(const std::string& group_id, const std::string& topic);

 private:
  std::string brokers_;
  KafkaHandle producer_;
  std::map<std::string, KafkaHandle> group_consumers_;
};

// Records keyed by `(partition, offset)` order, as a reader of each partition sees them.
std::vector<Record> sorted_by_partition(std::vector<Record> records);

}  // namespace tastesync::testing
