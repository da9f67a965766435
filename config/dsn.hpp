#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tastesync {

// PostgreSQL connection strings read with libpq's own parser (PQconninfoParse), in both its forms
// ("host=h password=p" and "postgresql://user:p@h/db?..."): what libpq will connect with is
// exactly what is redacted, whatever quoting, percent-encoding or query parameter carries the
// password (docs/design.md "Secrets").

// Why libpq cannot parse `dsn` (or, for a URI, parses it otherwise than meant: a '/' or '@' left
// unencoded in the password), in words that quote nothing of it (libpq's own message quotes the
// offending token, which may be the password); nullopt when it parses.
std::optional<std::string> dsn_problem(const std::string& dsn);

// A description safe to log: the parsed options in keyword form, the values of those libpq marks
// as secret (password, sslpassword) replaced by ***. A DSN libpq cannot parse gives a fixed
// placeholder, nothing of its text; an empty one stays empty.
std::string redact_dsn(const std::string& dsn);

// The values of the options libpq marks as secret, decoded (a URI's %3F is '?'); empty when the
// DSN does not parse.
std::vector<std::string> dsn_secrets(const std::string& dsn);

}  // namespace tastesync
