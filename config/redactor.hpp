#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tastesync {

// Replaces every occurrence of the secrets in effect (a DSN's password, secret librdkafka
// properties, the Redis password: docs/design.md "Secrets") with ***, in any text about to leave
// the process: log lines and the error printed at exit. It knows the secrets themselves, not
// patterns, so it catches them in libpq's, librdkafka's and hiredis' error texts too, whatever
// those quote.
//
// A secret also matches written the ways the libraries and formats quote it, in any mix:
// percent-encoded (%3F or %3f for '?', as in a URI DSN; '+' for a space), behind a backslash
// (libpq's keyword quoting \', JSON's \"), and a quote doubled (SQL and YAML '').
//
// Immutable once built: shared by threads without locks.
class Redactor {
 public:
  static constexpr std::string_view kMask = "***";

  Redactor() = default;
  // Empty secrets are ignored.
  explicit Redactor(std::vector<std::string> secrets);

  bool empty() const { return secrets_.empty(); }
  std::string redact(std::string_view text) const;

 private:
  std::vector<std::string> secrets_;  // longest first, so a secret containing another wins
};

}  // namespace tastesync
