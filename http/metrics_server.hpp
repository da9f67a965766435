#pragma once

#include <prometheus/registry.h>

#include <memory>

#include "common/health.hpp"

class CivetServer;

namespace tastesync {

struct MetricsConfig;

// /metrics, /healthz and /readyz on one civetweb listener. With a token configured, /metrics
// answers only requests bearing it; the probes stay open (docs/design.md, "The HTTP server").
class MetricsServer {
 public:
  // Throws ConfigError naming metrics.port when the port cannot be bound.
  MetricsServer(const MetricsConfig& config, std::shared_ptr<prometheus::Registry> registry,
                const std::shared_ptr<Health>& health);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }

 private:
  struct Handlers;
  std::unique_ptr<Handlers> handlers_;
  std::unique_ptr<CivetServer> server_;
  int port_ = 0;
};

}  // namespace tastesync
