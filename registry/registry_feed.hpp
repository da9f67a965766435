#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "stages/registry.hpp"

namespace tastesync {

// Hands registries loaded on another thread (the PostgreSQL watcher) to the pipeline thread,
// which swaps them in between records. Only the newest unclaimed one matters.
class RegistryFeed {
 public:
  void publish(std::shared_ptr<const Registry> registry) {
    const std::lock_guard lock(mutex_);
    pending_ = std::move(registry);
  }
  void report_error() {
    const std::lock_guard lock(mutex_);
    ++errors_;
  }

  // The registry published since the last call, or null.
  std::shared_ptr<const Registry> take() {
    const std::lock_guard lock(mutex_);
    return std::move(pending_);
  }
  // Load failures reported since the last call.
  std::uint64_t take_errors() {
    const std::lock_guard lock(mutex_);
    const std::uint64_t errors = errors_;
    errors_ = 0;
    return errors;
  }

 private:
  std::mutex mutex_;
  std::shared_ptr<const Registry> pending_;
  std::uint64_t errors_ = 0;
};

}  // namespace tastesync
