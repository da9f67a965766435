#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tastesync::testing {

// One TCP connection to 127.0.0.1:<port>, closed when destroyed: for tests that speak HTTP a
// byte at a time, stop half-way or send what no client should.
class LoopbackConnection {
 public:
  // Throws std::runtime_error when nothing accepts the connection.
  explicit LoopbackConnection(int port);
  ~LoopbackConnection();
  LoopbackConnection(const LoopbackConnection&) = delete;
  LoopbackConnection& operator=(const LoopbackConnection&) = delete;

  enum class Sent { all, peer_closed, timed_out };
  // Writes all of `bytes` unless the peer closes or resets the connection first (no SIGPIPE), or
  // `timeout` passes with the peer no longer reading.
  Sent send(std::string_view bytes,
            std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  struct Received {
    std::string bytes;
    bool closed = false;  // the peer closed or reset the connection before the timeout
  };
  // What the peer sends until it closes the connection or `timeout` passes.
  Received receive_until_closed(std::chrono::milliseconds timeout) const;

  // True while the peer has neither answered nor closed: it is still waiting for the request.
  bool peer_still_waiting() const;

 private:
  int fd_ = -1;
};

struct HttpResponse {
  int status = 0;
  std::string head;  // the status line and the headers
  std::string body;
  // The value of the first header of that name (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
};

// `bytes` as an HTTP/1.x response, or nullopt when they do not start with a status line.
std::optional<HttpResponse> parse_http_response(const std::string& bytes);

// GET <path> over a fresh connection to 127.0.0.1:<port> with the given extra header lines
// ("Authorization: Bearer x"); nullopt when nothing answers or the answer is no HTTP response.
std::optional<HttpResponse> http_request(
    int port, const std::string& path, const std::vector<std::string>& headers = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace tastesync::testing
