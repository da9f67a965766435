#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sinks/redis/redis_connection.hpp"
#include "tests/support/subprocess.hpp"

namespace tastesync::testing {

// Who may use the server. Empty: anyone (no AUTH), as before Redis 6. The {} initializers let
// tests write {.requirepass = ...} without -Wmissing-field-initializers.
struct RedisTestServerAuth {
  std::string requirepass{};  // the default user's password ("" = none)
  // An ACL user (Redis 6+) with its password and rules (ACL SETUSER syntax, one rule a word).
  std::string acl_user{};
  std::string acl_password{};
  std::vector<std::string> acl_rules{"~*", "&*", "+@all"};
};

// A private redis-server for one test: a free loopback port, a fresh temporary directory,
// append-only file fsynced on every write (so a stop and start loses nothing acknowledged, as an
// operator's Redis with `appendonly yes` would), no RDB snapshots. Started by the constructor,
// which returns once the server answers PING; the destructor stops it and removes the directory.
// The process is a Subprocess: if the test process dies, the kernel kills the server too, and a
// failing test prints the tail of the server's log.
class RedisTestServer {
 public:
  explicit RedisTestServer(RedisTestServerAuth auth = {});
  ~RedisTestServer();
  RedisTestServer(const RedisTestServer&) = delete;
  RedisTestServer& operator=(const RedisTestServer&) = delete;

  int port() const { return port_; }
  const std::filesystem::path& directory() const { return directory_.path(); }
  // Short timeouts: a test against a stopped server should fail fast. As the default user, with
  // the requirepass password.
  RedisOptions options() const;
  bool running();

  // An outage: SIGTERM and wait for the exit. The port then refuses connections.
  void stop();
  // Starts again on the same port and directory, with the data of the append-only file (but an
  // empty script cache, as after any Redis restart). Throws std::runtime_error if it does not
  // answer PING in time.
  void start();

 private:
  bool launch();
  bool wait_until_ready();

  RedisTestServerAuth auth_;
  TempDir directory_;
  int port_ = 0;
  int launches_ = 0;  // names each run's log: redis-1.stdout, redis-2.stdout, ...
  std::optional<Subprocess> process_;
};

}  // namespace tastesync::testing
