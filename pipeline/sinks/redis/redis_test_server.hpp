#pragma once

#include <sys/types.h>

#include <filesystem>

#include "redis_connection.hpp"

namespace tastesync::testing {

// A private redis-server for one test: a free loopback port, a fresh temporary directory,
// append-only file fsynced on every write (so a stop and start loses nothing acknowledged, as an
// operator's Redis with `appendonly yes` would), no RDB snapshots. Started by the constructor,
// which returns once the server answers PING; the destructor stops it and removes the directory.
// If the test process dies, the kernel kills the server too (PR_SET_PDEATHSIG).
class RedisTestServer {
 public:
  RedisTestServer();
  ~RedisTestServer();
  RedisTestServer(const RedisTestServer&) = delete;
  RedisTestServer& operator=(const RedisTestServer&) = delete;

  int port() const { return port_; }
  const std::filesystem::path& directory() const { return directory_; }
  // Short timeouts: a test against a stopped server should fail fast.
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

  std::filesystem::path directory_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tastesync::testing
