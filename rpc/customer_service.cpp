#include "rpc/customer_service.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cctype>

#include "common/clock.hpp"
#include "rpc/sighting_json.hpp"

namespace tastesync {
namespace {

constexpr std::string_view kIdentify = "IdentifyCustomer";
constexpr std::string_view kLocate = "GetCurrentLocation";
constexpr std::string_view kList = "ListPresent";
constexpr std::size_t kMaxIdBytes = 256;  // ids are 1-64 code points (docs/contract.md#sighting)

std::string_view code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    default:
      return "OTHER";
  }
}

// INVALID_ARGUMENT with the parse stage's code in the rich-error details (docs/grpc.md#errors).
grpc::Status rejected(const ParseError& error) {
  v1::SightingRejected detail;
  detail.set_code(std::string(parse_error_code_name(error.code)));
  detail.set_message(error.message);
  v1::RpcStatus status;
  status.set_code(grpc::StatusCode::INVALID_ARGUMENT);
  status.set_message(error.message);
  status.add_details()->PackFrom(detail);
  return {grpc::StatusCode::INVALID_ARGUMENT,
          std::string(parse_error_code_name(error.code)) + ": " + error.message,
          status.SerializeAsString()};
}

std::string text_of(simdjson::dom::element data, std::string_view name) {
  std::string_view value;
  return data[name].get_string().get(value) == simdjson::SUCCESS ? std::string(value)
                                                                 : std::string();
}

// A CustomerIdentified value as the proto message; false when it is not one.
bool fill_event(const std::string& json, v1::CustomerIdentified& out) {
  simdjson::dom::parser parser;
  simdjson::dom::element event;
  if (parser.parse(json).get(event) != simdjson::SUCCESS) return false;
  simdjson::dom::element data;
  if (event["data"].get(data) != simdjson::SUCCESS) return false;
  out.set_event_id(text_of(event, "event_id"));
  out.set_timestamp(text_of(event, "timestamp"));
  out.set_customer_id(text_of(data, "customer_id"));
  out.set_location(text_of(data, "location"));
  double confidence = 0;
  if (data["confidence"].get_double().get(confidence) == simdjson::SUCCESS) {
    out.set_confidence(confidence);
  }
  out.set_detected_at(text_of(data, "detected_at"));
  out.set_store_id(text_of(data, "store_id"));
  out.set_location_type(text_of(data, "location_type"));
  out.set_source(text_of(data, "source"));
  out.set_beacon_id(text_of(data, "beacon_id"));
  out.set_qr_code(text_of(data, "qr_code"));
  out.set_sighting_id(text_of(data, "sighting_id"));
  out.set_identification(text_of(data, "identification"));
  return true;
}

const prometheus::Histogram::BucketBoundaries kBuckets = {0.002, 0.005, 0.01, 0.025, 0.05,
                                                          0.1,   0.25,  0.5,  1,     2.5};

prometheus::Family<prometheus::Histogram>& identify_seconds(prometheus::Registry& metrics) {
  return prometheus::BuildHistogram()
      .Name("tastesync_grpc_identify_seconds")
      .Help("IdentifyCustomer from the call's arrival to its answer, by status")
      .Register(metrics);
}

std::optional<std::string_view> bearer_token(const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  const auto found = metadata.find("authorization");
  if (found == metadata.end()) return std::nullopt;
  const std::string_view value(found->second.data(), found->second.size());
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return std::nullopt;
  }
  return value.substr(kScheme.size());
}

}  // namespace

// One IdentifyCustomer in flight. Shared by the PendingCalls entry and the delivery callback;
// finished by whichever takes the entry out of PendingCalls.
struct CustomerService::IdentifyCall {
  grpc::ServerUnaryReactor* reactor = nullptr;
  v1::Identification* response = nullptr;
  TokenClaims claims;
  std::string customer_id;
  std::optional<v1::Place> place;
  std::int64_t started_ns = 0;
  std::atomic<bool> delivered{false};
};

CustomerService::CustomerService(CustomerServiceOptions options,
                                 std::unique_ptr<const JwtVerifier> verifier,
                                 std::shared_ptr<const Registry> registry,
                                 std::shared_ptr<FloorState> floor, SightingProducer& producer,
                                 PendingCalls& calls, prometheus::Registry& metrics)
    : options_(options),
      verifier_(std::move(verifier)),
      registry_(std::move(registry)),
      floor_(std::move(floor)),
      producer_(producer),
      calls_(calls),
      calls_total_(prometheus::BuildCounter()
                       .Name("tastesync_grpc_calls_total")
                       .Help("gRPC calls answered, by method and status code")
                       .Register(metrics)),
      identified_seconds_(identify_seconds(metrics).Add({{"status", "IDENTIFIED"}}, kBuckets)),
      pending_seconds_(identify_seconds(metrics).Add({{"status", "PENDING"}}, kBuckets)) {}

Result<TokenClaims, grpc::Status> CustomerService::authenticate(
    const grpc::CallbackServerContext& context) const {
  if (options_.auth_none) {
    TokenClaims anyone;
    anyone.all_stores = true;
    return anyone;
  }
  // Nothing beyond the status code and these words: which check failed goes to the debug log.
  const grpc::Status refused(grpc::StatusCode::UNAUTHENTICATED, "a valid bearer token is needed");
  if (!verifier_) return Failure{refused};
  const std::optional<std::string_view> token = bearer_token(context);
  if (!token) return Failure{refused};
  auto claims = verifier_->verify(*token, wall_clock_ms() / 1000);
  if (!claims) {
    spdlog::debug("grpc: {} refused: {}", context.peer(), claims.error().reason);
    return Failure{refused};
  }
  return std::move(claims).value();
}

void CustomerService::finish(grpc::ServerUnaryReactor* reactor, std::string_view method,
                             const grpc::Status& status) {
  calls_total_
      .Add({{"method", std::string(method)}, {"code", std::string(code_name(status.error_code()))}})
      .Increment();
  reactor->Finish(status);
}

std::optional<v1::Place> CustomerService::place_of(const Sighting& sighting) const {
  std::optional<std::uint32_t> index;
  if (sighting.source == Source::qr) {
    if (const QrEntry* entry = registry_->find_qr(sighting.qr_code)) index = entry->location_index;
  } else if (const BeaconEntry* entry = registry_->find_beacon(
                 sighting.beacon.uuid, sighting.beacon.major, sighting.beacon.minor)) {
    index = entry->location_index;
  }
  if (!index) return std::nullopt;
  const Location& location = registry_->location(*index);
  v1::Place place;
  place.set_store_id(location.store_id);
  place.set_location(location.name);
  place.set_location_type(std::string(location_type_name(location.type)));
  return place;
}

void CustomerService::fill_location(const FloorPresence& presence, v1::CurrentLocation& out) const {
  out.set_customer_id(floor_->masks_ids() ? FloorState::mask(presence.customer_id)
                                          : presence.customer_id);
  out.set_store_id(presence.store_id);
  out.set_location(presence.location);
  out.set_location_type(presence.location_type);
  out.set_since(presence.since);
  out.set_last_seen(presence.last_seen);
}

grpc::ServerUnaryReactor* CustomerService::IdentifyCustomer(grpc::CallbackServerContext* context,
                                                            const v1::Sighting* request,
                                                            v1::Identification* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::int64_t started_ns = steady_ns();
  auto claims = authenticate(*context);
  if (!claims) {
    finish(reactor, kIdentify, claims.error());
    return reactor;
  }
  // Judged as the pipeline judges a record (docs/grpc.md#identify): the record's timestamp is
  // the time the call arrived, as the produced record's will be.
  const std::string value = sighting_json(*request);
  const EpochMs now = wall_clock_ms();
  RecordView record;
  if (request->has_customer_id()) record.key = request->customer_id();
  record.value = value;
  record.timestamp_ms = now;
  SightingParser parser(options_.parse);
  auto parsed = parser.parse(record);
  std::optional<ParseError> error;
  if (!parsed) {
    error = parsed.error();
  } else {
    error = detected_at_ahead_of_wall_clock(*parsed, now, options_.parse);
  }
  if (error) {
    context->AddTrailingMetadata("tastesync-error-code",
                                 std::string(parse_error_code_name(error->code)));
    finish(reactor, kIdentify, rejected(*error));
    return reactor;
  }
  const Sighting& sighting = *parsed;
  auto call = std::make_shared<IdentifyCall>();
  call->reactor = reactor;
  call->response = response;
  call->claims = std::move(claims).value();
  call->customer_id = sighting.customer_id;
  call->place = place_of(sighting);
  call->started_ns = started_ns;
  // A token limited to some stores sends sightings for those only: the beacon or QR code must be
  // registered in one of them.
  if (!call->claims.all_stores &&
      (!call->place || !call->claims.may_use(call->place->store_id()))) {
    finish(reactor, kIdentify,
           {grpc::StatusCode::PERMISSION_DENIED,
            "this token may not send sightings for that beacon or QR code's store"});
    return reactor;
  }

  // Answered a little before the caller's deadline, so that PENDING reaches it in time.
  const auto wall_now = std::chrono::system_clock::now();
  auto wait = options_.default_deadline;
  if (context->deadline() < wall_now + std::chrono::hours(24 * 365)) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(context->deadline() - wall_now);
    wait =
        left - std::clamp(left / 10, std::chrono::milliseconds(20), std::chrono::milliseconds(100));
  }
  wait = std::clamp(wait, std::chrono::milliseconds(0), options_.max_wait);
  std::uint64_t id = 0;
  switch (calls_.add(
      sighting.customer_id, sighting.sighting_id, PendingCalls::Clock::now() + wait,
      [this, call](const std::string* event_json) { answer(*call, event_json); }, &id)) {
    case PendingCalls::Added::waiting:
      break;
    case PendingCalls::Added::answered:
      // A retry whose first attempt Kafka took after all: its event was already here.
      return reactor;
    case PendingCalls::Added::full:
      finish(reactor, kIdentify,
             {grpc::StatusCode::RESOURCE_EXHAUSTED, "too many IdentifyCustomer calls waiting"});
      return reactor;
    case PendingCalls::Added::closed:
      finish(reactor, kIdentify, {grpc::StatusCode::UNAVAILABLE, "the server is stopping"});
      return reactor;
  }
  const rd_kafka_resp_err_t queued =
      producer_.produce(sighting.customer_id, value, now, [this, call, id](auto result) {
        if (result == RD_KAFKA_RESP_ERR_NO_ERROR) {
          call->delivered = true;
        } else if (calls_.take(id)) {
          spdlog::warn("grpc: a sighting was not delivered to Kafka: {}", rd_kafka_err2str(result));
          finish(call->reactor, kIdentify,
                 {grpc::StatusCode::UNAVAILABLE,
                  "Kafka did not take the sighting; retry with the same sighting_id"});
        }
      });
  if (queued != RD_KAFKA_RESP_ERR_NO_ERROR && calls_.take(id)) {
    finish(reactor, kIdentify,
           {grpc::StatusCode::UNAVAILABLE,
            queued == RD_KAFKA_RESP_ERR__FATAL
                ? "the sighting producer has failed; this instance needs a restart"
                : "the producer's queue is full; retry with the same sighting_id"});
  }
  return reactor;
}

void CustomerService::answer(IdentifyCall& call, const std::string* event_json) {
  v1::Identification& response = *call.response;
  const auto elapsed = [&] { return static_cast<double>(steady_ns() - call.started_ns) / 1e9; };
  // The sighting's store was checked against the token; the event's is too (a registry change
  // between the two could move it).
  if (event_json != nullptr && fill_event(*event_json, *response.mutable_event()) &&
      call.claims.may_use(response.event().store_id())) {
    response.set_status(v1::Identification::IDENTIFIED);
    identified_seconds_.Observe(elapsed());
    finish(call.reactor, kIdentify, grpc::Status::OK);
    return;
  }
  if (!call.delivered) {
    finish(call.reactor, kIdentify,
           {grpc::StatusCode::UNAVAILABLE,
            "Kafka has not taken the sighting yet; retry with the same sighting_id"});
    return;
  }
  response.clear_event();
  response.set_status(v1::Identification::PENDING);
  if (const auto presence = floor_->locate(call.customer_id, wall_clock_ms());
      presence && call.claims.may_use(presence->store_id)) {
    fill_location(*presence, *response.mutable_best_guess());
  }
  if (call.place) *response.mutable_sighting_location() = *call.place;
  pending_seconds_.Observe(elapsed());
  finish(call.reactor, kIdentify, grpc::Status::OK);
}

void CustomerService::on_event(std::string_view value) {
  simdjson::dom::parser parser;
  simdjson::dom::element data;
  if (parser.parse(value.data(), value.size())["data"].get(data) != simdjson::SUCCESS) return;
  std::string_view customer;
  std::string_view sighting;
  if (data["customer_id"].get_string().get(customer) != simdjson::SUCCESS ||
      data["sighting_id"].get_string().get(sighting) != simdjson::SUCCESS) {
    return;
  }
  calls_.complete(customer, sighting, std::string(value));
}

grpc::ServerUnaryReactor* CustomerService::GetCurrentLocation(
    grpc::CallbackServerContext* context, const v1::GetCurrentLocationRequest* request,
    v1::CurrentLocation* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto claims = authenticate(*context);
  if (!claims) {
    finish(reactor, kLocate, claims.error());
    return reactor;
  }
  if (request->customer_id().empty() || request->customer_id().size() > kMaxIdBytes) {
    finish(reactor, kLocate, {grpc::StatusCode::INVALID_ARGUMENT, "customer_id: 1-64 characters"});
    return reactor;
  }
  // Someone on a floor the token may not read is as absent as someone on none.
  const auto presence = floor_->locate(request->customer_id(), wall_clock_ms());
  if (!presence || !claims->may_use(presence->store_id)) {
    finish(reactor, kLocate, {grpc::StatusCode::NOT_FOUND, "not on any floor this token may read"});
    return reactor;
  }
  fill_location(*presence, *response);
  finish(reactor, kLocate, grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* CustomerService::ListPresent(grpc::CallbackServerContext* context,
                                                       const v1::ListPresentRequest* request,
                                                       v1::ListPresentResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto claims = authenticate(*context);
  if (!claims) {
    finish(reactor, kList, claims.error());
    return reactor;
  }
  if (request->store_id().empty() || request->store_id().size() > kMaxIdBytes) {
    finish(reactor, kList, {grpc::StatusCode::INVALID_ARGUMENT, "store_id: 1-64 characters"});
    return reactor;
  }
  if (!claims->may_use(request->store_id())) {
    finish(reactor, kList,
           {grpc::StatusCode::PERMISSION_DENIED, "this token may not read that store"});
    return reactor;
  }
  response->set_store_id(request->store_id());
  for (const FloorPresence& presence : floor_->present(request->store_id(), wall_clock_ms())) {
    fill_location(presence, *response->add_present());
  }
  finish(reactor, kList, grpc::Status::OK);
  return reactor;
}

}  // namespace tastesync
