#include "tests/support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tastesync::testing {
namespace {

using Clock = std::chrono::steady_clock;

// A server that keeps talking is cut off here: a test's memory stays bounded too.
constexpr std::size_t kMaxReceivedBytes = 16 << 20;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

bool is_reset(int error) {
  return error == EPIPE || error == ECONNRESET || error == ECONNABORTED;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

LoopbackConnection::LoopbackConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const std::string reason = std::strerror(errno);
    close(fd_);
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " + reason);
  }
}

LoopbackConnection::~LoopbackConnection() {
  close(fd_);
}

LoopbackConnection::Sent LoopbackConnection::send(std::string_view bytes,
                                                  std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    pollfd writable{fd_, POLLOUT, 0};
    const int ready = poll(&writable, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return Sent::timed_out;
    const ssize_t written = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (written < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      if (is_reset(errno)) return Sent::peer_closed;
      throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return Sent::all;
}

LoopbackConnection::Received LoopbackConnection::receive_until_closed(
    std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  Received received;
  char buffer[16384];
  while (received.bytes.size() < kMaxReceivedBytes) {
    pollfd readable{fd_, POLLIN, 0};
    const int ready = poll(&readable, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return received;
    const ssize_t n = recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && is_reset(errno))) {
      received.closed = true;
      return received;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
    }
    received.bytes.append(buffer, static_cast<std::size_t>(n));
  }
  return received;
}

bool LoopbackConnection::peer_still_waiting() const {
  pollfd state{fd_, POLLIN | POLLRDHUP, 0};
  return poll(&state, 1, 0) == 0;
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  const std::string wanted = lower(name) + ":";
  std::size_t line = head.find("\r\n");
  while (line != std::string::npos) {
    const std::size_t start = line + 2;
    const std::size_t end = head.find("\r\n", start);
    const std::string text = head.substr(start, end == std::string::npos ? end : end - start);
    if (lower(text.substr(0, wanted.size())) == wanted) {
      const std::size_t value = text.find_first_not_of(' ', wanted.size());
      return value == std::string::npos ? "" : text.substr(value);
    }
    line = end;
  }
  return std::nullopt;
}

std::optional<HttpResponse> parse_http_response(const std::string& bytes) {
  // The code is the first three digits standing alone between spaces on the status line, not
  // the second word: civetweb's own error responses repeat whatever version the request named
  // ("HTTP/NOT HTTP 400 Bad Request").
  const std::size_t end_of_line = bytes.find("\r\n");
  if (!bytes.starts_with("HTTP/") || end_of_line == std::string::npos) return std::nullopt;
  const std::string line = bytes.substr(0, end_of_line);
  std::size_t code_at = std::string::npos;
  for (std::size_t space = line.find(' '); space != std::string::npos;
       space = line.find(' ', space + 1)) {
    const std::string candidate = line.substr(space + 1, 4);
    if (candidate.size() == 4 && candidate[3] == ' ' &&
        std::all_of(candidate.begin(), candidate.begin() + 3,
                    [](unsigned char c) { return std::isdigit(c); })) {
      code_at = space + 1;
      break;
    }
  }
  if (code_at == std::string::npos) return std::nullopt;
  HttpResponse response;
  const std::string code = line.substr(code_at, 3);
  response.status = std::stoi(code);
  const std::size_t end_of_head = bytes.find("\r\n\r\n");
  response.head = bytes.substr(0, end_of_head);
  if (end_of_head != std::string::npos) response.body = bytes.substr(end_of_head + 4);
  return response;
}

std::optional<HttpResponse> http_request(int port, const std::string& path,
                                         const std::vector<std::string>& headers,
                                         std::chrono::milliseconds timeout) {
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const std::string& header : headers) request += header + "\r\n";
  request += "\r\n";
  try {
    const LoopbackConnection connection(port);
    if (connection.send(request, timeout) != LoopbackConnection::Sent::all) return std::nullopt;
    return parse_http_response(connection.receive_until_closed(timeout).bytes);
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
}

}  // namespace tastesync::testing
