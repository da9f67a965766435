#pragma once

#include <string>

#include "common/result.hpp"

namespace tastesync {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// GET `url` (http://host:port/path; no TLS) with an optional bearer token, within `timeout_ms`
// for the answer's head; the body is read up to `max_body_bytes`. The error says what failed
// (never the token). For `tastesync status` reading an instance's /metrics.
Result<HttpAnswer, std::string> http_fetch(const std::string& url, const std::string& bearer,
                                           int timeout_ms, std::size_t max_body_bytes = 16 << 20);

}  // namespace tastesync
