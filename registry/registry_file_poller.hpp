#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "registry/registry_feed.hpp"

namespace tastesync {

// A file registry picked up while running (docs/contract.md#registry-reload): re-read when its
// modification time changes and published to the feed, as the PostgreSQL watcher publishes a
// database registry. A broken file keeps the registry in use: the failure is logged with its
// reason and reported to the feed.
class RegistryFilePoller {
 public:
  RegistryFilePoller(std::string path, std::shared_ptr<RegistryFeed> feed)
      : path_(std::move(path)), feed_(std::move(feed)) {}

  // One stat of the file; a load only when it changed since the previous poll (the first poll
  // only notes the time: the registry in use was loaded from this file at start).
  void poll();

 private:
  std::string path_;
  std::shared_ptr<RegistryFeed> feed_;
  std::optional<std::filesystem::file_time_type> modified_;
};

}  // namespace tastesync
