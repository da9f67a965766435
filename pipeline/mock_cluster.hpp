#pragma once

#include <string>

#include "kafka.hpp"

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

 private:
  KafkaHandle host_;  // the client the mock cluster lives in
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_servers_;
};

}  // namespace tastesync
