#include "registry/registry_file_poller.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <system_error>

#include "registry/registry_source.hpp"

namespace tastesync {

void RegistryFilePoller::poll() {
  std::error_code error;
  const auto modified = std::filesystem::last_write_time(path_, error);
  if (error) return;
  if (!modified_) {
    modified_ = modified;
    return;
  }
  if (modified == *modified_) return;
  modified_ = modified;
  try {
    auto registry = load_registry(path_);
    spdlog::info("registry {} reloaded: {} beacons, {} QR codes", path_, registry->beacons().size(),
                 registry->qr_codes().size());
    feed_->publish(std::move(registry));
  } catch (const std::exception& e) {
    feed_->report_error();
    spdlog::error("registry {} not reloaded, the previous one stays in use: {}", path_, e.what());
  }
}

}  // namespace tastesync
