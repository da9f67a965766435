#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace tastesync {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  // AUTH after every connect when `password` is set: `AUTH password` as the default user, or
  // `AUTH user password` as an ACL user (Redis 6+).
  std::string user;
  std::string password;
  std::chrono::milliseconds connect_timeout{2000};
  // Bounds every socket read and write (redisSetTimeout); past it the connection counts as failed.
  std::chrono::milliseconds command_timeout{5000};
};

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyDeleter>;

// Why Redis cannot be used. `unavailable` passes by itself (an outage, a restart, a timeout);
// `credentials_rejected` does not: Redis refused the user or password (or AUTH was needed and
// none was given), which only the operator can fix.
enum class RedisErrorKind { unavailable, credentials_rejected };

// The connection is unusable: refused, reset, timed out, the server closed it, or it refused
// AUTH. Nothing can be said about which queued commands the server executed. hiredis keeps such
// a context dead, so the only way on is reconnect(). A command the server rejected is not this:
// it arrives as a reply of type REDIS_REPLY_ERROR and the connection stays good.
struct RedisConnectionError {
  std::string message;
  RedisErrorKind kind = RedisErrorKind::unavailable;
};

bool is_error_reply(const redisReply& reply);
std::string_view reply_text(const redisReply& reply);

// Whether an error reply means the credentials are wrong or missing (NOAUTH, WRONGPASS) or lack
// a permission (NOPERM, an ACL user's rights): no retry helps.
bool is_credentials_error(std::string_view error_reply);

// One blocking hiredis connection, owned once. Not thread-safe: one per sink thread.
class RedisConnection {
 public:
  // Tries to connect once; a failure leaves the connection disconnected (see connected()), so a
  // sink can start while Redis is down and reconnect() later.
  explicit RedisConnection(RedisOptions options);

  const RedisOptions& options() const { return options_; }
  bool connected() const;
  // Why the connection is down; empty while connected.
  std::string last_error() const;
  // Drops the current context (with any queued commands and unread replies) and connects anew,
  // then authenticates when options().password is set.
  std::optional<RedisConnectionError> reconnect();

  // One command and its reply.
  Result<RedisReply, RedisConnectionError> command(std::span<const std::string_view> arguments);
  Result<RedisReply, RedisConnectionError> command(
      std::initializer_list<std::string_view> arguments);

  // Pipelining: append() only queues a command (it copies the arguments, so their storage may be
  // reused at once); the first get_reply() sends everything queued in one write, then each call
  // reads one reply, in the order of the appends. append() writes the protocol (RESP) itself into
  // a buffer that keeps its capacity from one batch to the next: hiredis' own formatting grew a
  // fresh buffer argument by argument, which was most of the Redis writer's CPU on this side
  // (docs/bench.md#redis-writer-cpu).
  void append(std::span<const std::string_view> arguments);
  Result<RedisReply, RedisConnectionError> get_reply();

 private:
  using Context = std::unique_ptr<redisContext, decltype(&redisFree)>;

  std::optional<RedisConnectionError> flush();
  std::optional<RedisConnectionError> authenticate();
  RedisConnectionError fail(std::string_view what,
                            RedisErrorKind kind = RedisErrorKind::unavailable);

  RedisOptions options_;
  Context context_{nullptr, &redisFree};
  std::string last_error_;
  std::string pending_;  // appended commands not yet handed to hiredis, in RESP
};

}  // namespace tastesync
