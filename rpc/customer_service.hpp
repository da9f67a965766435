#pragma once

#include <grpcpp/grpcpp.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <memory>
#include <string_view>

#include "common/result.hpp"
#include "floor/floor_state.hpp"
#include "rpc/jwt_verifier.hpp"
#include "rpc/pending_calls.hpp"
#include "rpc/sighting_producer.hpp"
#include "stages/parse.hpp"
#include "stages/registry.hpp"
#include "tastesync/v1/customer_id.grpc.pb.h"

namespace tastesync {

struct CustomerServiceOptions {
  // No authentication at all (grpc.auth: none). Otherwise a null verifier refuses every call.
  bool auth_none = false;
  std::chrono::milliseconds default_deadline{1000};
  // However far off the caller's deadline, a call waits at most this long.
  std::chrono::milliseconds max_wait{30000};
  ParseOptions parse;
};

// tastesync.v1.CustomerIdentification on gRPC's callback API (docs/grpc.md): no call holds a
// thread while it waits for its event; PendingCalls answers it from the event follower's thread.
class CustomerService final : public v1::CustomerIdentification::CallbackService {
 public:
  CustomerService(CustomerServiceOptions options, std::unique_ptr<const JwtVerifier> verifier,
                  std::shared_ptr<const Registry> registry, std::shared_ptr<FloorState> floor,
                  SightingProducer& producer, PendingCalls& calls, prometheus::Registry& metrics);

  grpc::ServerUnaryReactor* IdentifyCustomer(grpc::CallbackServerContext* context,
                                             const v1::Sighting* request,
                                             v1::Identification* response) override;
  grpc::ServerUnaryReactor* GetCurrentLocation(grpc::CallbackServerContext* context,
                                               const v1::GetCurrentLocationRequest* request,
                                               v1::CurrentLocation* response) override;
  grpc::ServerUnaryReactor* ListPresent(grpc::CallbackServerContext* context,
                                        const v1::ListPresentRequest* request,
                                        v1::ListPresentResponse* response) override;

  // A CustomerIdentified from customer-events: answers the calls waiting for its sighting.
  void on_event(std::string_view value);

 private:
  struct IdentifyCall;
  Result<TokenClaims, grpc::Status> authenticate(const grpc::CallbackServerContext& context) const;
  void answer(IdentifyCall& call, const std::string* event_json);
  void finish(grpc::ServerUnaryReactor* reactor, std::string_view method,
              const grpc::Status& status);
  std::optional<v1::Place> place_of(const Sighting& sighting) const;
  void fill_location(const FloorPresence& presence, v1::CurrentLocation& out) const;

  CustomerServiceOptions options_;
  std::unique_ptr<const JwtVerifier> verifier_;
  std::shared_ptr<const Registry> registry_;
  std::shared_ptr<FloorState> floor_;
  SightingProducer& producer_;
  PendingCalls& calls_;
  prometheus::Family<prometheus::Counter>& calls_total_;
  prometheus::Histogram& identified_seconds_;
  prometheus::Histogram& pending_seconds_;
};

}  // namespace tastesync
