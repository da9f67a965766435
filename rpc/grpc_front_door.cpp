#include "rpc/grpc_front_door.hpp"

#include <spdlog/spdlog.h>

#include "common/clock.hpp"

namespace tastesync {
namespace {

std::unique_ptr<const JwtVerifier> verifier_for(const GrpcConfig& config) {
  if (config.auth == GrpcAuth::none) {
    spdlog::warn("grpc.auth is none: every gRPC call is accepted without a token");
    return nullptr;
  }
  if (config.jwt_public_key_file.empty() && config.jwks_file.empty()) {
    spdlog::warn(
        "grpc: no key configured (grpc.jwt_public_key_file or grpc.jwks_file), so every call is "
        "refused UNAUTHENTICATED; grpc.auth: none turns authentication off");
    return nullptr;
  }
  auto verifier = std::make_unique<const JwtVerifier>(
      JwtOptions{config.jwt_public_key_file, config.jwks_file, config.jwt_issuer,
                 config.jwt_audience, config.jwt_clock_skew_s});
  spdlog::info("grpc: RS256 tokens from {} checked against {} key(s), audience {}",
               config.jwt_issuer, verifier->key_count(), config.jwt_audience);
  return verifier;
}

bool loopback(const std::string& address) {
  return address == "127.0.0.1" || address == "localhost" || address == "::1" || address == "[::1]";
}

}  // namespace

GrpcFrontDoor::GrpcFrontDoor(const Config& config, std::shared_ptr<const Registry> registry,
                             std::shared_ptr<FloorState> floor, prometheus::Registry& metrics,
                             std::shared_ptr<const Health> health)
    : floor_(std::move(floor)),
      calls_(static_cast<std::size_t>(config.grpc.max_pending_calls)),
      producer_(std::make_unique<SightingProducer>(config)) {
  CustomerServiceOptions options;
  options.auth_none = config.grpc.auth == GrpcAuth::none;
  options.default_deadline = std::chrono::milliseconds(config.grpc.default_deadline_ms);
  options.parse = config.parse;
  service_ = std::make_unique<CustomerService>(
      options, verifier_for(config.grpc), std::move(registry), floor_, *producer_, calls_, metrics);
  follower_ = std::make_unique<EventFollower>(
      config,
      [this](std::string_view customer_id, std::string_view value) {
        if (value.empty()) {
          floor_->forget(customer_id);
          return;
        }
        floor_->apply(value, wall_clock_ms());
        service_->on_event(value);
      },
      [this, next_floor_expiry = std::int64_t{0}]() mutable {
        // Customers who left are dropped even when nobody looks at the floor.
        const std::int64_t now = wall_clock_ms();
        if (now >= next_floor_expiry) {
          floor_->expire(now);
          next_floor_expiry = now + 1000;
        }
      });
  expirer_ = std::jthread([this](const std::stop_token& stop) { calls_.expire_until(stop); });
  server_ = std::make_unique<GrpcServer>(config.grpc, *service_, std::move(health));
  if (!server_->tls() && !loopback(config.grpc.bind_address)) {
    spdlog::warn(
        "grpc: plaintext on {}: tokens cross the network in clear; set grpc.tls_cert_file and "
        "grpc.tls_key_file",
        config.grpc.bind_address);
  }
  spdlog::info("grpc on {}:{} ({}), replies read from {} partitions of {}",
               config.grpc.bind_address, server_->port(),
               server_->tls() ? (config.grpc.tls_client_ca_file.empty() ? "TLS" : "mutual TLS")
                              : "plaintext",
               follower_->partitions(), config.kafka.output_topic);
}

GrpcFrontDoor::~GrpcFrontDoor() {
  calls_.close();
  expirer_.request_stop();
  if (expirer_.joinable()) expirer_.join();
  server_.reset();
  follower_.reset();
  producer_.reset();
}

}  // namespace tastesync
