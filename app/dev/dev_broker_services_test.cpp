// The dev broker's additions to the mock cluster (docs/platform.md, "Topics on the dev broker",
// "Broker faults on purpose"): topic requests through TopicAdmin as `run` makes them, and the
// control pipe's commands, with a real librdkafka client watching the effect.
#include "app/dev/dev_broker_services.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "kafka/topic_admin.hpp"

namespace tastesync {
namespace {

using Kind = ControlCommand::Kind;

TEST(ControlLine, DownUpAndRttNameABrokerOrAll) {
  const auto down = parse_control_line("down 2", 3);
  ASSERT_TRUE(down.command) << down.error;
  EXPECT_EQ(down.command->kind, Kind::down);
  EXPECT_EQ(down.command->broker, 2);
  const auto up = parse_control_line("  up all\r", 3);
  ASSERT_TRUE(up.command) << up.error;
  EXPECT_EQ(up.command->kind, Kind::up);
  EXPECT_EQ(up.command->broker, 0);
  const auto rtt = parse_control_line("rtt 1 250", 3);
  ASSERT_TRUE(rtt.command) << rtt.error;
  EXPECT_EQ(rtt.command->kind, Kind::rtt);
  EXPECT_EQ(rtt.command->rtt_ms, 250);
}

TEST(ControlLine, FailNamesARequestAnErrorAndHowMany) {
  const auto fenced = parse_control_line("fail EndTxn PRODUCER_FENCED", 3);
  ASSERT_TRUE(fenced.command) << fenced.error;
  EXPECT_EQ(fenced.command->kind, Kind::fail);
  EXPECT_EQ(fenced.command->api_key, 26);
  EXPECT_EQ(fenced.command->error, RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
  EXPECT_EQ(fenced.command->count, 1);
  const auto refused = parse_control_line(
      "fail AddPartitionsToTxn RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED 3", 3);
  ASSERT_TRUE(refused.command) << refused.error;
  EXPECT_EQ(refused.command->api_key, 24);
  EXPECT_EQ(refused.command->error, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  EXPECT_EQ(refused.command->count, 3);
}

TEST(ControlLine, AnythingElseSaysWhatIsWrong) {
  for (const char* line : {"",
                           "   ",
                           "down",
                           "down 0",
                           "down 4",
                           "down -1",
                           "down 1 2",
                           "up x",
                           "rtt 1",
                           "rtt 1 -5",
                           "rtt 1 60001",
                           "rtt all 10 10",
                           "reboot 1",
                           "down 99999999999999",
                           "fail",
                           "fail EndTxn",
                           "fail Nope PRODUCER_FENCED",
                           "fail EndTxn NOT_AN_ERROR",
                           "fail EndTxn _TIMED_OUT",
                           "fail EndTxn PRODUCER_FENCED 0",
                           "fail EndTxn PRODUCER_FENCED 1001",
                           "fail EndTxn PRODUCER_FENCED 1 2"}) {
    const auto parsed = parse_control_line(line, 3);
    EXPECT_FALSE(parsed.command) << "'" << line << "'";
    EXPECT_FALSE(parsed.error.empty()) << "'" << line << "'";
  }
}

class DevBrokerServices : public ::testing::Test {
 protected:
  MockCluster cluster_{1};
  TopicAdmin admin_{{{"bootstrap.servers", cluster_.bootstrap_servers()}}, 2000};
};

TEST_F(DevBrokerServices, ATopicRequestCreatesTheTopicWithThePartitionsAsked) {
  cluster_.create_topic(std::string(kDevBrokerAdminTopic), 1);
  const TopicRequestServer server(cluster_);
  const TopicSpec changelog{"myapp-state-changelog", 24, -1, {{"cleanup.policy", "compact"}}};
  EXPECT_EQ(admin_.create(changelog), TopicCreation::created);
  EXPECT_EQ(admin_.list().at("myapp-state-changelog"), 24);
  // Idempotent: asked again, the topic is there and keeps its partitions.
  EXPECT_EQ(admin_.create(changelog), TopicCreation::existed);
  EXPECT_EQ(admin_.list().at("myapp-state-changelog"), 24);
}

TEST_F(DevBrokerServices, WithoutTheAdminTopicCreationFailsWithAReason) {
  // The bare mock has no CreateTopics: what `run` turns into "create it with: tastesync topics
  // create ...".
  try {
    admin_.create(TopicSpec{"nowhere", 6, -1, {}});
    FAIL() << "created a topic on a broker without CreateTopics";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()), "");
  }
  EXPECT_FALSE(admin_.list().contains("nowhere"));
}

TEST_F(DevBrokerServices, TheControlPipeTakesTheBrokerDownAndUp) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tastesync-control-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "control").string();
  {
    const ControlFifo control(cluster_, 1, path);
    ASSERT_NO_THROW(admin_.list());
    auto send = [&path](const std::string& line) {
      const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(::write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
      ::close(fd);
    };
    send("bogus\ndown 1\n");
    const TopicAdmin quick({{"bootstrap.servers", cluster_.bootstrap_servers()}}, 300);
    // Down: metadata requests go unanswered (the client retries to its timeout). The pipe is
    // read on its own thread: ask until the command took effect (a count of tries was not
    // enough once in CI: fifty answered before the line was read).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    bool down = false;
    while (!down && std::chrono::steady_clock::now() < deadline) {
      try {
        (void)quick.list();
      } catch (const std::runtime_error&) {
        down = true;
      }
    }
    EXPECT_TRUE(down);
    send("up all\n");
    bool up = false;
    while (!up && std::chrono::steady_clock::now() < deadline + std::chrono::seconds(20)) {
      try {
        (void)admin_.list();
        up = true;
      } catch (const std::runtime_error&) {
      }
    }
    EXPECT_TRUE(up);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tastesync
