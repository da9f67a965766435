#pragma once

#include <librdkafka/rdkafka.h>

#include "config/config.hpp"

namespace tastesync {

// Checks, before consuming, the topics a run needs (docs/contract.md#topics): input, output and
// dead letters, and the changelog when it is on. A missing topic, or a changelog whose partition
// count differs from the input's, is a ConfigError naming the key; an output topic with fewer
// than 3 partitions is a warning. Returns the input topic's partition count.
int check_topics(const Config& config, rd_kafka_t* handle);

}  // namespace tastesync
