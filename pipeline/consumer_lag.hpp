#pragma once

#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace tastesync {

// tastesync_consumer_lag{partition} from librdkafka's statistics (docs/contract.md#metrics): one
// gauge per input partition this instance owns, removed when the partition leaves it, so a
// dashboard never sums another instance's partitions twice.
class ConsumerLag {
 public:
  ConsumerLag(prometheus::Family<prometheus::Gauge>& family, std::string input_topic)
      : family_(family), input_topic_(std::move(input_topic)) {}

  // One statistics JSON document (librdkafka's stats callback, on the consumer thread); `owned`
  // says whether a partition is still this instance's.
  void update(const char* json, std::size_t size, const std::function<bool(std::int32_t)>& owned);
  void forget(std::int32_t partition);

 private:
  prometheus::Family<prometheus::Gauge>& family_;
  std::string input_topic_;
  std::map<std::int32_t, prometheus::Gauge*> gauges_;
};

}  // namespace tastesync
