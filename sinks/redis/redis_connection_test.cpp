#include "sinks/redis/redis_connection.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "tests/support/redis_test_server.hpp"
#include "tests/support/redis_test_support.hpp"

namespace tastesync {
namespace {

using testing::RedisTestServer;

TEST(RedisConnectionTest, ConnectsAndAnswersPing) {
  RedisTestServer server;
  RedisConnection connection(server.options());
  ASSERT_TRUE(connection.connected()) << connection.last_error();
  auto reply = connection.command({"PING"});
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply_text(**reply), "PONG");
}

TEST(RedisConnectionTest, RejectedCommandIsAReplyErrorAndTheConnectionStaysUsable) {
  RedisTestServer server;
  RedisConnection connection(server.options());
  ASSERT_TRUE(connection.command({"SET", "text", "x"}));

  auto rejected = connection.command({"HSET", "text", "field", "value"});
  ASSERT_TRUE(rejected) << "a reply error must not look like a connection failure";
  EXPECT_TRUE(is_error_reply(**rejected));
  EXPECT_TRUE(reply_text(**rejected).starts_with("WRONGTYPE")) << reply_text(**rejected);

  EXPECT_TRUE(connection.connected());
  auto ping = connection.command({"PING"});
  ASSERT_TRUE(ping);
  EXPECT_EQ(reply_text(**ping), "PONG");
}

TEST(RedisConnectionTest, PipelinedRepliesArriveInTheOrderOfTheCommands) {
  RedisTestServer server;
  RedisConnection connection(server.options());
  const std::vector<std::string> values = {"1", "2", "3"};
  for (const std::string& value : values) {
    const std::string_view arguments[] = {"RPUSH", "list", value};
    connection.append(arguments);
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    auto reply = connection.get_reply();
    ASSERT_TRUE(reply) << reply.error().message;
    EXPECT_EQ((*reply)->integer, static_cast<long long>(i + 1));
  }
}

// append() writes the protocol itself: binary values (a NUL, CR LF) and empty ones arrive
// byte for byte, and a pipeline past the buffer capacity the connection keeps (1 MiB) goes out
// whole, with the next command still in step.
TEST(RedisConnectionTest, BinaryAndEmptyArgumentsAndAPipelineOverAMebibyteArriveIntact) {
  RedisTestServer server;
  RedisConnection connection(server.options());
  const std::string binary("a\0b\r\n$3\r\n", 10);
  const std::string large(600, 'x');
  constexpr int kCommands = 3000;  // ~1.9 MB of protocol
  for (int i = 0; i < kCommands; ++i) {
    const std::string key = "k" + std::to_string(i);
    std::string_view value = large;
    if (i == 7) value = binary;
    if (i == 8) value = "";
    const std::string_view arguments[] = {"SET", key, value};
    connection.append(arguments);
  }
  for (int i = 0; i < kCommands; ++i) {
    auto reply = connection.get_reply();
    ASSERT_TRUE(reply) << reply.error().message;
    ASSERT_EQ(reply_text(**reply), "OK") << i;
  }
  for (const auto& [key, expected] :
       {std::pair<std::string, std::string>{"k7", binary}, {"k8", ""}, {"k2999", large}}) {
    auto reply = connection.command({"GET", key});
    ASSERT_TRUE(reply) << reply.error().message;
    EXPECT_EQ(reply_text(**reply), expected) << key;
  }
}

TEST(RedisConnectionTest, RefusedConnectionIsAConnectionFailure) {
  RedisTestServer server;
  server.stop();
  RedisConnection connection(server.options());
  EXPECT_FALSE(connection.connected());
  EXPECT_NE(connection.last_error().find(std::to_string(server.port())), std::string::npos)
      << connection.last_error();
  EXPECT_FALSE(connection.command({"PING"}));
  EXPECT_TRUE(connection.reconnect().has_value());
}

TEST(RedisConnectionTest, ServerGoneKillsTheContextUntilReconnect) {
  RedisTestServer server;
  RedisConnection connection(server.options());
  ASSERT_TRUE(connection.connected());
  server.stop();
  EXPECT_FALSE(connection.command({"PING"}));
  EXPECT_FALSE(connection.connected());

  server.start();
  EXPECT_FALSE(connection.command({"PING"})) << "a dead context stays dead until reconnect()";
  const auto error = connection.reconnect();
  ASSERT_FALSE(error) << error->message;
  auto reply = connection.command({"PING"});
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply_text(**reply), "PONG");
}

TEST(RedisConnectionTest, CommandTimeoutIsAConnectionFailure) {
  RedisTestServer server;
  RedisOptions options = server.options();
  options.command_timeout = std::chrono::milliseconds(200);
  RedisConnection connection(options);
  EXPECT_FALSE(connection.command({"BLPOP", "empty", "2"}));
  EXPECT_FALSE(connection.connected());
}

// hiredis writes with write(2): without the SIGPIPE guard, writing a large pipeline to a
// connection the server has closed would kill the test process.
TEST(RedisConnectionTest, WritingToAClosedConnectionFailsWithoutSigpipe) {
  RedisTestServer server;
  RedisConnection connection(server.options());
  RedisConnection killer(server.options());
  ASSERT_EQ(testing::integer(killer, {"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}), 1);

  const std::string payload(1000, 'x');
  for (int i = 0; i < 10000; ++i) {
    const std::string_view arguments[] = {"SET", "key", payload};
    connection.append(arguments);
  }
  EXPECT_FALSE(connection.get_reply());
  EXPECT_FALSE(connection.connected());
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
}

TEST(RedisTestServerTest, StopAndStartKeepsTheDataOnTheSamePort) {
  RedisTestServer server;
  const int port = server.port();
  {
    RedisConnection connection(server.options());
    ASSERT_TRUE(connection.command({"SET", "kept", "yes"}));
  }
  server.stop();
  EXPECT_FALSE(server.running());
  server.start();
  EXPECT_EQ(server.port(), port);
  RedisConnection connection(server.options());
  auto reply = connection.command({"GET", "kept"});
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply_text(**reply), "yes");
}

TEST(RedisTestServerTest, DestructorStopsTheServerAndRemovesItsDirectory) {
  std::filesystem::path directory;
  RedisOptions options;
  {
    RedisTestServer server;
    directory = server.directory();
    options = server.options();
    EXPECT_TRUE(std::filesystem::exists(directory));
  }
  EXPECT_FALSE(std::filesystem::exists(directory));
  EXPECT_FALSE(RedisConnection(options).connected());
}

}  // namespace
}  // namespace tastesync
