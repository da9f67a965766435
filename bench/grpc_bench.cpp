// IdentifyCustomer's latency as an app sees it (issue 16): calls at a fixed rate (open loop: a
// slow answer never delays the next call) against a running `tastesync run` with gRPC on, each
// a new customer's sighting at a table, so that each should come back IDENTIFIED. Prints the
// call rate held, how many were IDENTIFIED / PENDING / failed, and p50/p90/p99/max of each kind,
// as one JSON line. No assertions: bench/grpc_latency.sh runs it and docs/grpc.md has figures.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "common/event_time.hpp"
#include "tastesync/v1/customer_id.grpc.pb.h"
#include "tests/support/test_credentials.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::string canonical_now() {
  return tastesync::format_canonical_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
}

struct Latencies {
  std::mutex mutex;
  std::vector<double> identified_ms;
  std::vector<double> pending_ms;
  std::vector<double> failed_ms;
};

std::string percentiles(std::vector<double> values) {
  if (values.empty()) return "null";
  std::sort(values.begin(), values.end());
  const auto at = [&](double q) {
    return values[std::min(values.size() - 1, static_cast<std::size_t>(q * values.size()))];
  };
  std::ostringstream out;
  out.precision(1);
  out << std::fixed << R"({"n":)" << values.size() << R"(,"p50":)" << at(0.5) << R"(,"p90":)"
      << at(0.9) << R"(,"p99":)" << at(0.99) << R"(,"max":)" << values.back() << "}";
  return out.str();
}

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"IdentifyCustomer latency at a fixed call rate"};
  std::string target = "127.0.0.1:50051";
  std::string private_key_file;
  std::string issuer = "https://auth.tastesync.test";
  std::string audience = "tastesync-customer-id";
  double rate = 200;
  double seconds = 30;
  int deadline_ms = 1000;
  int minor = 13;
  std::string prefix = "bench";
  app.add_option("--target", target, "host:port of the gRPC service");
  app.add_option("--private-key", private_key_file, "PEM private key the tokens are signed with")
      ->required();
  app.add_option("--issuer", issuer);
  app.add_option("--audience", audience);
  app.add_option("--rate", rate, "calls per second");
  app.add_option("--seconds", seconds, "how long to call");
  app.add_option("--deadline-ms", deadline_ms, "each call's deadline");
  app.add_option("--minor", minor, "the beacon (major 100) each sighting reports");
  app.add_option("--prefix", prefix, "customer and sighting id prefix (unique per run)");
  CLI11_PARSE(app, argc, argv);

  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  const std::string token = tastesync::testing::sign_token(
      R"({"iss":")" + issuer + R"(","aud":")" + audience + R"(","sub":"bench","exp":)" +
          std::to_string(now_s + 3600) + R"(,"store_id":"*"})",
      read_file(private_key_file));
  const auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  const auto stub = tastesync::v1::CustomerIdentification::NewStub(channel);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    std::fprintf(stderr, "grpc_bench: cannot connect to %s\n", target.c_str());
    return 1;
  }

  struct Call {
    grpc::ClientContext context;
    tastesync::v1::Sighting request;
    tastesync::v1::Identification response;
    Clock::time_point sent;
  };
  Latencies latencies;
  std::atomic<int> outstanding{0};
  const auto total = static_cast<long>(rate * seconds);
  const auto interval = std::chrono::nanoseconds(static_cast<long>(1e9 / rate));
  const Clock::time_point start = Clock::now();
  for (long i = 0; i < total; ++i) {
    std::this_thread::sleep_until(start + i * interval);
    auto* call = new Call;
    call->context.AddMetadata("authorization", "Bearer " + token);
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(deadline_ms));
    const std::string id = prefix + "-" + std::to_string(i);
    call->request.set_sighting_id(id);
    call->request.set_customer_id(id);
    auto* beacon = call->request.mutable_beacon();
    beacon->set_uuid("550e8400-e29b-41d4-a716-446655440000");
    beacon->set_major(100);
    beacon->set_minor(minor);
    beacon->set_rssi(-45);
    beacon->set_tx_power(-59);
    call->request.set_detected_at(canonical_now());
    call->sent = Clock::now();
    ++outstanding;
    stub->async()->IdentifyCustomer(
        &call->context, &call->request, &call->response,
        [call, &latencies, &outstanding](const grpc::Status& status) {
          const double ms =
              std::chrono::duration<double, std::milli>(Clock::now() - call->sent).count();
          {
            const std::lock_guard lock(latencies.mutex);
            if (!status.ok()) {
              latencies.failed_ms.push_back(ms);
            } else if (call->response.status() == tastesync::v1::Identification::IDENTIFIED) {
              latencies.identified_ms.push_back(ms);
            } else {
              latencies.pending_ms.push_back(ms);
            }
          }
          delete call;
          --outstanding;
        });
  }
  const double sent_s = std::chrono::duration<double>(Clock::now() - start).count();
  while (outstanding > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const std::lock_guard lock(latencies.mutex);
  std::printf(R"({"calls":%ld,"rate_asked":%.0f,"rate_held":%.1f,"deadline_ms":%d,"identified":%s,)"
              R"("pending":%s,"failed":%s})"
              "\n",
              total, rate, static_cast<double>(total) / sent_s, deadline_ms,
              percentiles(latencies.identified_ms).c_str(),
              percentiles(latencies.pending_ms).c_str(), percentiles(latencies.failed_ms).c_str());
  return 0;
}
