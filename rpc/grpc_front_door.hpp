#pragma once

#include <prometheus/registry.h>

#include <memory>
#include <optional>
#include <thread>

#include "common/health.hpp"
#include "config/config.hpp"
#include "floor/floor_state.hpp"
#include "rpc/customer_service.hpp"
#include "rpc/event_follower.hpp"
#include "rpc/grpc_server.hpp"
#include "rpc/pending_calls.hpp"
#include "rpc/sighting_producer.hpp"
#include "stages/registry.hpp"

namespace tastesync {

// Everything `run` starts for grpc.port (docs/grpc.md), in the order it must stop: waiting calls
// answered first, then the listener closed, then the follower and the producer.
// With it on, the floor view is fed by the follower too (every instance's events, not only this
// one's), so `feeds_floor()` tells the caller to stop feeding it from the pipeline's tap.
class GrpcFrontDoor {
 public:
  GrpcFrontDoor(const Config& config, std::shared_ptr<const Registry> registry,
                std::shared_ptr<FloorState> floor, prometheus::Registry& metrics,
                std::shared_ptr<const Health> health);
  ~GrpcFrontDoor();
  GrpcFrontDoor(const GrpcFrontDoor&) = delete;
  GrpcFrontDoor& operator=(const GrpcFrontDoor&) = delete;

  int port() const { return server_->port(); }

 private:
  std::shared_ptr<FloorState> floor_;
  PendingCalls calls_;
  std::unique_ptr<CustomerService> service_;
  // After the service: its delivery reports, served until it is destroyed, call into it.
  std::unique_ptr<SightingProducer> producer_;
  std::unique_ptr<EventFollower> follower_;
  std::jthread expirer_;  // answers PENDING as each call's time comes
  std::unique_ptr<GrpcServer> server_;
};

}  // namespace tastesync
