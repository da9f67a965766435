#pragma once

// What the configuration tests (one executable: config_test, config_secrets_test,
// metrics_config_test) share.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"

namespace tastesync::config_testing {

// load_config's ConfigError message, or "" when it loads.
inline std::string load_error(const ConfigSources& sources) {
  try {
    load_config(sources);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// A key's value as the effective-config log line shows it.
inline std::string described(const Config& config, const std::string& key) {
  for (const auto& [name, value] : describe_config(config)) {
    if (name == key) return value;
  }
  return "<absent>";
}

// A test with a fresh directory of its own for the files it configures from.
class ConfigDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("tastesync_config_test_" + std::string(test->name()) + "_" +
            std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `content` to `name` in the directory, as it is (binary); returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  std::filesystem::path dir_;
};

}  // namespace tastesync::config_testing
