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
  // initdb is about a second of CPU and the tests start dozens of servers: the first server of a
  // build directory leaves its fresh cluster there as a template, and the others copy it.
  const std::filesystem::path cache = TASTESYNC_TEST_CACHE_DIR;
  const std::filesystem::path template_data = cache / "postgresql-15-template";
  if (std::filesystem::exists(template_data / "PG_VERSION")) {
    // cp -a keeps the files the postgres user's when the tests run as root.
    run_as_is({"/bin/cp", "-a", template_data.string(), data_.string()}, "cp-template");
    start();
    return;
  }
  run({kBin + "initdb", "-D", data_.string(), "-A", "trust", "-U", "tastesync", "-E", "UTF8",
       "--no-sync"},
      "initdb");
  start();
  run({kBin + "createdb", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "tastesync",
       "tastesync"},
      "createdb");
  // Copied while stopped, under a private name, then renamed into place: a test starting at the
  // same moment sees the whole template or none. When two make one, the first rename wins.
  stop(false);
  std::filesystem::create_directories(cache);
  const std::filesystem::path copy =
      cache / ("postgresql-15-template." + std::to_string(::getpid()));
  std::filesystem::remove_all(copy);
  run_as_is({"/bin/cp", "-a", data_.string(), copy.string()}, "cp-template");
  std::error_code taken;
  std::filesystem::rename(copy, template_data, taken);
  if (taken) std::filesystem::remove_all(copy);
  start();
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
  run_as_is(as_postgres(argv), name);
}

void PostgresServer::run_as_is(const std::vector<std::string>& argv, const std::string& name) {
  Subprocess process(argv, dir_.path(), name);
  const auto status = process.wait_for_exit(std::chrono::seconds(60));
  if (!status || !status->exited_with(0)) {
    throw std::runtime_error(name + " failed: " + process.stderr_text());
  }
}

}  // namespace tastesync::testing

// libpqxx 6.4 leaks the PGresult of a statement that finds the connection broken: make_result()
// asks for the client encoding, which throws before the result is owned (fixed upstream in
// jtv/libpqxx#500, 7.x). The outage tests meet it once per outage. Matched on the libpq frame
// because libpq has no frame pointers: LeakSanitizer's fast unwinder stops inside it. Here
// because every test binary that talks to a test server links this file.
// NOLINTNEXTLINE(bugprone-reserved-identifier,readability-identifier-naming)
extern "C" const char* __lsan_default_suppressions() {
  return "leak:PQmakeEmptyPGresult\n";
}
