#pragma once

#include <pthread.h>

#include <csignal>
#include <thread>
#include <vector>

namespace tastesync {

// Signals are taken by sigwait on the main thread only (never in a handler): blocked here before
// any thread starts, so every thread inherits the mask. SIGUSR1 is how a worker that finished by
// itself wakes the main thread.
class SignalGate {
 public:
  SignalGate() : main_thread_(pthread_self()) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  int wait() const {
    int signal = 0;
    sigwait(&set_, &signal);
    return signal;
  }
  void wake_main() const { pthread_kill(main_thread_, SIGUSR1); }
  // Whether a stop signal arrived that nobody has waited for yet (during start-up).
  bool stop_pending() const {
    sigset_t pending;
    sigpending(&pending);
    return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1;
  }

 private:
  sigset_t set_{};
  pthread_t main_thread_;
};

// Waits for the worker to finish; a first SIGINT/SIGTERM asks it to stop, a second (more than
// a second after it: GNU timeout and a kill of the process group send two at once) exits now.
void supervise(const SignalGate& gate, std::jthread& worker,
               const std::vector<std::jthread*>& others);

}  // namespace tastesync
