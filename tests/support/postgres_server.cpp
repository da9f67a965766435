#include "tests/support/postgres_server.hpp"

#include <pwd.h>
#include <unistd.h>

#include <stdexcept>

namespace tastesync::testing {
namespace {

const std::string kBin = "/usr/lib/postgresql/15/bin/";

// PostgreSQL refuses to run as root.
std::vector<std::string> as_postgres(std::vector<std::string> argv) {
  if (geteuid() != 0) return argv;
  std::vector<std::string> wrapped = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

}  // namespace

PostgresServer::PostgresServer() : data_(dir_.path() / "data"), port_(free_loopback_port()) {
  if (geteuid() == 0) {
    const passwd* user = getpwnam("postgres");
    if (user == nullptr) throw std::runtime_error("no postgres user: install postgresql-15");
    if (chown(dir_.path().c_str(), user->pw_uid, user->pw_gid) != 0) {
      throw std::runtime_error("chown of the PostgreSQL test directory failed");
    }
  }
  run({kBin + "initdb", "-D", data_.string(), "-A", "trust", "-U", "tastesync", "-E", "UTF8",
       "--no-sync"},
      "initdb");
  start();
  run({kBin + "createdb", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "tastesync",
       "tastesync"},
      "createdb");
}

PostgresServer::~PostgresServer() {
  try {
    if (running_) stop(true);
  } catch (const std::exception&) {
    // Leave it; the temporary directory goes anyway and the server exits when it notices.
  }
}

std::string PostgresServer::dsn(const std::string& database) const {
  return "postgresql://tastesync@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::create_database() {
  const std::string name = "test_" + std::to_string(++databases_);
  run({kBin + "createdb", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "tastesync", name},
      "createdb");
  return dsn(name);
}

void PostgresServer::start() {
  // fsync off: a test server's durability is the process's, not the disk's (kill -9 of
  // PostgreSQL itself is not among the tests; an immediate stop still recovers from the WAL).
  run({kBin + "pg_ctl", "-D", data_.string(), "-l", (dir_.path() / "server.log").string(), "-w",
       "-o",
       "-p " + std::to_string(port_) + " -k " + dir_.path().string() +
           " -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
       "start"},
      "pg_ctl-start");
  running_ = true;
}

void PostgresServer::stop(bool immediate) {
  run({kBin + "pg_ctl", "-D", data_.string(), "-m", immediate ? "immediate" : "fast", "-w", "stop"},
      "pg_ctl-stop");
  running_ = false;
}

void PostgresServer::run(const std::vector<std::string>& argv, const std::string& name) {
  Subprocess process(as_postgres(argv), dir_.path(), name);
  const auto status = process.wait_for_exit(std::chrono::seconds(60));
  if (!status || !status->exited_with(0)) {
    throw std::runtime_error(name + " failed: " + process.stderr_text());
  }
}

}  // namespace tastesync::testing
