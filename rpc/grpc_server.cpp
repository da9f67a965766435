#include "rpc/grpc_server.hpp"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "common/clock.hpp"
#include "common/config_error.hpp"
#include "tastesync/v1/customer_id.grpc.pb.h"

namespace tastesync {
namespace {

// A sighting is at most parse.max_record_bytes of JSON; 64 KiB leaves room for any field order.
constexpr int kMaxMessageBytes = 64 * 1024;
// What gRPC may hold for all connections' buffers together, whatever clients send
// (docs/grpc.md#limits).
constexpr std::size_t kMemoryQuotaBytes = 64 << 20;
constexpr int kMaxStreamsPerConnection = 100;
// An idle connection is closed after 5 min; every connection after 30 min (with 30 s to finish
// its calls), so that clients spread again over instances added behind a load balancer.
constexpr int kMaxIdleMs = 5 * 60 * 1000;
constexpr int kMaxAgeMs = 30 * 60 * 1000;
constexpr int kMaxAgeGraceMs = 30 * 1000;

std::string read_pem(const std::string& path, const char* key) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  if (!file || !(text << file.rdbuf()) || text.str().empty()) {
    throw ConfigError(std::string(key) + ": cannot read " + path);
  }
  return text.str();
}

std::shared_ptr<grpc::ServerCredentials> credentials(const GrpcConfig& config) {
  if (config.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      config.tls_client_ca_file.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_key_cert_pairs.push_back({read_pem(config.tls_key_file, "grpc.tls_key_file"),
                                        read_pem(config.tls_cert_file, "grpc.tls_cert_file")});
  if (!config.tls_client_ca_file.empty()) {
    options.pem_root_certs = read_pem(config.tls_client_ca_file, "grpc.tls_client_ca_file");
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace

GrpcServer::GrpcServer(const GrpcConfig& config, grpc::Service& service,
                       std::shared_ptr<const Health> health)
    : tls_(!config.tls_cert_file.empty()) {
  // Both are process-wide switches in gRPC's API, read when a server is built.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // An IPv6 address goes in brackets before its port.
  const bool ipv6 =
      config.bind_address.find(':') != std::string::npos && !config.bind_address.starts_with('[');
  const std::string address = (ipv6 ? "[" + config.bind_address + "]" : config.bind_address) + ":" +
                              std::to_string(config.port);
  builder.AddListeningPort(address, credentials(config), &port_);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  grpc::ResourceQuota quota("tastesync-grpc");
  quota.Resize(kMemoryQuotaBytes);
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, kMaxStreamsPerConnection);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, kMaxIdleMs);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, kMaxAgeMs);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, kMaxAgeGraceMs);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    throw ConfigError("grpc.port: cannot listen on " + address);
  }
  // The health service says what /readyz says (docs/grpc.md#health).
  health_mirror_ = std::jthread([this, health = std::move(health)](const std::stop_token& stop) {
    grpc::HealthCheckServiceInterface* checks = server_->GetHealthCheckService();
    bool serving = false;
    bool first = true;
    while (!stop.stop_requested()) {
      const bool ready = health->ready();
      if (first || ready != serving) {
        checks->SetServingStatus(ready);
        checks->SetServingStatus(v1::CustomerIdentification::service_full_name(), ready);
        serving = ready;
        first = false;
      }
      sleep_unless_stopped(std::chrono::milliseconds(200), stop);
    }
  });
}

GrpcServer::~GrpcServer() {
  health_mirror_.request_stop();
  health_mirror_.join();
  // Calls still running get two seconds, then are cancelled.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
}

}  // namespace tastesync
