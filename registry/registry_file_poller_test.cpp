#include "registry/registry_file_poller.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

namespace tastesync {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class RegistryFilePollerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tastesync-poller-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    path_ = dir_ / "registry.json";
    fs::copy_file(TASTESYNC_DEFAULT_REGISTRY, path_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A later modification time than any before: file systems with coarse timestamps would
  // otherwise see two writes within one tick as no change.
  void touch_later() { fs::last_write_time(path_, fs::last_write_time(path_) + 2s); }

  fs::path dir_;
  fs::path path_;
  std::shared_ptr<RegistryFeed> feed_ = std::make_shared<RegistryFeed>();
};

TEST_F(RegistryFilePollerTest, TheFirstPollOnlyNotesTheFileAsTheOneInUse) {
  RegistryFilePoller poller(path_.string(), feed_);
  poller.poll();
  poller.poll();
  EXPECT_EQ(feed_->take(), nullptr);
  EXPECT_EQ(feed_->take_errors(), 0U);
}

TEST_F(RegistryFilePollerTest, AChangedFileIsLoadedAndPublishedOnce) {
  RegistryFilePoller poller(path_.string(), feed_);
  poller.poll();
  touch_later();
  poller.poll();
  const auto registry = feed_->take();
  ASSERT_NE(registry, nullptr);
  EXPECT_FALSE(registry->beacons().empty());
  poller.poll();
  EXPECT_EQ(feed_->take(), nullptr);
}

TEST_F(RegistryFilePollerTest, ABrokenFileIsReportedAndPublishesNothing) {
  RegistryFilePoller poller(path_.string(), feed_);
  poller.poll();
  std::ofstream(path_, std::ios::trunc) << "{\"beacons\": [";
  touch_later();
  poller.poll();
  EXPECT_EQ(feed_->take(), nullptr);
  EXPECT_EQ(feed_->take_errors(), 1U);
}

TEST_F(RegistryFilePollerTest, AMissingFileIsNoChange) {
  RegistryFilePoller poller((dir_ / "absent.json").string(), feed_);
  poller.poll();
  poller.poll();
  EXPECT_EQ(feed_->take(), nullptr);
  EXPECT_EQ(feed_->take_errors(), 0U);
}

}  // namespace
}  // namespace tastesync
