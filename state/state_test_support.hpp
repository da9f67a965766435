#pragma once

// A state directory of the running test's own, for the tests of the state layer and of what
// writes through it (tests only; header-only so that no product target carries it).

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "state/state_store.hpp"

namespace tastesync::state_testing {

// Empty when made, removed with everything in it when destroyed. Named after the process and
// the running test, so tests running side by side never share one; `label` tells apart two of
// one test.
class TempStateDir {
 public:
  explicit TempStateDir(const std::string& label = "state")
      : path_(std::filesystem::temp_directory_path() /
              ("tastesync-" + label + "-" + std::to_string(::getpid()) + "-" + test_name())) {
    std::filesystem::remove_all(path_);
  }
  ~TempStateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempStateDir(const TempStateDir&) = delete;
  TempStateDir& operator=(const TempStateDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // A store in this directory, over raw-beacons unless `options` names a topic. A store that
  // does not open throws, which fails the test with RocksDB's message.
  std::unique_ptr<StateStore> open(StateStoreOptions options = {}) const {
    options.dir = path_.string();
    if (options.input_topic.empty()) options.input_topic = "raw-beacons";
    auto store = StateStore::open(options);
    if (!store.ok())
      throw std::runtime_error("the state store did not open: " + store.error().message);
    return std::move(*store);
  }

 private:
  static std::string test_name() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    if (info == nullptr) return "outside-a-test";
    std::string name = std::string(info->test_suite_name()) + "." + info->name();
    std::replace(name.begin(), name.end(), '/', '_');  // parameterised tests' names have them
    return name;
  }

  std::filesystem::path path_;
};

}  // namespace tastesync::state_testing
