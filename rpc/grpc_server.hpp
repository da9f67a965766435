#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "common/health.hpp"
#include "config/config.hpp"

namespace tastesync {

// The gRPC listener of `run` (docs/grpc.md): one service, plus the standard health service
// (NOT_SERVING until the pipeline is ready, as /readyz) and server reflection. TLS when a
// certificate is configured, mutual TLS when a client CA is.
class GrpcServer {
 public:
  // Throws ConfigError naming the key when a TLS file cannot be read or the port is taken.
  GrpcServer(const GrpcConfig& config, grpc::Service& service,
             std::shared_ptr<const Health> health);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  int port() const { return port_; }
  bool tls() const { return tls_; }

 private:
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool tls_ = false;
  std::jthread health_mirror_;
};

}  // namespace tastesync
