#include "tests/support/kafka_client.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace tastesync::testing {
namespace {

constexpr int kMetadataTimeoutMs = 10000;

using tastesync::KafkaConf;
using tastesync::KafkaHeaders;
using tastesync::KafkaMetadata;
using tastesync::KafkaTopic;
using PartitionList = tastesync::TopicPartitionList;

KafkaConf make_conf(const std::map<std::string, std::string>& properties) {
  return tastesync::make_kafka_conf(properties, "test client");
}

KafkaHandle make_handle(rd_kafka_type_t type, KafkaConf conf) {
  return KafkaHandle(tastesync::make_kafka_handle(type, std::move(conf)).release());
}

// A consumer that only ever assigns: it never joins a group and never commits.
KafkaHandle make_assign_consumer(const std::string& brokers, const std::string& group_id) {
  KafkaHandle handle = make_handle(RD_KAFKA_CONSUMER, make_conf({{"bootstrap.servers", brokers},
                                                                 {"group.id", group_id},
                                                                 {"enable.auto.commit", "false"},
                                                                 {"enable.partition.eof", "false"},
                                                                 {"fetch.wait.max.ms", "100"},
                                                                 {"log_level", "3"}}));
  rd_kafka_poll_set_consumer(handle.get());
  return handle;
}

std::optional<std::string> copy_bytes(const void* data, std::size_t size) {
  if (data == nullptr) return std::nullopt;
  return std::string(static_cast<const char*>(data), size);
}

Record to_record(const rd_kafka_message_t& message) {
  Record record;
  record.topic = rd_kafka_topic_name(message.rkt);
  record.partition = message.partition;
  record.offset = message.offset;
  record.key = copy_bytes(message.key, message.key_len);
  record.value = copy_bytes(message.payload, message.len);
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  record.timestamp_ms = rd_kafka_message_timestamp(&message, &type);
  for (const tastesync::HeaderView& header : tastesync::record_bytes(message).headers) {
    record.headers.push_back(
        Header{std::string(header.name),
               header.value ? std::optional<std::string>(*header.value) : std::nullopt});
  }
  return record;
}

struct DeliveryReport {
  bool done = false;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
  Delivery delivery;
};

void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* /*opaque*/) {
  auto& report = *static_cast<DeliveryReport*>(message->_private);
  report.done = true;
  report.error = message->err;
  report.delivery = Delivery{message->partition, message->offset};
}

int partition_count_of(rd_kafka_t* handle, const std::string& topic) {
  const KafkaTopic topic_handle(rd_kafka_topic_new(handle, topic.c_str(), nullptr));
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(handle, 0, topic_handle.get(), &raw, kMetadataTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("metadata of " + topic + ": " + rd_kafka_err2str(err));
  }
  const KafkaMetadata metadata(raw);
  if (metadata->topic_cnt != 1 || metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("topic " + topic + " is not on the broker");
  }
  return metadata->topics[0].partition_cnt;
}

// Per partition: the log start offset (low) or the high watermark.
std::vector<std::int64_t> watermarks_of(rd_kafka_t* handle, const std::string& topic, bool high) {
  const int partitions = partition_count_of(handle, topic);
  std::vector<std::int64_t> offsets;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low_offset = -1;
    std::int64_t high_offset = -1;
    const auto err = rd_kafka_query_watermark_offsets(handle, topic.c_str(), p, &low_offset,
                                                      &high_offset, kMetadataTimeoutMs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("watermarks of " + topic + "[" + std::to_string(p) +
                               "]: " + rd_kafka_err2str(err));
    }
    offsets.push_back(high ? high_offset : low_offset);
  }
  return offsets;
}

}  // namespace

const Header* Record::header(std::string_view name) const {
  const auto found =
      std::find_if(headers.begin(), headers.end(), [&](const Header& h) { return h.name == name; });
  return found == headers.end() ? nullptr : &*found;
}

std::string Record::header_text(std::string_view name) const {
  const Header* found = header(name);
  return found != nullptr && found->value ? *found->value : std::string();
}

TestProducer::TestProducer(const std::string& brokers) {
  KafkaConf conf = make_conf({{"bootstrap.servers", brokers},
                              {"partitioner", "murmur2_random"},
                              {"enable.idempotence", "true"},
                              {"linger.ms", "0"},
                              // Hostile tests send records of several megabytes (the mock broker
                              // takes them; the pipeline's own producer keeps the default).
                              {"message.max.bytes", "16000000"},
                              {"log_level", "3"}});
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &on_delivery);
  handle_ = make_handle(RD_KAFKA_PRODUCER, std::move(conf));
}

Delivery TestProducer::produce(const std::string& topic, const OutgoingRecord& record) {
  return produce_all(topic, {record}).front();
}

std::vector<Delivery> TestProducer::produce_all(const std::string& topic,
                                                const std::vector<OutgoingRecord>& records) {
  std::vector<DeliveryReport> reports(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const OutgoingRecord& record = records[i];
    KafkaHeaders headers(rd_kafka_headers_new(record.headers.size()));
    for (const Header& header : record.headers) {
      rd_kafka_header_add(headers.get(), header.name.data(),
                          static_cast<ssize_t>(header.name.size()),
                          header.value ? header.value->data() : nullptr,
                          header.value ? static_cast<ssize_t>(header.value->size()) : 0);
    }
    // librdkafka's V_ macros cast their arguments: compute them first.
    void* key = record.key ? const_cast<char*>(record.key->data()) : nullptr;
    const std::size_t key_size = record.key ? record.key->size() : 0;
    void* value = record.value ? const_cast<char*>(record.value->data()) : nullptr;
    const std::size_t value_size = record.value ? record.value->size() : 0;
    const std::int32_t partition = record.partition.value_or(RD_KAFKA_PARTITION_UA);
    const std::int64_t timestamp = record.timestamp_ms.value_or(0);
    while (true) {
      const auto err = rd_kafka_producev(
          handle_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_size),
          RD_KAFKA_V_VALUE(value, value_size), RD_KAFKA_V_TIMESTAMP(timestamp),
          RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_OPAQUE(&reports[i]), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(handle_.get(), 10);
        continue;
      }
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_flush(handle_.get(), 60000);  // the reports must not outlive `reports`
        throw std::runtime_error("producing to " + topic + ": " + rd_kafka_err2str(err));
      }
      break;
    }
    (void)headers.release();  // librdkafka owns them now
  }
  const auto all_done = [&] {
    return std::all_of(reports.begin(), reports.end(),
                       [](const DeliveryReport& report) { return report.done; });
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!all_done() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_poll(handle_.get(), 100);
  }
  if (!all_done()) {
    rd_kafka_flush(handle_.get(), 10000);  // the reports must not outlive `reports`
    rd_kafka_poll(handle_.get(), 0);
    if (!all_done()) throw std::runtime_error("no delivery report from " + topic);
  }
  std::vector<Delivery> deliveries;
  deliveries.reserve(reports.size());
  for (const DeliveryReport& report : reports) {
    if (report.error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("delivering to " + topic + ": " + rd_kafka_err2str(report.error));
    }
    deliveries.push_back(report.delivery);
  }
  return deliveries;
}

TopicReader::TopicReader(const std::string& brokers, std::string topic)
    : topic_(std::move(topic)),
      consumer_(make_assign_consumer(brokers, "tastesync-it-reader")),
      watermarks_(make_handle(RD_KAFKA_PRODUCER,
                              make_conf({{"bootstrap.servers", brokers}, {"log_level", "3"}}))) {
  next_offset_ = watermarks_of(watermarks_.get(), topic_, false);
  PartitionList partitions(
      rd_kafka_topic_partition_list_new(static_cast<int>(next_offset_.size())));
  for (std::size_t p = 0; p < next_offset_.size(); ++p) {
    rd_kafka_topic_partition_list_add(partitions.get(), topic_.c_str(), static_cast<int>(p))
        ->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  if (const auto err = rd_kafka_assign(consumer_.get(), partitions.get()); err) {
    throw std::runtime_error("assigning " + topic_ + ": " + rd_kafka_err2str(err));
  }
}

void TopicReader::poll_once(int timeout_ms) {
  for (int wait = timeout_ms;; wait = 0) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), wait);
    if (message == nullptr) return;
    const std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> owned(
        message, &rd_kafka_message_destroy);
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;  // transient fetch errors
    const auto partition = static_cast<std::size_t>(message->partition);
    if (partition >= next_offset_.size()) next_offset_.resize(partition + 1, 0);
    next_offset_[partition] = message->offset + 1;
    records_.push_back(to_record(*message));
  }
}

bool TopicReader::read_until(const std::function<bool(const std::vector<Record>&)>& done,
                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(records_)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    poll_once(100);
  }
  return true;
}

bool TopicReader::read_at_least(std::size_t count, std::chrono::milliseconds timeout) {
  return read_until([count](const std::vector<Record>& records) { return records.size() >= count; },
                    timeout);
}

void TopicReader::read_to_end(std::chrono::milliseconds timeout) {
  const std::vector<std::int64_t> end = watermarks_of(watermarks_.get(), topic_, true);
  const bool reached = read_until(
      [&](const std::vector<Record>&) {
        for (std::size_t p = 0; p < end.size(); ++p) {
          if (p >= next_offset_.size() || next_offset_[p] < end[p]) return false;
        }
        return true;
      },
      timeout);
  if (!reached) throw std::runtime_error("could not read " + topic_ + " to its end in time");
}

KafkaInspector::KafkaInspector(std::string brokers)
    : brokers_(std::move(brokers)),
      producer_(make_handle(RD_KAFKA_PRODUCER,
                            make_conf({{"bootstrap.servers", brokers_}, {"log_level", "3"}}))) {}

int KafkaInspector::partition_count(const std::string& topic) {
  return partition_count_of(producer_.get(), topic);
}

std::vector<std::int64_t> KafkaInspector::high_watermarks(const std::string& topic) {
  return watermarks_of(producer_.get(), topic, true);
}

std::vector<std::int64_t> KafkaInspector::low_watermarks(const std::string& topic) {
  return watermarks_of(producer_.get(), topic, false);
}

std::vector<std::int64_t> KafkaInspector::committed_offsets(const std::string& group_id,
                                                            const std::string& topic) {
  KafkaHandle& consumer = group_consumers_[group_id];
  if (!consumer) consumer = make_assign_consumer(brokers_, group_id);
  const int partitions = partition_count(topic);
  PartitionList list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
  }
  if (const auto err = rd_kafka_committed(consumer.get(), list.get(), kMetadataTimeoutMs); err) {
    throw std::runtime_error("committed offsets of " + group_id + ": " + rd_kafka_err2str(err));
  }
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(partitions), -1);
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = list->elems[i];
    if (tp.err == RD_KAFKA_RESP_ERR_NO_ERROR && tp.offset >= 0) {
      offsets[static_cast<std::size_t>(tp.partition)] = tp.offset;
    }
  }
  return offsets;
}

bool KafkaInspector::caught_up(const std::string& group_id, const std::string& topic) {
  const std::vector<std::int64_t> end = high_watermarks(topic);
  const std::vector<std::int64_t> committed = committed_offsets(group_id, topic);
  for (std::size_t p = 0; p < end.size(); ++p) {
    // An empty partition needs no commit.
    if (end[p] > 0 && committed[p] < end[p]) return false;
  }
  return true;
}

std::vector<Record> sorted_by_partition(std::vector<Record> records) {
  std::sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
  });
  return records;
}

}  // namespace tastesync::testing
