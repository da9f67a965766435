#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/dev/socket_no_delay.hpp"
#include "kafka/kafka.hpp"

struct rd_kafka_mock_cluster_s;

namespace tastesync {

// librdkafka's in-process mock cluster: a real Kafka-protocol broker on loopback. Marked
// experimental upstream (no API promise), so this is the only file that touches its API.
class MockCluster {
 public:
  explicit MockCluster(int broker_count = 1);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  void create_topic(const std::string& name, int partitions);
  // A realistic outage: the broker keeps its port, data and offsets.
  void set_broker_down(int broker_id);
  void set_broker_up(int broker_id);
  // Every answer of the broker delayed by `rtt_ms`.
  void set_broker_rtt(int broker_id, int rtt_ms);
  // Fault injection for tests: the next requests of `api_key` (e.g. 0, Produce) fail with these
  // errors, one each; a topic's metadata answers with `error` until set back to no error.
  void push_request_errors(std::int16_t api_key, const std::vector<rd_kafka_resp_err_t>& errors);
  void set_topic_error(const std::string& topic, rd_kafka_resp_err_t error);
  // -1 makes the partition leader-less: nothing can be produced to it.
  void set_partition_leader(const std::string& topic, std::int32_t partition, std::int32_t broker);

 private:
  KafkaHandle host_;  // the client the mock cluster lives in
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_servers_;
  // Nagle off on the mock's sockets, as a real broker has it (docs/platform.md#mock-latency).
  std::unique_ptr<SocketNoDelaySweeper> no_delay_;
};

}  // namespace tastesync
