#pragma once

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include "app/dev/mock_cluster.hpp"

namespace tastesync {

// What the dev broker adds to librdkafka's mock cluster (docs/platform.md, "Topics on the dev
// broker", "Broker faults on purpose"). Each runs on a thread of its own until destroyed.

// Creates the topics clients ask for on kDevBrokerAdminTopic (kafka/topic_admin.hpp): the
// CreateTopics the mock lacks, so `run --group-id ANYTHING` gets its changelog with the input's
// partition count.
class TopicRequestServer {
 public:
  explicit TopicRequestServer(MockCluster& cluster);

 private:
  void serve(const std::stop_token& stop);

  MockCluster& cluster_;
  std::jthread thread_;
};

// One line of `--control`: a broker down or up, its round-trip time, or the next requests of one
// kind answered with an error.
struct ControlCommand {
  enum class Kind { down, up, rtt, fail } kind = Kind::down;
  int broker = 0;  // 0: every broker
  int rtt_ms = 0;
  std::int16_t api_key = 0;  // fail: the request kind (Kafka protocol API key)
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;  // fail: the answer
  int count = 1;                                           // fail: how many requests
};

// "down N", "up N", "rtt N MS" (N a broker id, or "all"), "fail REQUEST ERROR [COUNT]" (REQUEST
// e.g. EndTxn, ERROR a Kafka error name e.g. PRODUCER_FENCED), or an error saying what is wrong.
struct ParsedControl {
  std::optional<ControlCommand> command;
  std::string error;
};
ParsedControl parse_control_line(std::string_view line, int broker_count);

// Takes ControlCommand lines from a named pipe at `path` (created 0600; `echo down 1 > PATH`):
// a broker outage from outside the process, with its port, data and offsets kept.
class ControlFifo {
 public:
  ControlFifo(MockCluster& cluster, int broker_count, std::string path);
  ~ControlFifo();
  ControlFifo(const ControlFifo&) = delete;
  ControlFifo& operator=(const ControlFifo&) = delete;

 private:
  void serve(const std::stop_token& stop);
  void execute(std::string_view line);

  MockCluster& cluster_;
  int broker_count_;
  std::string path_;
  int fd_ = -1;
  std::jthread thread_;
};

}  // namespace tastesync
