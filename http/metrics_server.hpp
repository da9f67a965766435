#pragma once

#include <prometheus/registry.h>

#include <memory>

#include "common/health.hpp"
#include "floor/floor_state.hpp"

class CivetServer;

namespace tastesync {

struct MetricsConfig;

// /metrics, /healthz and /readyz on one civetweb listener, and /floor once served. With a token
// configured, /metrics and /floor answer only requests bearing it; the probes stay open
// (docs/design.md, "The HTTP server").
class MetricsServer {
 public:
  // Throws ConfigError naming metrics.port when the port cannot be bound.
  MetricsServer(const MetricsConfig& config, std::shared_ptr<prometheus::Registry> registry,
                const std::shared_ptr<Health>& health);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }
  // /floor (the page) and /floor/events (its Server-Sent Events) show `floor` from now on, behind
  // the metrics token when one is set; until called they answer 503 (docs/contract.md#floor).
  void serve_floor(std::shared_ptr<FloorState> floor);

 private:
  struct Handlers;
  std::unique_ptr<Handlers> handlers_;
  std::unique_ptr<CivetServer> server_;
  int port_ = 0;
};

}  // namespace tastesync
