#include "registry/registry_watcher.hpp"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>

#include "common/backoff.hpp"
#include "common/clock.hpp"
#include "config/config.hpp"
#include "db/postgres.hpp"
#include "registry/registry_store.hpp"

namespace tastesync {
namespace {

constexpr const char* kChannel = "tastesync_registry";
constexpr auto kBackoffInitial = std::chrono::milliseconds(100);
constexpr auto kBackoffCap = std::chrono::milliseconds(5000);

// pqxx 6 delivers notifications to receiver objects; this one only raises a flag, the
// watcher's loop does the (single) reload for however many arrived.
class ChangeFlag : public pqxx::notification_receiver {
 public:
  ChangeFlag(pqxx::connection_base& connection, bool& changed)
      : pqxx::notification_receiver(connection, kChannel), changed_(changed) {}
  void operator()(const std::string& /*payload*/, int /*backend_pid*/) override { changed_ = true; }

 private:
  bool& changed_;
};

void log_loaded(const Registry& registry, const char* why) {
  spdlog::info("registry from PostgreSQL ({}): {} beacons, {} QR codes", why,
               registry.beacons().size(), registry.qr_codes().size());
}

}  // namespace

PostgresRegistryWatcher::PostgresRegistryWatcher(std::string dsn,
                                                 std::chrono::milliseconds reload_interval,
                                                 std::shared_ptr<RegistryFeed> feed)
    : dsn_(std::move(dsn)), reload_interval_(reload_interval), feed_(std::move(feed)) {
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

PostgresRegistryWatcher::~PostgresRegistryWatcher() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void PostgresRegistryWatcher::run(const std::stop_token& stop) {
  Backoff backoff(kBackoffInitial, kBackoffCap);
  while (!stop.stop_requested()) {
    try {
      auto connection = connect_postgres(dsn_, "tastesync-registry");
      bool changed = false;
      const ChangeFlag flag(*connection, changed);
      // Listening first, then loading: a change committed in between is in this load or
      // notifies afterwards; none is missed across a reconnection.
      feed_->publish(load_registry_from_postgres(*connection));
      backoff.reset();
      auto next_reload = std::chrono::steady_clock::now() + reload_interval_;
      while (!stop.stop_requested()) {
        // Short waits so that a stop is noticed quickly.
        connection->await_notification(0, 200000);
        const bool due = std::chrono::steady_clock::now() >= next_reload;
        if (!changed && !due) continue;
        auto registry = load_registry_from_postgres(*connection);
        log_loaded(*registry, changed ? "changed" : "periodic reload");
        feed_->publish(std::move(registry));
        changed = false;
        next_reload = std::chrono::steady_clock::now() + reload_interval_;
      }
    } catch (const std::exception& e) {
      feed_->report_error();
      const auto wait = backoff.next();
      spdlog::error("registry from PostgreSQL: {}; the registry in use stays, retrying in {} ms",
                    e.what(), wait.count());
      sleep_unless_stopped(wait, stop);
    }
  }
}

std::shared_ptr<const Registry> load_registry_at_start(const std::string& dsn,
                                                       std::chrono::milliseconds timeout,
                                                       const std::function<bool()>& stop) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Backoff backoff(kBackoffInitial, kBackoffCap);
  while (true) {
    try {
      auto connection = connect_postgres(dsn, "tastesync-registry");
      auto registry = load_registry_from_postgres(*connection);
      log_loaded(*registry, "start");
      return registry;
    } catch (const std::exception& e) {
      const auto wait = backoff.next();
      if (stop() || std::chrono::steady_clock::now() + wait > deadline) {
        throw ConfigError(
            "registry.source=postgres: no registry from PostgreSQL (postgres.dsn) "
            "within registry.start_timeout_ms=" +
            std::to_string(timeout.count()) + ": " + e.what());
      }
      spdlog::warn("registry from PostgreSQL not loaded yet ({}); retrying in {} ms", e.what(),
                   wait.count());
      const auto until = std::chrono::steady_clock::now() + wait;
      while (!stop() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
}

}  // namespace tastesync
