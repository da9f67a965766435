// The HTTP server in-process, against real sockets: what a hostile or broken client can and
// cannot do to /healthz, and who may read /metrics (docs/design.md, "The HTTP server").
#include "http/metrics_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "pipeline/metrics.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/subprocess.hpp"

namespace tastesync::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using Sent = LoopbackConnection::Sent;

constexpr const char* kServerToken = "s3cret-metrics-token";
// Far above the 2 s request timeout, far below civetweb's default 30 s: a server still on the
// defaults fails, a loaded CI machine does not.
constexpr milliseconds kCutOffWithin{10000};
// "Answers" on two loaded cores under AddressSanitizer; the figures measured are in
// docs/design.md, and the assertions that matter are the ones about the stalled connections.
constexpr milliseconds kAnswerWithin{5000};
constexpr int kSlowClients = 16;

double elapsed_ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

void report(const std::string& what, double ms) {
  std::cout << "[ measured ] " << what << ": " << ms << " ms\n";
  ::testing::Test::RecordProperty(what, std::to_string(ms));
}

class MetricsServerTest : public ::testing::Test {
 protected:
  void start(const std::string& token = "") {
    MetricsConfig config;
    config.port = 0;
    config.bind_address = "127.0.0.1";
    config.token = token;
    server_ = std::make_unique<MetricsServer>(config, registry_, health_);
  }
  int port() const { return server_->port(); }

  std::optional<HttpResponse> get(const std::string& path,
                                  const std::vector<std::string>& headers = {}) const {
    return http_request(port(), path, headers, kAnswerWithin);
  }

  // The request as bytes, and what came back; `closed` false means the server kept it open.
  LoopbackConnection::Received exchange(std::string_view request) const {
    const LoopbackConnection connection(port());
    connection.send(request);
    return connection.receive_until_closed(kCutOffWithin);
  }

  bool healthz_answers() const {
    const auto response = get("/healthz");
    return response && response->status == 200;
  }

  // GET /healthz while `busy` connections hold workers: answered within kAnswerWithin, and
  // without waiting for any of them to time out.
  void expect_probe_answered_while(const std::vector<std::unique_ptr<LoopbackConnection>>& busy,
                                   const std::string& what) const {
    const auto probed = Clock::now();
    const auto response = get("/healthz");
    const double latency_ms = elapsed_ms(probed);
    ASSERT_TRUE(response) << "no answer within " << kAnswerWithin.count() << " ms";
    EXPECT_EQ(response->status, 200);
    EXPECT_LT(latency_ms, static_cast<double>(kAnswerWithin.count()));
    for (const auto& connection : busy) EXPECT_TRUE(connection->peer_still_waiting());
    report(what, latency_ms);
  }

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  PipelineMetrics metrics_{*registry_};
  std::shared_ptr<Health> health_ = std::make_shared<Health>();
  std::unique_ptr<MetricsServer> server_;
};

// --- clients that hold a connection -------------------------------------------------------

TEST_F(MetricsServerTest, HealthzAnswersWhileSixteenConnectionsStallHalfwayThroughTheirHeaders) {
  start();
  std::vector<std::unique_ptr<LoopbackConnection>> stalled;
  for (int i = 0; i < kSlowClients; ++i) {
    stalled.push_back(std::make_unique<LoopbackConnection>(port()));
    ASSERT_EQ(stalled.back()->send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half"),
              Sent::all);
  }
  // Accepted in order: by the time the probe is served, the sixteen hold their workers.
  expect_probe_answered_while(stalled, "/healthz with 16 stalled connections");
}

TEST_F(MetricsServerTest, HealthzAnswersWhileSixteenClientsSendOneByteEvery500Ms) {
  start();
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: yes\r\n\r\n";
  std::vector<std::unique_ptr<LoopbackConnection>> slow;
  for (int i = 0; i < kSlowClients; ++i)
    slow.push_back(std::make_unique<LoopbackConnection>(port()));
  std::atomic<int> bytes_sent{0};
  std::jthread trickle([&](const std::stop_token& stop) {
    for (std::size_t i = 0; i < request.size() && !stop.stop_requested(); ++i) {
      for (const auto& connection : slow) connection->send(request.substr(i, 1), milliseconds(100));
      bytes_sent.store(static_cast<int>(i + 1));
      std::this_thread::sleep_for(milliseconds(500));
    }
  });
  // Two bytes each: every one of them is mid-request, a worker reading it.
  ASSERT_TRUE(wait_until([&] { return bytes_sent.load() >= 2; }, kCutOffWithin, milliseconds(5)));
  expect_probe_answered_while(slow, "/healthz with 16 connections sending a byte every 500 ms");
}

TEST_F(MetricsServerTest, AStalledRequestIsClosedAfterTheRequestTimeout) {
  start();
  const LoopbackConnection connection(port());
  ASSERT_EQ(connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"), Sent::all);
  const auto since = Clock::now();
  const auto received = connection.receive_until_closed(kCutOffWithin);
  EXPECT_TRUE(received.closed);
  if (!received.bytes.empty()) {
    const auto response = parse_http_response(received.bytes);
    ASSERT_TRUE(response) << received.bytes;
    EXPECT_EQ(response->status, 400);
  }
  report("stalled request closed after", elapsed_ms(since));
}

TEST_F(MetricsServerTest, ARequestTrickledOneByteEvery500MsIsCutOffAtTheRequestTimeout) {
  start();
  const LoopbackConnection connection(port());
  // Each byte arrives well inside any per-read timeout; only a deadline for the whole request
  // ends it.
  const auto since = Clock::now();
  bool cut_off = false;
  while (!cut_off && Clock::now() - since < kCutOffWithin) {
    cut_off =
        connection.send("a", milliseconds(500)) != Sent::all || !connection.peer_still_waiting();
    if (!cut_off) std::this_thread::sleep_for(milliseconds(500));
  }
  EXPECT_TRUE(cut_off);
  report("trickled request cut off after", elapsed_ms(since));
}

// --- hostile bytes --------------------------------------------------------------------------

TEST_F(MetricsServerTest, MalformedRequestsGetA4xxAndTheServerStaysUp) {
  start();
  const std::vector<std::string> requests = {
      "THIS IS NOT HTTP\r\n\r\n",
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15),
      "GET\r\n\r\n",
      "GET /healthz\r\n\r\n",
      "GET /healthz HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
      "GET healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nno colon in this header\r\n\r\n",
      "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n",
  };
  for (const std::string& request : requests) {
    SCOPED_TRACE(request.substr(0, 60));
    const auto received = exchange(request);
    EXPECT_TRUE(received.closed);
    if (!received.bytes.empty()) {
      const auto response = parse_http_response(received.bytes);
      ASSERT_TRUE(response) << received.bytes.substr(0, 200);
      EXPECT_GE(response->status, 400);
      EXPECT_LT(response->status, 600);
    }
    EXPECT_TRUE(healthz_answers());
  }
}

TEST_F(MetricsServerTest, AOneMegabyteHeaderIsRefusedAndTheServerStaysUp) {
  start();
  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + std::string(1 << 20, 'a') +
      "\r\n\r\n";
  const auto received = exchange(request);
  EXPECT_TRUE(received.closed);
  // The refusal can be lost to the reset that closing on unread bytes causes. civetweb 1.15
  // answers 400 here (its 413 branch is unreachable), never a 200.
  if (!received.bytes.empty()) {
    const auto response = parse_http_response(received.bytes);
    ASSERT_TRUE(response) << received.bytes.substr(0, 200);
    EXPECT_TRUE(response->status == 400 || response->status == 413) << response->status;
  }
  EXPECT_TRUE(healthz_answers());
}

TEST_F(MetricsServerTest, AHeaderThatNeverEndsIsNotReadBeyondTheRequestBuffer) {
  start();
  const LoopbackConnection connection(port());
  ASSERT_EQ(connection.send("GET /healthz HTTP/1.1\r\nX-Padding: "), Sent::all);
  // More than every socket buffer between the two ends can hold (tcp_rmem allows 32 MiB): the
  // client can only send it all if the server keeps reading, i.e. keeps buffering.
  const std::string chunk(1 << 20, 'a');
  Sent sent = Sent::all;
  for (int i = 0; i < 64 && sent == Sent::all; ++i) sent = connection.send(chunk, kCutOffWithin);
  EXPECT_EQ(sent, Sent::peer_closed);
  EXPECT_TRUE(healthz_answers());
}

// --- who may read /metrics ------------------------------------------------------------------

TEST_F(MetricsServerTest, WithoutATokenMetricsAreOpen) {
  start();
  const auto response = get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->body.find("tastesync_records_consumed_total"), std::string::npos);
}

TEST_F(MetricsServerTest, MetricsWithoutCredentialsGet401WithABearerChallenge) {
  start(kServerToken);
  const auto response = get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->header("WWW-Authenticate"), "Bearer realm=\"tastesync\"");
  EXPECT_EQ(response->body.find("tastesync_"), std::string::npos) << response->body;
}

TEST_F(MetricsServerTest, MetricsWithAWrongTokenGet401AndNeitherTokenIsEchoed) {
  start(kServerToken);
  const std::string wrong = "s3cret-metrics-tokeN";
  const auto response = get("/metrics", {"Authorization: Bearer " + wrong});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->header("WWW-Authenticate"),
            "Bearer realm=\"tastesync\", error=\"invalid_token\"");
  for (const std::string& text : {response->head, response->body}) {
    EXPECT_EQ(text.find(wrong), std::string::npos) << text;
    EXPECT_EQ(text.find(kServerToken), std::string::npos) << text;
  }
}

TEST_F(MetricsServerTest, MetricsWithTheTokenGet200) {
  start(kServerToken);
  for (const char* scheme : {"Bearer", "bearer", "BEARER"}) {
    const auto response =
        get("/metrics", {std::string("Authorization: ") + scheme + " " + kServerToken});
    ASSERT_TRUE(response) << scheme;
    EXPECT_EQ(response->status, 200) << scheme;
    EXPECT_NE(response->body.find("tastesync_records_consumed_total"), std::string::npos);
  }
}

TEST_F(MetricsServerTest, TheFloorAnswers503UntilItsStateIsAttachedThenTheStreamsEndWithTheServer) {
  start();
  const auto early = get("/floor");
  ASSERT_TRUE(early);
  EXPECT_EQ(early->status, 503);
  EXPECT_EQ(early->header("Retry-After").value_or(""), "2");
  EXPECT_EQ(get("/floor/events")->status, 503);
  EXPECT_EQ(get("/floorplan")->status, 404) << "exactly /floor, not a prefix";

  server_->serve_floor(
      std::make_shared<FloorState>(std::vector<FloorLocation>{{"store100", "Table 3", "table"}},
                                   std::chrono::seconds(180), false));
  EXPECT_EQ(get("/floor")->status, 200);
  // An open stream gets the snapshot at once, and ends when the server goes.
  const LoopbackConnection stream(port());
  stream.send("GET /floor/events HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto first = stream.receive_until_closed(std::chrono::milliseconds(500));
  EXPECT_NE(first.bytes.find("Content-Type: text/event-stream"), std::string::npos) << first.bytes;
  EXPECT_NE(first.bytes.find(R"(data: {"version":1,"stores":[{"store_id":"store100")"),
            std::string::npos)
      << first.bytes;
  server_.reset();  // would hang here if the stream's worker never ended
  EXPECT_TRUE(stream.receive_until_closed(std::chrono::seconds(5)).closed);
}

TEST_F(MetricsServerTest, NearlyTheTokenIsNotTheToken) {
  start(kServerToken);
  const std::string token = kServerToken;
  for (const std::string& authorization :
       {"Bearer " + token.substr(0, token.size() - 1), "Bearer " + token + "x",
        "Bearer " + token + token, std::string("Bearer "), std::string("Bearer"), token,
        "Basic " + token, "Bearer  " + token.substr(1), "Bearer x" + token}) {
    const auto response = get("/metrics", {"Authorization: " + authorization});
    ASSERT_TRUE(response) << authorization;
    EXPECT_EQ(response->status, 401) << authorization;
  }
}

TEST_F(MetricsServerTest, ProbesNeedNoToken) {
  start(kServerToken);
  health_->set_ready(true);
  for (const char* probe : {"/healthz", "/readyz"}) {
    const auto response = get(probe);
    ASSERT_TRUE(response) << probe;
    EXPECT_EQ(response->status, 200) << probe;
  }
}

TEST_F(MetricsServerTest, NoOtherSpellingOfThePathGetsTheMetricsWithoutTheToken) {
  start(kServerToken);
  for (const char* path : {"/metrics/", "/metrics?format=text", "/metrics/x", "/healthz/../metrics",
                           "/readyz/%2e%2e/metrics", "/%6detrics", "//metrics", "/./metrics",
                           "/metrics%00", "/METRICS"}) {
    const auto response = get(path);
    ASSERT_TRUE(response) << path;
    EXPECT_EQ(response->body.find("tastesync_records_consumed_total"), std::string::npos)
        << path << " answered " << response->status;
  }
}

}  // namespace
}  // namespace tastesync::testing
