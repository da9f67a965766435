#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tastesync::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// How a child process ended: an exit code, or the signal that killed it.
struct ExitStatus {
  int code = -1;   // valid when signal == 0
  int signal = 0;  // non-zero: killed by this signal
  bool exited_with(int expected) const { return signal == 0 && code == expected; }
  std::string describe() const;
};

using Environment = std::vector<std::pair<std::string, std::string>>;

// A child process started with posix_spawn, stdin from /dev/null, stdout and stderr into
// `<log_dir>/<name>.stdout` and `.stderr`. The destructor always kills (SIGKILL) and reaps it,
// so a failing assertion never leaves a process behind; when the current test has failed it
// first prints the tail of the child's stderr.
class Subprocess {
 public:
  Subprocess(std::vector<std::string> argv, const std::filesystem::path& log_dir, std::string name,
             const Environment& extra_environment = {});
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  bool running();
  void send_signal(int signal);
  // Waits for the child to end; nullopt when it is still running after `timeout`.
  std::optional<ExitStatus> wait_for_exit(std::chrono::milliseconds timeout);
  // SIGTERM, then waits up to `timeout`; past it prints the child's threads' stacks (gdb) and
  // sends SIGKILL (the returned status then says so).
  ExitStatus terminate(std::chrono::milliseconds timeout);
  // SIGKILL and reap: a crash, as far as the child can tell.
  ExitStatus kill_hard();

  const std::filesystem::path& stdout_path() const { return stdout_path_; }
  const std::filesystem::path& stderr_path() const { return stderr_path_; }
  std::string stdout_text() const;
  std::string stderr_text() const;

 private:
  void print_stacks();

  std::string name_;
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

std::string read_file(const std::filesystem::path& path);

// Calls `condition` every `interval` until it returns true or `timeout` passes; returns its last
// answer. Tests wait for outcomes this way and never sleep for a fixed time.
template <typename Condition>
bool wait_until(Condition&& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(100)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace tastesync::testing
