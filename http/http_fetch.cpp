#include "http/http_fetch.hpp"

#include <civetweb.h>

#include <array>
#include <memory>
#include <optional>
#include <string_view>

namespace tastesync {
namespace {

struct ConnectionCloser {
  void operator()(mg_connection* connection) const { mg_close_connection(connection); }
};

// civetweb's library state is counted: each fetch takes and releases its share.
struct CivetwebLibrary {
  CivetwebLibrary() { mg_init_library(0); }
  ~CivetwebLibrary() { mg_exit_library(); }
  CivetwebLibrary(const CivetwebLibrary&) = delete;
  CivetwebLibrary& operator=(const CivetwebLibrary&) = delete;
};

struct Target {
  std::string host;
  int port = 80;
  std::string path = "/";
};

std::optional<Target> parse_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return std::nullopt;
  const std::string rest = url.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  Target target;
  if (slash != std::string::npos) target.path = rest.substr(slash);
  const std::size_t colon = authority.rfind(':');
  target.host = authority.substr(0, colon);
  if (colon != std::string::npos) {
    try {
      target.port = std::stoi(authority.substr(colon + 1));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (target.host.empty() || target.port <= 0 || target.port > 65535 ||
      target.path.find_first_of("\r\n ") != std::string::npos) {
    return std::nullopt;
  }
  return target;
}

}  // namespace

Result<HttpAnswer, std::string> http_fetch(const std::string& url, const std::string& bearer,
                                           int timeout_ms, std::size_t max_body_bytes) {
  const std::optional<Target> target = parse_url(url);
  if (!target) return Failure{url + ": not an http://host:port/path URL"};
  const CivetwebLibrary library;
  std::array<char, 256> error{};
  const std::unique_ptr<mg_connection, ConnectionCloser> connection(
      mg_connect_client(target->host.c_str(), target->port, 0, error.data(), error.size()));
  if (!connection) return Failure{url + ": " + error.data()};
  std::string request = "GET " + target->path + " HTTP/1.0\r\nHost: " + target->host + "\r\n";
  if (!bearer.empty()) request += "Authorization: Bearer " + bearer + "\r\n";
  request += "\r\n";
  if (mg_write(connection.get(), request.data(), request.size()) !=
      static_cast<int>(request.size())) {
    return Failure{url + ": cannot send the request"};
  }
  if (mg_get_response(connection.get(), error.data(), error.size(), timeout_ms) < 0) {
    return Failure{url + ": " + error.data()};
  }
  HttpAnswer answer;
  answer.status = mg_get_response_info(connection.get())->status_code;
  std::array<char, 8192> buffer{};
  while (answer.body.size() < max_body_bytes) {
    const int read = mg_read(connection.get(), buffer.data(), buffer.size());
    if (read <= 0) break;
    answer.body.append(buffer.data(), static_cast<std::size_t>(read));
  }
  return answer;
}

}  // namespace tastesync
