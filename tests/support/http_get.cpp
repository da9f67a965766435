#include "tests/support/http_get.hpp"

#include <sstream>

#include "tests/support/http_client.hpp"

namespace tastesync::testing {

std::optional<std::string> http_get(int port, const std::string& path) {
  const auto response = http_request(port, path);
  if (!response) return std::nullopt;
  return response->body;
}

std::optional<double> metric_value(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

}  // namespace tastesync::testing
