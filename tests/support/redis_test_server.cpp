#include "tests/support/redis_test_server.hpp"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/free_port.hpp"

namespace tastesync::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kRedisReadyTimeout = 10s;
constexpr auto kRedisStopTimeout = 10s;
constexpr auto kRedisPollInterval = 20ms;
constexpr int kLaunchAttempts = 5;

// Subprocess execs a path, not a name looked up in PATH.
std::string redis_server_path() {
  const char* path = std::getenv("PATH");
  std::string_view directories = path != nullptr ? path : "/usr/bin:/bin";
  while (!directories.empty()) {
    const auto colon = directories.find(':');
    const auto candidate = std::filesystem::path(directories.substr(0, colon)) / "redis-server";
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (colon == std::string_view::npos) break;
    directories.remove_prefix(colon + 1);
  }
  throw std::runtime_error("redis-server not found in PATH");
}

}  // namespace

RedisTestServer::RedisTestServer(RedisTestServerAuth auth) : auth_(std::move(auth)) {
  std::string log;
  for (int attempt = 0; attempt < kLaunchAttempts; ++attempt) {
    port_ = free_loopback_port();
    if (launch()) return;
    log = process_ ? process_->stdout_text() : std::string();
  }
  throw std::runtime_error("redis-server did not start; its log:\n" + log);
}

RedisTestServer::~RedisTestServer() {
  stop();
}

RedisOptions RedisTestServer::options() const {
  RedisOptions options;
  options.host = "127.0.0.1";
  options.port = port_;
  options.connect_timeout = 1s;
  options.command_timeout = 5s;
  options.password = auth_.requirepass;
  return options;
}

bool RedisTestServer::running() {
  return process_ && process_->running();
}

void RedisTestServer::stop() {
  if (running()) process_->terminate(kRedisStopTimeout);
}

void RedisTestServer::start() {
  if (running()) return;
  if (!launch()) {
    throw std::runtime_error("redis-server did not start again on port " + std::to_string(port_));
  }
}

bool RedisTestServer::launch() {
  std::vector<std::string> arguments = {
      redis_server_path(),
      "--port",
      std::to_string(port_),
      "--bind",
      "127.0.0.1",
      "--daemonize",
      "no",
      "--dir",
      directory_.path().string(),
      "--save",
      "",
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--protected-mode",
      "yes",
  };
  if (!auth_.requirepass.empty()) {
    arguments.insert(arguments.end(), {"--requirepass", auth_.requirepass});
  }
  if (!auth_.acl_user.empty()) {
    // Each word its own argument: redis-server quotes every argument of an option as one word.
    arguments.insert(arguments.end(), {"--user", auth_.acl_user, "on", ">" + auth_.acl_password});
    arguments.insert(arguments.end(), auth_.acl_rules.begin(), auth_.acl_rules.end());
  }
  // The logs sit beside the append-only file; each run has its own, so a restart keeps the first.
  process_.reset();
  process_.emplace(std::move(arguments), directory_.path(), "redis-" + std::to_string(++launches_));
  if (wait_until_ready()) return true;
  stop();
  return false;
}

bool RedisTestServer::wait_until_ready() {
  return wait_until(
             [this] {
               if (!running()) return true;  // ended: the answer is known, stop waiting
               RedisConnection connection(options());
               if (!connection.connected()) return false;
               auto reply = connection.command({"PING"});
               return reply && reply_text(**reply) == "PONG";
             },
             kRedisReadyTimeout, kRedisPollInterval) &&
         running();
}

}  // namespace tastesync::testing
