#include "pipeline/consumer_lag.hpp"

#include <simdjson.h>

#include <string>

namespace tastesync {

void ConsumerLag::update(const char* json, std::size_t size,
                         const std::function<bool(std::int32_t)>& owned) {
  simdjson::dom::parser parser;
  simdjson::dom::object partitions;
  if (parser.parse(json, size)["topics"][input_topic_]["partitions"].get_object().get(partitions) !=
      simdjson::SUCCESS) {
    return;
  }
  for (const auto [name, partition] : partitions) {
    if (name == "-1") continue;  // librdkafka's internal UA partition
    std::int64_t lag = 0;
    if (partition["consumer_lag_stored"].get_int64().get(lag) != simdjson::SUCCESS || lag < 0) {
      continue;
    }
    const auto number = static_cast<std::int32_t>(std::stol(std::string(name)));
    if (!owned(number)) continue;
    auto& gauge = gauges_[number];
    if (gauge == nullptr) gauge = &family_.Add({{"partition", std::string(name)}});
    gauge->Set(static_cast<double>(lag));
  }
}

void ConsumerLag::forget(std::int32_t partition) {
  if (const auto gauge = gauges_.find(partition); gauge != gauges_.end()) {
    family_.Remove(gauge->second);
    gauges_.erase(gauge);
  }
}

}  // namespace tastesync
