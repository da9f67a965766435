#include "http/metrics_server.hpp"

#include <CivetServer.h>
#include <openssl/crypto.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <optional>
#include <string_view>
#include <thread>

#include "common/clock.hpp"
#include "config/config.hpp"
#include "http/floor_page.hpp"

namespace tastesync {
namespace {

// docs/design.md, "The HTTP server": a stalled or slow client holds one worker thread until the
// request timeout; 32 workers leave /healthz a free one with 16 such clients and more to spare.
constexpr int kWorkerThreads = 32;
// Counted from the request's first byte to its blank line, however slowly the bytes come: a
// client trickling a byte at a time is cut off as surely as one that stops.
constexpr int kRequestTimeoutMs = 2000;
// Each worker owns one buffer of this size for the request line and headers; a longer header
// block is refused (civetweb 1.15 answers 400) and the connection closed unread, so no request
// costs more memory than this.
constexpr int kMaxRequestBytes = 16384;
// Each open /floor/events stream holds a worker thread: at most this many, so /healthz, /readyz
// and /metrics always find one (docs/design.md, "The HTTP server").
constexpr int kMaxFloorStreams = 8;
// A stream sends at most this often, however fast the floor changes, and says something at least
// this often (a comment line) so that proxies and the browser keep it open.
constexpr auto kFloorMinInterval = std::chrono::milliseconds(250);
constexpr auto kFloorKeepAlive = std::chrono::seconds(15);

bool is_head_request(const mg_connection* connection) {
  const mg_request_info* request = mg_get_request_info(connection);
  return request != nullptr && request->request_method != nullptr &&
         std::string_view(request->request_method) == "HEAD";
}

// `extra_headers` is empty or whole header lines, each ending in \r\n.
void respond(mg_connection* connection, int status, const std::string& content_type,
             const std::string& body, const char* extra_headers = "") {
  mg_printf(
      connection,
      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
      status, mg_get_response_code_text(nullptr, status), content_type.c_str(), body.size(),
      extra_headers);
  if (!is_head_request(connection)) mg_write(connection, body.data(), body.size());
}

// civetweb's own error responses repeat parts of the request: its status line names whatever
// version the client sent (line breaks included), its body the parse error. Every error it
// would send goes out as fixed text instead.
int respond_with_error(mg_connection* connection, int status, const char* /*message*/) {
  respond(connection, status, "text/plain",
          std::to_string(status) + " " + mg_get_response_code_text(nullptr, status) + "\n");
  return 0;  // handled: civetweb sends nothing more
}

// The credentials of "Authorization: Bearer <token>" (RFC 6750 §2.1; the scheme name is
// case-insensitive, RFC 7235 §2.1), or nullopt for no header or another scheme.
std::optional<std::string_view> bearer_credentials(const char* authorization) {
  if (authorization == nullptr) return std::nullopt;
  constexpr std::string_view kScheme = "bearer ";
  const std::string_view value(authorization);
  if (value.size() < kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), value.begin(), [](char expected, char actual) {
        return expected == std::tolower(static_cast<unsigned char>(actual));
      })) {
    return std::nullopt;
  }
  const std::string_view rest = value.substr(kScheme.size());
  const std::size_t start = rest.find_first_not_of(' ');
  return start == std::string_view::npos ? std::string_view() : rest.substr(start);
}

// CRYPTO_memcmp takes a time set by the length alone, never by where the bytes first differ, so
// timing the answers cannot find the token a byte at a time. A candidate of another length is
// answered after comparing the token with itself: the token's length does not show either.
bool is_the_token(std::string_view candidate, const std::string& token) {
  const bool same_length = candidate.size() == token.size();
  const char* compared = same_length ? candidate.data() : token.data();
  const bool same_bytes = CRYPTO_memcmp(compared, token.data(), token.size()) == 0;
  return same_length && same_bytes;
}

// The value of query parameter `name`, at most `limit` bytes, or nullopt.
std::optional<std::string> query_value(const mg_connection* connection, const char* name,
                                       std::size_t limit) {
  const mg_request_info* request = mg_get_request_info(connection);
  if (request == nullptr || request->query_string == nullptr) return std::nullopt;
  std::string value(limit + 1, '\0');
  const int length = mg_get_var(request->query_string, std::strlen(request->query_string), name,
                                value.data(), value.size());
  if (length < 0) return std::nullopt;
  value.resize(static_cast<std::size_t>(length));
  return value;
}

// Answers 401 itself when a token is set and the request bears it neither as a bearer header
// nor as ?token= (a browser's EventSource cannot send headers). Nothing sent is echoed or logged.
bool floor_authorized(mg_connection* connection, const std::string& token) {
  if (token.empty()) return true;
  if (const auto credentials = bearer_credentials(mg_get_header(connection, "Authorization"));
      credentials && is_the_token(*credentials, token)) {
    return true;
  }
  if (const auto query = query_value(connection, "token", 4096);
      query && is_the_token(*query, token)) {
    return true;
  }
  respond(connection, 401, "text/plain", "unauthorized\n",
          "WWW-Authenticate: Bearer realm=\"tastesync\"\r\n");
  return false;
}

}  // namespace

struct MetricsServer::Handlers {
  class Metrics : public CivetHandler {
   public:
    Metrics(std::shared_ptr<prometheus::Registry> registry, std::string token)
        : registry_(std::move(registry)), token_(std::move(token)) {}
    bool handleGet(CivetServer* /*server*/, mg_connection* connection) override {
      if (!token_.empty() && !authorized(connection)) return true;
      const std::string body = prometheus::TextSerializer().Serialize(registry_->Collect());
      respond(connection, 200, "text/plain; version=0.0.4", body);
      return true;
    }

   private:
    // Answers 401 itself when the request does not bear the token. RFC 6750 §3: no error code
    // when no credentials came, invalid_token when wrong ones did. Nothing of what the client
    // sent is echoed or logged.
    bool authorized(mg_connection* connection) const {
      const auto credentials = bearer_credentials(mg_get_header(connection, "Authorization"));
      if (credentials && is_the_token(*credentials, token_)) return true;
      respond(connection, 401, "text/plain", "unauthorized\n",
              credentials ? "WWW-Authenticate: Bearer realm=\"tastesync\", "
                            "error=\"invalid_token\"\r\n"
                          : "WWW-Authenticate: Bearer realm=\"tastesync\"\r\n");
      return false;
    }

    std::shared_ptr<prometheus::Registry> registry_;
    std::string token_;
  };

  class Healthz : public CivetHandler {
   public:
    explicit Healthz(std::shared_ptr<Health> health) : health_(std::move(health)) {}
    bool handleGet(CivetServer* /*server*/, mg_connection* connection) override {
      const std::int64_t silence_ms = wall_clock_ms() - health_->last_beat_ms();
      if (health_->last_beat_ms() != 0 && silence_ms > 30000) {
        respond(connection, 503, "text/plain",
                "pipeline thread silent for " + std::to_string(silence_ms) + " ms\n");
      } else {
        respond(connection, 200, "text/plain", "ok\n");
      }
      return true;
    }

   private:
    std::shared_ptr<Health> health_;
  };

  class Readyz : public CivetHandler {
   public:
    explicit Readyz(std::shared_ptr<Health> health) : health_(std::move(health)) {}
    bool handleGet(CivetServer* /*server*/, mg_connection* connection) override {
      if (health_->ready()) {
        respond(connection, 200, "text/plain", "ready\n");
      } else {
        respond(connection, 503, "text/plain", "not ready\n");
      }
      return true;
    }

   private:
    std::shared_ptr<Health> health_;
  };

  // The floor state once serve_floor() attached it (the registry loads after the listener
  // starts: until then /floor answers 503).
  using AttachedFloor = std::atomic<std::shared_ptr<FloorState>>;

  static bool floor_starting(mg_connection* connection, const std::shared_ptr<FloorState>& floor) {
    if (floor) return false;
    respond(connection, 503, "text/plain",
            "starting: the floor view follows once the registry is loaded\n", "Retry-After: 2\r\n");
    return true;
  }

  class Floor : public CivetHandler {
   public:
    Floor(const AttachedFloor& floor, std::string token)
        : floor_(floor), token_(std::move(token)) {}
    bool handleGet(CivetServer* /*server*/, mg_connection* connection) override {
      if (!floor_authorized(connection, token_)) return true;
      if (floor_starting(connection, floor_.load())) return true;
      respond(connection, 200, "text/html; charset=utf-8", std::string(kFloorPage),
              "Cache-Control: no-store\r\nContent-Security-Policy: default-src 'self'; "
              "script-src 'unsafe-inline'; style-src 'unsafe-inline'\r\n");
      return true;
    }

   private:
    const AttachedFloor& floor_;
    std::string token_;
  };

  // Server-Sent Events: the store's snapshot (or every store's) on connecting and after each
  // change, a comment line when nothing changed for a while.
  class FloorEvents : public CivetHandler {
   public:
    FloorEvents(const AttachedFloor& floor, std::string token)
        : attached_(floor), token_(std::move(token)) {}
    bool handleGet(CivetServer* /*server*/, mg_connection* connection) override {
      if (!floor_authorized(connection, token_)) return true;
      const std::shared_ptr<FloorState> floor = attached_.load();
      if (floor_starting(connection, floor)) return true;
      const std::string store = query_value(connection, "store", 64).value_or("");
      if (streams_.fetch_add(1) >= kMaxFloorStreams) {
        streams_.fetch_sub(1);
        respond(connection, 503, "text/plain", "too many floor views open\n", "Retry-After: 5\r\n");
        return true;
      }
      mg_printf(connection,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                "Connection: close\r\n\r\n");
      std::uint64_t sent = 0;
      while (!floor->stopped()) {
        const std::uint64_t version =
            floor->wait_for_change(sent, kFloorKeepAlive, [] { return wall_clock_ms(); });
        if (floor->stopped()) break;
        std::string message = ": still here\n\n";
        if (version > sent) {
          message = "data: " + floor->snapshot_json(store) + "\n\n";
          sent = version;
        }
        if (mg_write(connection, message.data(), message.size()) <= 0) break;  // it went away
        std::this_thread::sleep_for(kFloorMinInterval);
      }
      streams_.fetch_sub(1);
      return true;
    }

   private:
    const AttachedFloor& attached_;
    std::string token_;
    std::atomic<int> streams_{0};
  };

  Handlers(std::shared_ptr<prometheus::Registry> registry, std::string token,
           const std::shared_ptr<Health>& health)
      : metrics(std::move(registry), token),
        healthz(health),
        readyz(health),
        floor(attached_floor, token),
        floor_events(attached_floor, std::move(token)) {}

  AttachedFloor attached_floor;  // declared before the handlers that keep a reference to it
  Metrics metrics;
  Healthz healthz;
  Readyz readyz;
  Floor floor;
  FloorEvents floor_events;
};

MetricsServer::MetricsServer(const MetricsConfig& config,
                             std::shared_ptr<prometheus::Registry> registry,
                             const std::shared_ptr<Health>& health)
    : handlers_(std::make_unique<Handlers>(std::move(registry), config.token, health)) {
  const std::string listen = config.bind_address + ":" + std::to_string(config.port);
  // Keep-alive stays off (civetweb's default, spelt out): every response closes its connection,
  // so an idle client never holds a worker between two requests.
  const std::vector<std::string> options = {"listening_ports",    listen,
                                            "num_threads",        std::to_string(kWorkerThreads),
                                            "request_timeout_ms", std::to_string(kRequestTimeoutMs),
                                            "max_request_size",   std::to_string(kMaxRequestBytes),
                                            "enable_keep_alive",  "no"};
  CivetCallbacks callbacks;
  callbacks.http_error = respond_with_error;
  try {
    server_ = std::make_unique<CivetServer>(options, &callbacks);
  } catch (const CivetException& e) {
    throw ConfigError("metrics.port " + std::to_string(config.port) + ": cannot listen on " +
                      listen + " (" + e.what() + ")");
  }
  server_->addHandler("/metrics", handlers_->metrics);
  server_->addHandler("/healthz", handlers_->healthz);
  server_->addHandler("/readyz", handlers_->readyz);
  // "$": exactly these paths (civetweb matches prefixes otherwise).
  server_->addHandler("/floor$", handlers_->floor);
  server_->addHandler("/floor/events$", handlers_->floor_events);
  mg_server_port ports[4];
  const int count = mg_get_server_ports(server_->getContext(), 4, ports);
  port_ = count > 0 ? ports[0].port : config.port;
}

void MetricsServer::serve_floor(std::shared_ptr<FloorState> floor) {
  handlers_->attached_floor.store(std::move(floor));
}

MetricsServer::~MetricsServer() {
  // Open event streams end first: close() waits for every worker thread.
  if (const auto floor = handlers_->attached_floor.load()) floor->stop();
  if (server_) server_->close();
}

}  // namespace tastesync
