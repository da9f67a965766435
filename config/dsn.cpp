#include "config/dsn.hpp"

#include <libpq-fe.h>

#include <memory>
#include <string_view>

namespace tastesync {
namespace {

struct ConninfoDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
using Conninfo = std::unique_ptr<PQconninfoOption, ConninfoDeleter>;

struct LibpqTextDeleter {
  void operator()(char* text) const { PQfreemem(text); }
};
using LibpqText = std::unique_ptr<char, LibpqTextDeleter>;

// Parsed options, or null with libpq's message (which may quote the password).
Conninfo parse(const std::string& dsn, std::string* error) {
  char* raw_error = nullptr;
  Conninfo options(PQconninfoParse(dsn.c_str(), &raw_error));
  const LibpqText message(raw_error);
  if (!options && error != nullptr) {
    *error = message ? std::string(message.get()) : std::string("out of memory");
  }
  return options;
}

// libpq marks what a connect dialog must hide with '*' (password, sslpassword).
bool is_secret(const PQconninfoOption& option) {
  return option.dispchar != nullptr &&
         std::string_view(option.dispchar).find('*') != std::string_view::npos;
}

// libpq's keyword-form quoting: single quotes around a value that is empty or holds a space, a
// quote or a backslash, with \' and \\ inside.
std::string quoted(std::string_view value) {
  if (!value.empty() && value.find_first_of(" \t\n\r\f\v'\\") == std::string_view::npos) {
    return std::string(value);
  }
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

bool is_uri(std::string_view dsn) {
  return dsn.starts_with("postgresql://") || dsn.starts_with("postgres://");
}

bool is_port_list(std::string_view ports) {
  return ports.find_first_not_of("0123456789,") == std::string_view::npos;
}

// A URI whose password holds a '/' or '@' that is not percent-encoded (common in generated,
// base64-like passwords) parses, but not as meant: libpq ends the user info at the first '/' or
// '@', so a piece of the password becomes the host, port or database — not secret to libpq, and
// quoted in its connect errors ("invalid integer value \"s3c\" for connection option
// \"port\""). No host or database name holds an '@' and a port is a number, so those values
// give it away.
std::optional<std::string> misread_uri(const PQconninfoOption* options) {
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
    const std::string_view keyword = option->keyword;
    const std::string_view value = option->val;
    if (((keyword == "host" || keyword == "dbname") && value.find('@') != std::string_view::npos) ||
        (keyword == "port" && !is_port_list(value))) {
      return "libpq reads part of this URI's user info as its " + std::string(keyword) +
             ": percent-encode '/' and '@' in the user and password (%2F, %40); its text is not "
             "shown, as it holds the password";
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> dsn_problem(const std::string& dsn) {
  std::string error;
  if (const Conninfo options = parse(dsn, &error)) {
    return is_uri(dsn) ? misread_uri(options.get()) : std::nullopt;
  }
  // libpq quotes the token it choked on ("invalid percent-encoded token: \"s3cret%zz\"", the
  // review's example): only the words before the first quote are safe to show.
  std::string reason = error.substr(0, error.find('"'));
  while (!reason.empty() && (reason.back() == ' ' || reason.back() == ':' ||
                             reason.back() == '\n' || reason.back() == '\r')) {
    reason.pop_back();
  }
  std::string problem = "libpq cannot parse this connection string";
  if (!reason.empty()) problem += " (" + reason + ")";
  return problem + "; its text is not shown, as it holds the password";
}

std::string redact_dsn(const std::string& dsn) {
  if (dsn.empty()) return dsn;
  const Conninfo options = parse(dsn, nullptr);
  if (!options) return "<a connection string libpq cannot parse, not shown>";
  std::string described;
  for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
    if (!described.empty()) described += ' ';
    described.append(option->keyword).append("=");
    described += is_secret(*option) ? "***" : quoted(option->val);
  }
  return described;
}

std::vector<std::string> dsn_secrets(const std::string& dsn) {
  std::vector<std::string> secrets;
  const Conninfo options = parse(dsn, nullptr);
  if (!options) return secrets;
  for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
    if (option->val != nullptr && option->val[0] != '\0' && is_secret(*option)) {
      secrets.emplace_back(option->val);
    }
  }
  return secrets;
}

}  // namespace tastesync
