#pragma once

#include <filesystem>
#include <string>

#include "tests/support/free_port.hpp"
#include "tests/support/subprocess.hpp"

namespace tastesync::testing {

// A private, throwaway PostgreSQL 15 on a free loopback port (docs/platform.md#servers-as-root:
// initdb and pg_ctl as the `postgres` user when the tests run as root). Stopped and deleted when
// destroyed; stop() and start() again on the same port and data are the honest outage test.
class PostgresServer {
 public:
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // A URI for `database` on this server (user tastesync, trust authentication).
  std::string dsn(const std::string& database = "tastesync") const;
  // A fresh, empty database with a unique name; returns its DSN.
  std::string create_database();

  // `immediate`: no checkpoint, like a crash (pg_ctl -m immediate); otherwise a fast shutdown.
  void stop(bool immediate = true);
  void start();
  bool running() const { return running_; }

 private:
  // As the postgres user when the tests run as root.
  void run(const std::vector<std::string>& argv, const std::string& name);
  void run_as_is(const std::vector<std::string>& argv, const std::string& name);

  TempDir dir_;
  std::filesystem::path data_;
  int port_ = 0;
  int databases_ = 0;
  bool running_ = false;
};

}  // namespace tastesync::testing
