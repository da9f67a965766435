#pragma once

#include "config/config.hpp"
#include "stages/topology.hpp"

namespace tastesync {

// The stages' options from a validated Config: what the pipeline and `tastesync sim` run with.
TopologyOptions topology_options(const Config& config);

}  // namespace tastesync
