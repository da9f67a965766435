#include "config/topology_options.hpp"

namespace tastesync {

TopologyOptions topology_options(const Config& config) {
  TopologyOptions options;
  options.parse = config.parse;
  options.dedupe = config.dedupe;
  options.score = config.score;
  options.retention_ms = config.state.retention_ms;
  options.allowed_lateness_ms = config.state.allowed_lateness_ms;
  options.max_customers_per_partition = config.state.max_customers_per_partition;
  return options;
}

}  // namespace tastesync
