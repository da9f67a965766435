// Redis AUTH (docs/design.md "Secrets"): against a real redis-server with --requirepass and with
// an ACL user. Credentials Redis refuses are a failure of their own kind, never a retry.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/clock.hpp"
#include "sinks/redis/redis_connection.hpp"
#include "sinks/redis/redis_writer.hpp"
#include "tests/support/redis_test_server.hpp"
#include "tests/support/redis_test_support.hpp"
#include "tests/support/sink_events.hpp"

namespace tastesync {
namespace {

using testing::RedisTestServer;
using testing::RedisTestServerAuth;

// Spaces, quotes, '%' and '?': AUTH sends it as one binary-safe argument.
constexpr const char* kPassword = R"(r3dis pw?%zz:// 'x"y)";

RedisOptions with_credentials(RedisOptions options, std::string user, std::string password) {
  options.user = std::move(user);
  options.password = std::move(password);
  return options;
}

std::vector<SinkEvent> one_event(const std::string& customer) {
  return {testing::qr_event(customer, "store100", "Counter", wall_clock_ms())};
}

TEST(RedisAuthTest, ThePasswordAuthenticatesAgainAfterEveryReconnect) {
  RedisTestServer server(RedisTestServerAuth{.requirepass = kPassword});
  RedisConnection connection(server.options());
  ASSERT_TRUE(connection.connected()) << connection.last_error();
  ASSERT_EQ(reply_text(**connection.command({"PING"})), "PONG");

  server.stop();
  server.start();
  EXPECT_FALSE(connection.reconnect());
  auto ping = connection.command({"PING"});
  ASSERT_TRUE(ping) << ping.error().message;
  EXPECT_EQ(reply_text(**ping), "PONG") << "a reconnected connection must AUTH again";
}

TEST(RedisAuthTest, AWrongPasswordIsRefusedCredentialsNotAnOutage) {
  RedisTestServer server(RedisTestServerAuth{.requirepass = kPassword});
  RedisConnection connection(with_credentials(server.options(), "", "not it"));
  EXPECT_FALSE(connection.connected());
  const auto error = connection.reconnect();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, RedisErrorKind::credentials_rejected);
  EXPECT_NE(error->message.find("WRONGPASS"), std::string::npos) << error->message;
  EXPECT_EQ(error->message.find("not it"), std::string::npos) << error->message;
}

TEST(RedisAuthTest, NoPasswordAgainstARedisThatRequiresOneIsRefusedCredentials) {
  RedisTestServer server(RedisTestServerAuth{.requirepass = kPassword});
  RedisWriter writer(with_credentials(server.options(), "", ""));
  const auto failure = writer.ready();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, RedisErrorKind::credentials_rejected);
  EXPECT_NE(failure->message.find("NOAUTH"), std::string::npos) << failure->message;
  const auto written = writer.write(one_event("c1"), wall_clock_ms());
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().kind, RedisErrorKind::credentials_rejected);
}

TEST(RedisAuthTest, APasswordForARedisWithoutOneIsRefusedCredentials) {
  RedisTestServer server;
  RedisWriter writer(with_credentials(server.options(), "", kPassword));
  const auto failure = writer.ready();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, RedisErrorKind::credentials_rejected) << failure->message;
}

TEST(RedisAuthTest, AFullServerIsAnOutageNotRefusedCredentials) {
  // Redis answers a connection past maxclients with "-ERR max number of clients reached", which
  // hiredis reads as the reply to AUTH: a busy server, not a wrong password.
  RedisTestServer server(RedisTestServerAuth{.requirepass = kPassword});
  RedisConnection holder(server.options());
  ASSERT_TRUE(holder.connected()) << holder.last_error();
  ASSERT_TRUE(holder.command({"CONFIG", "SET", "maxclients", "1"}));
  RedisConnection second(server.options());
  EXPECT_FALSE(second.connected());
  const auto error = second.reconnect();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, RedisErrorKind::unavailable) << error->message;
}

TEST(RedisAuthTest, AnAclUserWritesWithItsPassword) {
  RedisTestServer server(
      RedisTestServerAuth{.requirepass = "admin", .acl_user = "sink", .acl_password = kPassword});
  RedisWriter writer(with_credentials(server.options(), "sink", kPassword));
  const auto written = writer.write(one_event("acl-customer"), wall_clock_ms());
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(written->customers_written, 1u);
  RedisConnection admin(server.options());
  auto whoami = admin.command({"CLIENT", "LIST"});
  ASSERT_TRUE(whoami);
  EXPECT_NE(reply_text(**whoami).find("user=sink"), std::string::npos) << reply_text(**whoami);
}

TEST(RedisAuthTest, AnUnknownAclUserOrAWrongPasswordIsRefusedCredentials) {
  RedisTestServer server(
      RedisTestServerAuth{.requirepass = "admin", .acl_user = "sink", .acl_password = kPassword});
  for (const auto& [user, password] : std::vector<std::pair<std::string, std::string>>{
           {"sink", "not it"}, {"nobody", kPassword}}) {
    RedisWriter writer(with_credentials(server.options(), user, password));
    const auto failure = writer.ready();
    ASSERT_TRUE(failure) << user;
    EXPECT_EQ(failure->kind, RedisErrorKind::credentials_rejected) << user;
    EXPECT_NE(failure->message.find("WRONGPASS"), std::string::npos) << failure->message;
  }
}

TEST(RedisAuthTest, AnAclUserWithoutTheRightsItNeedsIsRefusedCredentials) {
  RedisTestServer server(RedisTestServerAuth{.requirepass = "admin",
                                             .acl_user = "reader",
                                             .acl_password = kPassword,
                                             .acl_rules = {"~*", "+get", "+ping"}});
  RedisWriter writer(with_credentials(server.options(), "reader", kPassword));
  const auto failure = writer.ready();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, RedisErrorKind::credentials_rejected);
  EXPECT_NE(failure->message.find("NOPERM"), std::string::npos) << failure->message;
}

TEST(RedisAuthTest, APasswordChangedWhileWritingIsRefusedAtTheReconnect) {
  RedisTestServer server(RedisTestServerAuth{.requirepass = kPassword});
  RedisWriter writer(server.options());
  ASSERT_TRUE(writer.write(one_event("before"), wall_clock_ms()));

  RedisConnection admin(server.options());
  ASSERT_TRUE(admin.command({"CONFIG", "SET", "requirepass", "rotated"}));
  ASSERT_TRUE(admin.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}));
  // The first write may only find the connection gone (an outage, retried); the reconnect
  // meets the new password and is refused for good.
  RedisErrorKind last_kind = RedisErrorKind::unavailable;
  for (int attempt = 0; attempt < 3 && last_kind == RedisErrorKind::unavailable; ++attempt) {
    const auto written = writer.write(one_event("after"), wall_clock_ms());
    ASSERT_FALSE(written) << "written with a password Redis no longer accepts";
    last_kind = written.error().kind;
  }
  EXPECT_EQ(last_kind, RedisErrorKind::credentials_rejected);
}

}  // namespace
}  // namespace tastesync
