#include "app/dev/mock_cluster.hpp"

#include <librdkafka/rdkafka.h>
// The C header must come first (docs/platform.md#debian-build).
#include <librdkafka/rdkafka_mock.h>

#include <stdexcept>

namespace tastesync {

MockCluster::MockCluster(int broker_count) {
  host_ = make_kafka_handle(RD_KAFKA_PRODUCER, make_kafka_conf({{"log_level", "3"}}, "mock"));
  cluster_ = rd_kafka_mock_cluster_new(host_.get(), broker_count);
  if (cluster_ == nullptr) throw std::runtime_error("could not start librdkafka's mock cluster");
  bootstrap_servers_ = rd_kafka_mock_cluster_bootstraps(cluster_);
  no_delay_ = std::make_unique<SocketNoDelaySweeper>();
}

MockCluster::~MockCluster() {
  no_delay_.reset();
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
}

void MockCluster::create_topic(const std::string& name, int partitions) {
  const auto err = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("creating topic " + name +
                             " on the mock cluster: " + rd_kafka_err2str(err));
  }
}

void MockCluster::set_broker_down(int broker_id) {
  rd_kafka_mock_broker_set_down(cluster_, broker_id);
}

void MockCluster::set_broker_up(int broker_id) {
  rd_kafka_mock_broker_set_up(cluster_, broker_id);
}

void MockCluster::set_broker_rtt(int broker_id, int rtt_ms) {
  rd_kafka_mock_broker_set_rtt(cluster_, broker_id, rtt_ms);
}

void MockCluster::push_request_errors(std::int16_t api_key,
                                      const std::vector<rd_kafka_resp_err_t>& errors) {
  rd_kafka_mock_push_request_errors_array(cluster_, api_key, errors.size(), errors.data());
}

void MockCluster::set_partition_leader(const std::string& topic, std::int32_t partition,
                                       std::int32_t broker) {
  rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), partition, broker);
}

void MockCluster::set_topic_error(const std::string& topic, rd_kafka_resp_err_t error) {
  rd_kafka_mock_topic_set_error(cluster_, topic.c_str(), error);
}

}  // namespace tastesync
