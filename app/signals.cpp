#include "app/signals.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <optional>

namespace tastesync {
namespace {

// Signals within this long of the first stop signal are the same request: GNU timeout and a
// kill of the process group deliver SIGTERM twice within the same millisecond.
constexpr auto kRepeatedSignalWindow = std::chrono::seconds(1);

}  // namespace

// Waits for the worker to finish; a first SIGINT/SIGTERM asks it to stop, a second (more than
// kRepeatedSignalWindow later) exits now.
void supervise(const SignalGate& gate, std::jthread& worker,
               const std::vector<std::jthread*>& others) {
  std::optional<std::chrono::steady_clock::time_point> stopping_since;
  while (true) {
    const int signal = gate.wait();
    if (signal == SIGUSR1) break;
    const auto now = std::chrono::steady_clock::now();
    if (stopping_since) {
      if (now - *stopping_since < kRepeatedSignalWindow) {
        spdlog::info("signal {} again within {} s: still stopping", signal,
                     kRepeatedSignalWindow.count());
        continue;
      }
      spdlog::warn("second signal: exiting at once");
      spdlog::default_logger()->flush();
      std::_Exit(1);
    }
    stopping_since = now;
    spdlog::info("signal {}: stopping", signal);
    worker.request_stop();
  }
  for (std::jthread* other : others) other->request_stop();
}

}  // namespace tastesync
