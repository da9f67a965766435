#pragma once

#include <optional>
#include <string>

namespace tastesync::testing {

// The body of GET http://127.0.0.1:<port><path>, or nullopt when nothing answers.
std::optional<std::string> http_get(int port, const std::string& path);

// The value of the Prometheus sample whose line starts with `series` (name and labels exactly as
// exposed, e.g. tastesync_sink_retries_total{sink="postgres"}), or nullopt.
std::optional<double> metric_value(const std::string& exposition, const std::string& series);

}  // namespace tastesync::testing
