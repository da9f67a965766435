#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

namespace tastesync {

// librdkafka's mock cluster leaves Nagle's algorithm on for the sockets it accepts, and offers no
// hook to change that: an answer to a client with several requests in flight can then wait
// ~40 ms for a delayed ACK, which every latency taken on the mock used to contain (producer
// defaults: p99 46 ms at 10 000 sightings/s, 5 ms with this). Real Kafka brokers set
// TCP_NODELAY. This sets it on every TCP socket of the process once before the constructor
// returns, then every `period`, until destroyed (docs/platform.md#mock-latency).
//
// Why once is nearly enough: Linux hands a listener's TCP_NODELAY to every socket accept()
// returns, so once the mock's listeners are set (they exist before its bootstrap address is
// known), its connections are set from their first byte. The later sweeps only catch a socket
// made another way; each walks /proc/self/fd, which every 10 ms cost the dev broker ~2 % of a
// core (docs/bench.md#issue-17-25).
class SocketNoDelaySweeper {
 public:
  explicit SocketNoDelaySweeper(std::chrono::milliseconds period = std::chrono::seconds(1));
  ~SocketNoDelaySweeper();
  SocketNoDelaySweeper(const SocketNoDelaySweeper&) = delete;
  SocketNoDelaySweeper& operator=(const SocketNoDelaySweeper&) = delete;

  // One pass over the process's open files: returns how many TCP sockets it set.
  static int sweep_once();

 private:
  void run(const std::stop_token& stop);

  std::chrono::milliseconds period_;
  std::mutex mutex_;
  std::condition_variable_any stopped_;
  std::jthread thread_;  // last: stopped and joined first
};

}  // namespace tastesync
