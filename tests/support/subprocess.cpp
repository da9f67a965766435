#include "tests/support/subprocess.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace tastesync::testing {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr std::size_t kLogTailLines = 40;

std::string tail_lines(const std::string& text, std::size_t count) {
  std::size_t position = text.size();
  for (std::size_t lines = 0; position > 0 && lines <= count;) {
    --position;
    if (text[position] == '\n') ++lines;
  }
  return text.substr(position == 0 ? 0 : position + 1);
}

ExitStatus decode(int raw) {
  ExitStatus status;
  if (WIFEXITED(raw)) status.code = WEXITSTATUS(raw);
  if (WIFSIGNALED(raw)) status.signal = WTERMSIG(raw);
  return status;
}

}  // namespace

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tastesync-it-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  // TASTESYNC_KEEP_TEST_DIRS=1 keeps logs and state for a post-mortem.
  if (const char* keep = std::getenv("TASTESYNC_KEEP_TEST_DIRS"); keep && *keep == '1') {
    std::cerr << "kept " << path_ << "\n";
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ExitStatus::describe() const {
  if (signal != 0) return "killed by signal " + std::to_string(signal);
  return "exit code " + std::to_string(code);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Subprocess::Subprocess(std::vector<std::string> argv, const std::filesystem::path& log_dir,
                       std::string name, const Environment& extra_environment)
    : name_(std::move(name)),
      stdout_path_(log_dir / (name_ + ".stdout")),
      stderr_path_(log_dir / (name_ + ".stderr")) {
  if (argv.empty()) throw std::invalid_argument("Subprocess: empty argv");
  // Everything the child needs is built before fork: between fork and exec only
  // async-signal-safe calls are allowed (librdkafka threads run in this process).
  std::map<std::string, std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const auto equals = text.find('=');
    if (equals != std::string::npos) environment[text.substr(0, equals)] = text.substr(equals + 1);
  }
  // The tests' own switch, not a setting: `tastesync` refuses TASTESYNC_ variables it does not
  // know, and a kept test directory would only hold that refusal.
  environment.erase("TASTESYNC_KEEP_TEST_DIRS");
  for (const auto& [key, value] : extra_environment) environment[key] = value;
  std::vector<std::string> environment_lines;
  environment_lines.reserve(environment.size());
  for (const auto& [key, value] : environment) {
    environment_lines.push_back(key);
    environment_lines.back().append("=").append(value);
  }
  std::vector<char*> child_argv;
  child_argv.reserve(argv.size() + 1);
  for (std::string& argument : argv) child_argv.push_back(argument.data());
  child_argv.push_back(nullptr);
  std::vector<char*> child_environment;
  child_environment.reserve(environment_lines.size() + 1);
  for (std::string& line : environment_lines) child_environment.push_back(line.data());
  child_environment.push_back(nullptr);
  const std::string out_path = stdout_path_.string();
  const std::string err_path = stderr_path_.string();
  const pid_t parent = getpid();

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed: " + std::string(std::strerror(errno)));
  if (pid_ == 0) {
    // If the test process dies (a ctest timeout kills it), its brokers and pipelines die too.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // Where Yama restricts ptrace to ancestors, a hung child's stacks can still be read
    // (print_stacks); elsewhere this fails harmlessly.
    prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY);
    if (getppid() != parent) _exit(126);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(125);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execve(child_argv[0], child_argv.data(), child_environment.data());
    static const char kMessage[] = "Subprocess: execve failed\n";
    (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    _exit(127);
  }
}

Subprocess::~Subprocess() {
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- " << name_ << " (pid " << pid_ << ") stderr, last lines ----\n"
              << tail_lines(stderr_text(), kLogTailLines) << "---- end of " << name_ << " ----\n";
  }
  if (!status_) kill_hard();
}

bool Subprocess::running() {
  if (status_) return false;
  int raw = 0;
  const pid_t reaped = waitpid(pid_, &raw, WNOHANG);
  if (reaped == pid_) status_ = decode(raw);
  return !status_;
}

void Subprocess::send_signal(int signal) {
  if (running()) ::kill(pid_, signal);
}

std::optional<ExitStatus> Subprocess::wait_for_exit(std::chrono::milliseconds timeout) {
  wait_until([this] { return !running(); }, timeout, kPollInterval);
  return status_;
}

ExitStatus Subprocess::terminate(std::chrono::milliseconds timeout) {
  send_signal(SIGTERM);
  if (const auto status = wait_for_exit(timeout)) return *status;
  print_stacks();
  return kill_hard();
}

void Subprocess::print_stacks() {
  // A child hung past its stop: where its threads wait is what a post-mortem needs, and SIGKILL
  // loses it. gdb is installed by scripts/install-deps.sh; without it, only the kill is reported.
  static constexpr const char* kGdb = "/usr/bin/gdb";
  if (status_ || access(kGdb, X_OK) != 0) return;
  Subprocess gdb(
      {kGdb, "-p", std::to_string(pid_), "-batch", "-nx", "-ex", "thread apply all bt 30"},
      stdout_path_.parent_path(), name_ + "-stacks");
  if (!gdb.wait_for_exit(std::chrono::seconds(60))) gdb.kill_hard();
  std::cerr << "---- " << name_ << " (pid " << pid_ << ") did not stop; its threads ----\n"
            << gdb.stdout_text() << tail_lines(gdb.stderr_text(), kLogTailLines) << "---- end of "
            << name_ << "'s threads ----\n";
}

ExitStatus Subprocess::kill_hard() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    int raw = 0;
    while (waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
    }
    status_ = decode(raw);
  }
  return *status_;
}

std::string Subprocess::stdout_text() const {
  return read_file(stdout_path_);
}
std::string Subprocess::stderr_text() const {
  return read_file(stderr_path_);
}

}  // namespace tastesync::testing
