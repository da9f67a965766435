// Issue 16, item 1: the gRPC front door of `tastesync run` (docs/grpc.md), called by a real
// gRPC C++ client over the network: IdentifyCustomer answered with the event the pipeline
// published (also when another instance owns the customer's partition), PENDING at the deadline,
// the parse stage's error codes, RS256 tokens refused for each reason with its status code,
// store limits, the floor queries with masking, health, reflection, TLS and mutual TLS.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <iostream>
#include <regex>
#include <thread>

#include "tastesync/v1/customer_id.grpc.pb.h"
#include "tests/support/broker_test.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_credentials.hpp"

namespace tastesync::testing {
namespace {

constexpr const char* kIssuer = "https://auth.tastesync.test";
constexpr const char* kAudience = "tastesync-customer-id";

// A beacon sighting made now, as a phone reports it.
v1::Sighting sighting_now(const std::string& id, const std::string& customer, int minor,
                          int rssi = -45) {
  v1::Sighting sighting;
  sighting.set_sighting_id(id);
  sighting.set_customer_id(customer);
  sighting.mutable_beacon()->set_uuid(std::string(kDeploymentUuid));
  sighting.mutable_beacon()->set_major(100);
  sighting.mutable_beacon()->set_minor(minor);
  sighting.mutable_beacon()->set_rssi(rssi);
  sighting.mutable_beacon()->set_tx_power(-59);
  sighting.set_detected_at(canonical_time(wall_clock_ms()));
  return sighting;
}

std::string claims(const std::string& stores, std::int64_t exp_s,
                   const std::string& audience = kAudience) {
  return std::string(R"({"iss":")") + kIssuer + R"(","aud":")" + audience +
         R"(","sub":"test-app","exp":)" + std::to_string(exp_s) + R"(,"store_id":)" + stores + "}";
}

struct Answer {
  grpc::Status status;
  v1::Identification identification;
  std::multimap<std::string, std::string> trailers;
  std::chrono::milliseconds took{0};
};

// HealthCheckRequest{service} and the status of a HealthCheckResponse, by hand: gRPC's own
// health.proto is not shipped by Debian, and the wire format is two fields.
grpc::ByteBuffer health_request(const std::string& service) {
  std::string bytes = "\x0a" + std::string(1, static_cast<char>(service.size())) + service;
  const grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string bytes_of(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) return bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

class Grpc : public BrokerTest {
 protected:
  static void SetUpTestSuite() { keys_ = new RsaKeys(generate_rsa_keys()); }
  static void TearDownTestSuite() { delete keys_; }

  // The environment for a run with gRPC on `grpc_port_`, tokens checked against keys_.
  Environment grpc_environment() {
    grpc_port_ = free_loopback_port();
    const auto key_file = dir() / "issuer.pem";
    std::ofstream(key_file) << keys_->public_pem;
    return {{"TASTESYNC_GRPC__PORT", std::to_string(grpc_port_)},
            {"TASTESYNC_GRPC__JWT_PUBLIC_KEY_FILE", key_file.string()},
            {"TASTESYNC_GRPC__JWT_ISSUER", kIssuer},
            {"TASTESYNC_GRPC__JWT_AUDIENCE", kAudience}};
  }

  // `tastesync run` on this broker with `environment`, ready on /readyz.
  std::unique_ptr<PipelineProcess> start_ready(const std::string& name, Environment environment,
                                               const std::string& consumer_mode = "assign") {
    const int metrics_port = free_loopback_port();
    PipelineOptions options = pipeline_options(name, name);
    options.extra_arguments = {"--metrics-port", std::to_string(metrics_port)};
    options.environment = std::move(environment);
    options.consumer_mode = consumer_mode;
    if (consumer_mode == "group") options.group_id = "grpc-group";
    auto pipeline = start_pipeline(options);
    const bool ready = wait_until(
        [&] {
          const auto answer = http_request(metrics_port, "/readyz");
          return answer && answer->status == 200;
        },
        kOutputTimeout);
    EXPECT_TRUE(ready) << pipeline->process().stderr_text();
    return pipeline;
  }

  std::shared_ptr<grpc::Channel> channel(
      std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials(),
      const std::string& host = "127.0.0.1") const {
    return grpc::CreateChannel(host + ":" + std::to_string(grpc_port_), std::move(credentials));
  }

  static std::string token(const std::string& stores = R"("store100")",
                           std::int64_t valid_s = 600) {
    return sign_token(claims(stores, wall_clock_ms() / 1000 + valid_s), keys_->private_pem);
  }

  static Answer identify(v1::CustomerIdentification::Stub& stub, const v1::Sighting& sighting,
                         const std::string& bearer,
                         std::chrono::milliseconds deadline = std::chrono::milliseconds(0)) {
    grpc::ClientContext context;
    if (!bearer.empty()) context.AddMetadata("authorization", "Bearer " + bearer);
    if (deadline.count() > 0) context.set_deadline(std::chrono::system_clock::now() + deadline);
    Answer answer;
    const auto start = std::chrono::steady_clock::now();
    answer.status = stub.IdentifyCustomer(&context, sighting, &answer.identification);
    answer.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    for (const auto& [name, value] : context.GetServerTrailingMetadata()) {
      answer.trailers.emplace(std::string(name.data(), name.size()),
                              std::string(value.data(), value.size()));
    }
    return answer;
  }

  // Sightings of `customer` at `minor`, one call each, until one comes back IDENTIFIED. Each
  // call may wait 10 s (a slow machine's first produce can take over the 1 s default); one
  // answered UNAVAILABLE is sent again with the same sighting_id, as docs/grpc.md tells apps.
  static std::optional<Answer> identify_until_identified(v1::CustomerIdentification::Stub& stub,
                                                         const std::string& customer, int minor,
                                                         const std::string& prefix,
                                                         const std::string& bearer) {
    for (int i = 0; i < 40; ++i) {
      const v1::Sighting sighting = sighting_now(prefix + std::to_string(i), customer, minor);
      Answer answer;
      for (int attempt = 0; attempt < 3; ++attempt) {
        answer = identify(stub, sighting, bearer, std::chrono::seconds(10));
        if (answer.status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
      }
      EXPECT_TRUE(answer.status.ok()) << answer.status.error_message();
      if (!answer.status.ok()) return std::nullopt;
      if (answer.identification.status() == v1::Identification::IDENTIFIED) return answer;
    }
    return std::nullopt;
  }

  std::string health(const std::string& service) const {
    grpc::GenericStub generic(channel());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const grpc::ByteBuffer request = health_request(service);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                      &response, [&done](const grpc::Status& status) { done.set_value(status); });
    const grpc::Status status = done.get_future().get();
    if (!status.ok()) return "error: " + status.error_message();
    const std::string bytes = bytes_of(response);
    return bytes == std::string("\x08\x01", 2) ? "SERVING" : "other: " + bytes;
  }

  // One ServerReflectionInfo exchange over a generic bidi stream: the raw response bytes.
  std::string reflection(const std::string& request_bytes) const {
    grpc::GenericStub generic(channel());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::CompletionQueue queue;
    auto stream = generic.PrepareCall(
        &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
    void* tag = nullptr;
    bool ok = false;
    const auto step = [&](int expected) {
      return queue.Next(&tag, &ok) && ok && tag == reinterpret_cast<void*>(expected);
    };
    stream->StartCall(reinterpret_cast<void*>(1));
    if (!step(1)) return "no call";
    const grpc::Slice slice(request_bytes);
    stream->Write(grpc::ByteBuffer(&slice, 1), reinterpret_cast<void*>(2));
    if (!step(2)) return "no write";
    grpc::ByteBuffer response;
    stream->Read(&response, reinterpret_cast<void*>(3));
    if (!step(3)) return "no read";
    stream->WritesDone(reinterpret_cast<void*>(4));
    step(4);
    grpc::Status status;
    stream->Finish(&status, reinterpret_cast<void*>(5));
    step(5);
    return bytes_of(response);
  }

  static RsaKeys* keys_;
  int grpc_port_ = 0;
};
RsaKeys* Grpc::keys_ = nullptr;

TEST_F(Grpc, IdentifyCustomerAnswersWithTheEventThePipelinePublishedAndPendingOtherwise) {
  start_broker();
  auto pipeline = start_ready("grpc", grpc_environment());
  ASSERT_FALSE(HasFailure());
  EXPECT_NE(pipeline->process().stderr_text().find("grpc on 127.0.0.1:"), std::string::npos);
  ASSERT_TRUE(wait_until([&] { return health("") == "SERVING"; }, kOutputTimeout)) << health("");
  EXPECT_EQ(health("tastesync.v1.CustomerIdentification"), "SERVING");

  const auto stub = v1::CustomerIdentification::NewStub(channel());
  const std::string bearer = token();
  const auto identified = identify_until_identified(*stub, "grpc-guest", 13, "g-", bearer);
  ASSERT_TRUE(identified);
  const v1::CustomerIdentified& event = identified->identification.event();
  EXPECT_EQ(event.customer_id(), "grpc-guest");
  EXPECT_EQ(event.location(), "Table 3");
  EXPECT_EQ(event.store_id(), "store100");
  EXPECT_EQ(event.identification(), "arrival");
  EXPECT_GE(event.confidence(), 0.8);
  std::cout << "[ identify ] IDENTIFIED in " << identified->took.count() << " ms\n";

  // The answer is the record on customer-events, and the sighting went to raw-beacons keyed by
  // the customer, with the record timestamp set.
  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(events.read_until(
      [&](const auto&) { return event_of_sighting(events.records(), event.sighting_id()); },
      kOutputTimeout));
  const Record* published = event_of_sighting(events.records(), event.sighting_id());
  EXPECT_EQ(published->header_text("event_id"), event.event_id());
  EXPECT_EQ(json_string(parse_json(published->value), "/timestamp"), event.timestamp());
  TopicReader sightings(brokers(), "raw-beacons");
  ASSERT_TRUE(sightings.read_until(
      [&](const std::vector<Record>& records) {
        return std::any_of(records.begin(), records.end(), [&](const Record& r) {
          return r.value && r.value->find(event.sighting_id()) != std::string::npos;
        });
      },
      kOutputTimeout));
  for (const Record& record : sightings.records()) {
    EXPECT_EQ(record.key, "grpc-guest");
    EXPECT_GT(record.timestamp_ms, wall_clock_ms() - 120000);
  }

  // A sighting the pipeline makes no event of (the same place again within the dedupe
  // interval): PENDING shortly before the caller's deadline, with where they are.
  const Answer pending = identify(*stub, sighting_now("g-again", "grpc-guest", 13), bearer,
                                  std::chrono::milliseconds(1500));
  ASSERT_TRUE(pending.status.ok()) << pending.status.error_message();
  EXPECT_EQ(pending.identification.status(), v1::Identification::PENDING);
  EXPECT_EQ(pending.identification.best_guess().location(), "Table 3");
  EXPECT_EQ(pending.identification.sighting_location().location(), "Table 3");

  // A deadline too short for anything: the caller gets DEADLINE_EXCEEDED, the server goes on.
  const Answer hurried = identify(*stub, sighting_now("g-hurried", "grpc-guest", 13), bearer,
                                  std::chrono::milliseconds(1));
  EXPECT_EQ(hurried.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(identify(*stub, sighting_now("g-after", "grpc-guest", 13), bearer).status.ok());
  EXPECT_TRUE(pipeline->stop().exited_with(0)) << pipeline->process().stderr_text();
}

TEST_F(Grpc, ASightingThePipelineWouldDeadLetterIsInvalidArgumentWithTheSameCode) {
  start_broker();
  auto pipeline = start_ready("grpc-invalid", grpc_environment());
  ASSERT_FALSE(HasFailure());
  const auto stub = v1::CustomerIdentification::NewStub(channel());
  const std::string bearer = token();

  const auto rejected_with = [&](const v1::Sighting& sighting, const std::string& code) {
    const Answer answer = identify(*stub, sighting, bearer);
    EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << code;
    const auto trailer = answer.trailers.find("tastesync-error-code");
    ASSERT_NE(trailer, answer.trailers.end()) << code;
    EXPECT_EQ(trailer->second, code);
    v1::RpcStatus details;
    ASSERT_TRUE(details.ParseFromString(answer.status.error_details())) << code;
    ASSERT_EQ(details.details_size(), 1);
    v1::SightingRejected rejected;
    ASSERT_TRUE(details.details(0).UnpackTo(&rejected));
    EXPECT_EQ(rejected.code(), code);
    EXPECT_EQ(details.code(), grpc::StatusCode::INVALID_ARGUMENT);
  };
  v1::Sighting bad_uuid = sighting_now("bad-1", "grpc-bad", 13);
  bad_uuid.mutable_beacon()->set_uuid("550e8400");
  rejected_with(bad_uuid, "bad_uuid");
  v1::Sighting no_customer = sighting_now("bad-2", "grpc-bad", 13);
  no_customer.clear_customer_id();
  rejected_with(no_customer, "missing_field");
  v1::Sighting loud = sighting_now("bad-3", "grpc-bad", 13, 20);
  rejected_with(loud, "out_of_range");
  v1::Sighting future = sighting_now("bad-4", "grpc-bad", 13);
  future.set_detected_at(canonical_time(wall_clock_ms() + 3600 * 1000));
  rejected_with(future, "too_far_in_future");
  v1::Sighting old = sighting_now("bad-5", "grpc-bad", 13);
  old.set_detected_at(canonical_time(wall_clock_ms() - 48 * 3600 * 1000));
  rejected_with(old, "too_old");

  // None of them reached raw-beacons.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(read_all("raw-beacons").empty());
  EXPECT_TRUE(pipeline->stop().exited_with(0));
}

TEST_F(Grpc, EachBadTokenGetsItsStatusCodeAndNothingElse) {
  start_broker();
  auto pipeline = start_ready("grpc-auth", grpc_environment());
  ASSERT_FALSE(HasFailure());
  const auto stub = v1::CustomerIdentification::NewStub(channel());
  const v1::Sighting sighting = sighting_now("auth-1", "grpc-auth", 13);
  const auto code_of = [&](const std::string& bearer) {
    const Answer answer = identify(*stub, sighting, bearer);
    EXPECT_FALSE(answer.identification.has_event());
    return answer.status.error_code();
  };
  const std::int64_t now_s = wall_clock_ms() / 1000;
  const RsaKeys stranger = generate_rsa_keys();

  EXPECT_EQ(code_of(""), grpc::StatusCode::UNAUTHENTICATED) << "no token";
  EXPECT_EQ(code_of(sign_token(claims(R"("store100")", now_s + 600), stranger.private_pem)),
            grpc::StatusCode::UNAUTHENTICATED)
      << "bad signature";
  EXPECT_EQ(code_of(sign_token(claims(R"("store100")", now_s - 3600), keys_->private_pem)),
            grpc::StatusCode::UNAUTHENTICATED)
      << "expired";
  EXPECT_EQ(code_of(sign_token(claims(R"("store100")", now_s + 600, "another-service"),
                               keys_->private_pem)),
            grpc::StatusCode::UNAUTHENTICATED)
      << "wrong audience";
  EXPECT_EQ(
      code_of(sign_token(claims(R"("store100")", now_s + 600), keys_->public_pem, JWT_ALG_HS256)),
      grpc::StatusCode::UNAUTHENTICATED)
      << "HS256 over the public key";
  EXPECT_EQ(code_of(token(R"("store200")")), grpc::StatusCode::PERMISSION_DENIED)
      << "a token for another store";

  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + token(R"("store200")"));
  v1::ListPresentRequest request;
  request.set_store_id("store100");
  v1::ListPresentResponse response;
  const grpc::Status listed = stub->ListPresent(&context, request, &response);
  EXPECT_EQ(listed.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(response.present_size(), 0);

  // Refused calls produce nothing; the log names no token.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(read_all("raw-beacons").empty());
  EXPECT_TRUE(pipeline->stop().exited_with(0));
  EXPECT_EQ(pipeline->process().stderr_text().find("eyJ"), std::string::npos);
}

TEST_F(Grpc, WithNoKeyConfiguredEveryCallIsRefusedAndTheStartSaysSo) {
  start_broker();
  grpc_port_ = free_loopback_port();
  auto pipeline = start_ready("grpc-nokey", {{"TASTESYNC_GRPC__PORT", std::to_string(grpc_port_)}});
  ASSERT_FALSE(HasFailure());
  EXPECT_NE(pipeline->process().stderr_text().find("every call is refused UNAUTHENTICATED"),
            std::string::npos);
  const auto stub = v1::CustomerIdentification::NewStub(channel());
  EXPECT_EQ(identify(*stub, sighting_now("nk-1", "grpc-nokey", 13), token()).status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(pipeline->stop().exited_with(0));
}

TEST_F(Grpc, ConcurrentCallersEachGetTheirOwnSightingsEvent) {
  start_broker();
  auto pipeline = start_ready("grpc-concurrent", grpc_environment());
  ASSERT_FALSE(HasFailure());
  const auto shared = channel();
  constexpr int kCallers = 8;
  std::vector<std::future<std::optional<Answer>>> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.push_back(std::async(std::launch::async, [this, c] {
      const auto stub = v1::CustomerIdentification::NewStub(channel());
      return identify_until_identified(*stub, "concurrent-" + std::to_string(c), 11 + c % 5,
                                       "c" + std::to_string(c) + "-", token());
    }));
  }
  for (int c = 0; c < kCallers; ++c) {
    const auto answer = callers[static_cast<std::size_t>(c)].get();
    ASSERT_TRUE(answer) << "caller " << c;
    const auto& event = answer->identification.event();
    EXPECT_EQ(event.customer_id(), "concurrent-" + std::to_string(c));
    EXPECT_EQ(event.sighting_id().rfind("c" + std::to_string(c) + "-", 0), 0U)
        << event.sighting_id();
  }
  EXPECT_TRUE(pipeline->stop().exited_with(0));
}

TEST_F(Grpc, TheFloorQueriesFollowTheEventsWithTheFloorsMasking) {
  start_broker();
  Environment environment = grpc_environment();
  environment.emplace_back("TASTESYNC_FLOOR__MASK_IDS", "true");
  auto pipeline = start_ready("grpc-floor", environment);
  ASSERT_FALSE(HasFailure());
  const auto stub = v1::CustomerIdentification::NewStub(channel());
  const std::string bearer = token();
  ASSERT_TRUE(identify_until_identified(*stub, "floor-guest", 14, "f-", bearer));

  grpc::ClientContext locate_context;
  locate_context.AddMetadata("authorization", "Bearer " + bearer);
  v1::GetCurrentLocationRequest locate;
  locate.set_customer_id("floor-guest");
  v1::CurrentLocation where;
  ASSERT_TRUE(stub->GetCurrentLocation(&locate_context, locate, &where).ok());
  EXPECT_EQ(where.location(), "Table 4");
  EXPECT_EQ(where.store_id(), "store100");
  EXPECT_EQ(where.customer_id(), "fl\u2022\u2022\u2022st");

  grpc::ClientContext list_context;
  list_context.AddMetadata("authorization", "Bearer " + bearer);
  v1::ListPresentRequest list;
  list.set_store_id("store100");
  v1::ListPresentResponse present;
  ASSERT_TRUE(stub->ListPresent(&list_context, list, &present).ok());
  ASSERT_EQ(present.present_size(), 1);
  EXPECT_EQ(present.present(0).location(), "Table 4");

  // Someone nobody has seen, and someone on a floor this token may not read: both NOT_FOUND.
  grpc::ClientContext unknown_context;
  unknown_context.AddMetadata("authorization", "Bearer " + bearer);
  locate.set_customer_id("nobody");
  EXPECT_EQ(stub->GetCurrentLocation(&unknown_context, locate, &where).error_code(),
            grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext other_store_context;
  other_store_context.AddMetadata("authorization", "Bearer " + token(R"("store200")"));
  locate.set_customer_id("floor-guest");
  EXPECT_EQ(stub->GetCurrentLocation(&other_store_context, locate, &where).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Server reflection lists the service and serves its descriptor.
  const std::string services = reflection(std::string("\x3a\x01*", 3));
  EXPECT_NE(services.find("tastesync.v1.CustomerIdentification"), std::string::npos) << services;
  EXPECT_NE(services.find("grpc.health.v1.Health"), std::string::npos) << services;
  const std::string symbol = "tastesync.v1.CustomerIdentification";
  const std::string descriptor =
      reflection("\x22" + std::string(1, static_cast<char>(symbol.size())) + symbol);
  EXPECT_NE(descriptor.find("tastesync/v1/customer_id.proto"), std::string::npos);
  EXPECT_NE(descriptor.find("IdentifyCustomer"), std::string::npos);
  EXPECT_TRUE(pipeline->stop().exited_with(0));
}

TEST_F(Grpc, AnInstanceAnswersForACustomerWhosePartitionAnotherInstanceOwns) {
  start_broker();
  auto front = start_ready("grpc-front", grpc_environment(), "group");
  ASSERT_FALSE(HasFailure());
  auto other = start_ready("grpc-other", {}, "group");
  ASSERT_FALSE(HasFailure());
  // Wait until the other instance has partitions, and take a customer in one of them.
  std::smatch owned;
  const std::regex assigned(R"(assigned partitions \[([0-9, ]+)\])");
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string log = other->process().stderr_text();
        return std::regex_search(log, owned, assigned);
      },
      kOutputTimeout))
      << other->process().stderr_text();
  const std::string log = other->process().stderr_text();
  std::regex_search(log, owned, assigned);
  const int partition = std::stoi(owned[1].str());
  std::string customer;
  for (int i = 0; customer.empty(); ++i) {
    const std::string candidate = "elsewhere-" + std::to_string(i);
    if (murmur2_partition(candidate, 6) == partition) customer = candidate;
  }
  std::cout << "[ routing  ] " << customer << " is in partition " << partition
            << ", owned by the other instance\n";
  const auto stub = v1::CustomerIdentification::NewStub(channel());
  const auto identified = identify_until_identified(*stub, customer, 13, "e-", token());
  ASSERT_TRUE(identified);
  EXPECT_EQ(identified->identification.event().customer_id(), customer);
  EXPECT_TRUE(front->stop().exited_with(0));
  EXPECT_TRUE(other->stop().exited_with(0));
}

TEST_F(Grpc, TlsAndMutualTlsAreServedWithTheConfiguredCertificates) {
  start_broker();
  const TlsFiles tls = make_tls_files();
  const auto write = [&](const std::string& name, const std::string& text) {
    const auto path = dir() / name;
    std::ofstream(path) << text;
    return path.string();
  };
  Environment environment = grpc_environment();
  environment.emplace_back("TASTESYNC_GRPC__TLS_CERT_FILE",
                           write("server.pem", tls.server_cert_pem));
  environment.emplace_back("TASTESYNC_GRPC__TLS_KEY_FILE", write("server.key", tls.server_key_pem));
  environment.emplace_back("TASTESYNC_GRPC__TLS_CLIENT_CA_FILE", write("ca.pem", tls.ca_pem));
  auto pipeline = start_ready("grpc-tls", environment);
  ASSERT_FALSE(HasFailure());
  EXPECT_NE(pipeline->process().stderr_text().find("(mutual TLS)"), std::string::npos);

  const auto call = [&](std::shared_ptr<grpc::ChannelCredentials> credentials) {
    // By address, not "localhost": the name would go through c-ares, whose resolver leaks
    // a few bytes per channel in this test process (LeakSanitizer fails the run).
    const auto stub = v1::CustomerIdentification::NewStub(channel(std::move(credentials)));
    return identify(*stub, sighting_now("tls-" + std::to_string(wall_clock_ms()), "tls-guest", 13),
                    token(), std::chrono::seconds(5))
        .status;
  };
  grpc::SslCredentialsOptions with_client_cert;
  with_client_cert.pem_root_certs = tls.ca_pem;
  with_client_cert.pem_private_key = tls.client_key_pem;
  with_client_cert.pem_cert_chain = tls.client_cert_pem;
  const grpc::Status mutual = call(grpc::SslCredentials(with_client_cert));
  EXPECT_TRUE(mutual.ok()) << mutual.error_message();

  grpc::SslCredentialsOptions without_client_cert;
  without_client_cert.pem_root_certs = tls.ca_pem;
  EXPECT_EQ(call(grpc::SslCredentials(without_client_cert)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(call(grpc::InsecureChannelCredentials()).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(pipeline->stop().exited_with(0));
}

}  // namespace
}  // namespace tastesync::testing
