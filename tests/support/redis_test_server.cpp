#include "tests/support/redis_test_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/free_port.hpp"

namespace tastesync::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kReadyTimeout = 10s;
constexpr auto kStopTimeout = 10s;
constexpr auto kPollInterval = 20ms;
constexpr int kLaunchAttempts = 5;

std::runtime_error errno_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

std::filesystem::path make_temp_directory() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "tastesync-redis-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw errno_error("mkdtemp");
  return pattern;
}

// execvp is not async-signal-safe, so the path is resolved before fork.
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

bool reap(pid_t pid, int options) {
  int status = 0;
  pid_t reaped = 0;
  do {
    reaped = waitpid(pid, &status, options);
  } while (reaped < 0 && errno == EINTR);
  return reaped == pid;
}

}  // namespace

RedisTestServer::RedisTestServer(RedisTestServerAuth auth)
    : auth_(std::move(auth)), directory_(make_temp_directory()) {
  for (int attempt = 0; attempt < kLaunchAttempts; ++attempt) {
    port_ = free_loopback_port();
    if (launch()) return;
  }
  std::string log;
  if (std::ifstream in(directory_ / "redis.log"); in)
    log.assign(std::istreambuf_iterator<char>(in), {});
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
  throw std::runtime_error("redis-server did not start; its log:\n" + log);
}

RedisTestServer::~RedisTestServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
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
  if (pid_ < 0) return false;
  if (reap(pid_, WNOHANG)) pid_ = -1;
  return pid_ >= 0;
}

void RedisTestServer::stop() {
  if (!running()) return;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  while (running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kPollInterval);
  }
  if (running()) {
    kill(pid_, SIGKILL);
    reap(pid_, 0);
  }
  pid_ = -1;
}

void RedisTestServer::start() {
  if (running()) return;
  if (!launch()) {
    throw std::runtime_error("redis-server did not start again on port " + std::to_string(port_));
  }
}

bool RedisTestServer::launch() {
  const std::string executable = redis_server_path();
  const std::string port = std::to_string(port_);
  const std::string directory = directory_.string();
  const std::string log_path = (directory_ / "redis.log").string();
  std::vector<std::string> arguments = {
      executable, "--port",        port,      "--bind",           "127.0.0.1", "--daemonize",
      "no",       "--dir",         directory, "--save",           "",          "--appendonly",
      "yes",      "--appendfsync", "always",  "--protected-mode", "yes",
  };
  if (!auth_.requirepass.empty()) {
    arguments.insert(arguments.end(), {"--requirepass", auth_.requirepass});
  }
  if (!auth_.acl_user.empty()) {
    // Each word its own argument: redis-server quotes every argument of an option as one word.
    arguments.insert(arguments.end(), {"--user", auth_.acl_user, "on", ">" + auth_.acl_password});
    arguments.insert(arguments.end(), auth_.acl_rules.begin(), auth_.acl_rules.end());
  }
  std::vector<char*> argv;
  argv.reserve(arguments.size() + 1);
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();

  pid_ = fork();
  if (pid_ < 0) throw errno_error("fork");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int null = open("/dev/null", O_RDONLY);
    if (log < 0 || null < 0) _exit(125);
    dup2(null, STDIN_FILENO);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (wait_until_ready()) return true;
  stop();
  return false;
}

bool RedisTestServer::wait_until_ready() {
  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return false;
    RedisConnection connection(options());
    if (connection.connected()) {
      auto reply = connection.command({"PING"});
      if (reply && reply_text(**reply) == "PONG") return true;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return false;
}

}  // namespace tastesync::testing
