#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>

#include "registry/registry_feed.hpp"

namespace tastesync {

// registry.source = postgres (docs/contract.md#registry-reload): the registry is read from
// PostgreSQL at start and kept current without a query per message. A trigger on beacons and
// qr_codes NOTIFYs tastesync_registry; this thread LISTENs and reloads the whole registry when
// told, and every `reload_interval` anyway, as a safety net for a notification lost with a
// connection.
class PostgresRegistryWatcher {
 public:
  PostgresRegistryWatcher(std::string dsn, std::chrono::milliseconds reload_interval,
                          std::shared_ptr<RegistryFeed> feed);
  ~PostgresRegistryWatcher();
  PostgresRegistryWatcher(const PostgresRegistryWatcher&) = delete;
  PostgresRegistryWatcher& operator=(const PostgresRegistryWatcher&) = delete;

 private:
  void run(const std::stop_token& stop);

  std::string dsn_;
  std::chrono::milliseconds reload_interval_;
  std::shared_ptr<RegistryFeed> feed_;
  std::jthread thread_;
};

// Loads the registry at start, retrying with backoff while the database is unreachable (or not
// migrated yet) for up to `timeout`; then throws ConfigError naming registry.source and the
// last error. `stop` returning true ends the wait early (a signal), with the same error.
std::shared_ptr<const Registry> load_registry_at_start(const std::string& dsn,
                                                       std::chrono::milliseconds timeout,
                                                       const std::function<bool()>& stop);

}  // namespace tastesync
