#include "sinks/redis/redis_connection.hpp"

#include <pthread.h>
#include <sys/time.h>

#include <charconv>
#include <csignal>
#include <ctime>
#include <iterator>
#include <utility>

namespace tastesync {
namespace {

timeval to_timeval(std::chrono::milliseconds duration) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return tv;
}

// hiredis writes with write(2), so a server that closed the connection would raise SIGPIPE and
// kill the process. A library must not change the process' signal dispositions, so SIGPIPE is
// blocked in this thread while hiredis writes and a SIGPIPE raised meanwhile is consumed before
// unblocking — the technique of libpq's pq_block_sigpipe()/pq_reset_sigpipe().
class SigpipeBlockedInThisThread {
 public:
  SigpipeBlockedInThisThread() {
    sigemptyset(&sigpipe_);
    sigaddset(&sigpipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigpipe_, &previous_mask_);
    already_pending_ = sigpipe_pending();
  }
  ~SigpipeBlockedInThisThread() {
    if (!already_pending_ && sigpipe_pending()) {
      const timespec no_wait{};
      sigtimedwait(&sigpipe_, nullptr, &no_wait);
    }
    pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
  }
  SigpipeBlockedInThisThread(const SigpipeBlockedInThisThread&) = delete;
  SigpipeBlockedInThisThread& operator=(const SigpipeBlockedInThisThread&) = delete;

 private:
  static bool sigpipe_pending() {
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    return sigismember(&pending, SIGPIPE) == 1;
  }

  sigset_t sigpipe_{};
  sigset_t previous_mask_{};
  bool already_pending_ = false;
};

}  // namespace

bool is_error_reply(const redisReply& reply) {
  return reply.type == REDIS_REPLY_ERROR;
}

std::string_view reply_text(const redisReply& reply) {
  if (reply.str == nullptr) return {};
  return {reply.str, static_cast<std::size_t>(reply.len)};
}

bool is_credentials_error(std::string_view error_reply) {
  for (const std::string_view code : {"NOAUTH", "WRONGPASS", "NOPERM"}) {
    if (error_reply.starts_with(code) &&
        (error_reply.size() == code.size() || error_reply[code.size()] == ' ')) {
      return true;
    }
  }
  return false;
}

RedisConnection::RedisConnection(RedisOptions options) : options_(std::move(options)) {
  (void)reconnect();
}

bool RedisConnection::connected() const {
  return context_ != nullptr && context_->err == 0;
}

std::string RedisConnection::last_error() const {
  return connected() ? std::string() : last_error_;
}

std::optional<RedisConnectionError> RedisConnection::reconnect() {
  // A fresh context rather than redisReconnect(): it also discards queued commands and replies
  // of the broken pipeline, and the timeouts are set the same way as on the first connect.
  pending_.clear();
  context_.reset(redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                         to_timeval(options_.connect_timeout)));
  if (context_ == nullptr) return fail("cannot allocate a redis context");
  if (context_->err != 0) return fail("connect");
  if (redisSetTimeout(context_.get(), to_timeval(options_.command_timeout)) != REDIS_OK) {
    return fail("set command timeout");
  }
  if (auto error = authenticate()) return error;
  last_error_.clear();
  return std::nullopt;
}

std::optional<RedisConnectionError> RedisConnection::authenticate() {
  if (options_.password.empty()) return std::nullopt;
  auto reply = options_.user.empty() ? command({"AUTH", options_.password})
                                     : command({"AUTH", options_.user, options_.password});
  if (!reply) return reply.error();
  if (!is_error_reply(**reply)) return std::nullopt;
  const std::string_view text = reply_text(**reply);
  // Only a refusal of the credentials themselves is one: WRONGPASS (wrong password, unknown or
  // disabled user), NOAUTH, or an ERR saying the server has no password to check (Redis 6+:
  // "AUTH <password> called without any password configured", before: "Client sent AUTH, but no
  // password is set"). Anything else in AUTH's place — "ERR max number of clients reached", which
  // Redis sends on accept, or LOADING — is the server's state: an outage, retried. Redis never
  // quotes the password in these replies; the log's redactor would mask it if it did.
  const bool refused =
      text.starts_with("WRONGPASS") || text.starts_with("NOAUTH") ||
      (text.starts_with("ERR") && (text.find("without any password") != std::string_view::npos ||
                                   text.find("no password is set") != std::string_view::npos));
  const std::string as_user = options_.user.empty() ? "" : " as user '" + options_.user + "'";
  return fail("AUTH" + as_user + (refused ? " refused: " : " not answered: ") + std::string(text),
              refused ? RedisErrorKind::credentials_rejected : RedisErrorKind::unavailable);
}

RedisConnectionError RedisConnection::fail(std::string_view what, RedisErrorKind kind) {
  last_error_ = "redis " + options_.host + ":" + std::to_string(options_.port) + ": ";
  last_error_.append(what);
  if (context_ != nullptr && context_->err != 0) {
    last_error_.append(": ").append(context_->errstr);
  } else if (context_ != nullptr) {
    // Keep the context dead for everyone, whatever hiredis thought of it.
    context_->err = REDIS_ERR_OTHER;
  }
  return RedisConnectionError{last_error_, kind};
}

void RedisConnection::append(std::span<const std::string_view> arguments) {
  if (!connected()) return;  // get_reply() reports it
  const auto header = [this](char kind, std::size_t count) {
    char digits[24];
    const auto end = std::to_chars(std::begin(digits), std::end(digits), count).ptr;
    pending_.push_back(kind);
    pending_.append(digits, end);
    pending_.append("\r\n");
  };
  header('*', arguments.size());
  for (const std::string_view argument : arguments) {
    header('$', argument.size());
    pending_.append(argument);
    pending_.append("\r\n");
  }
}

std::optional<RedisConnectionError> RedisConnection::flush() {
  if (!connected()) return fail("not connected");
  // One copy into hiredis' output buffer, so that the write and its errors and timeouts stay
  // hiredis' own. Fails only when out of memory, with the context's error set.
  const int appended =
      redisAppendFormattedCommand(context_.get(), pending_.data(), pending_.size());
  pending_.clear();
  // A default sink batch (5 000 events) is ~2 MB; one of sink.batch_max_records = 100 000 must
  // not hold its ~40 MB for good.
  constexpr std::size_t kKeptCapacity = 4 << 20;
  if (pending_.capacity() > kKeptCapacity) std::string().swap(pending_);
  if (appended != REDIS_OK) return fail("append");
  const SigpipeBlockedInThisThread sigpipe_blocked;
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(context_.get(), &done) != REDIS_OK) return fail("write");
  }
  return std::nullopt;
}

Result<RedisReply, RedisConnectionError> RedisConnection::get_reply() {
  if (!connected()) return Failure{fail("not connected")};
  if (!pending_.empty()) {
    if (auto error = flush()) return Failure{std::move(*error)};
  }
  void* raw_reply = nullptr;
  if (redisGetReply(context_.get(), &raw_reply) != REDIS_OK || raw_reply == nullptr) {
    return Failure{fail("read")};
  }
  return RedisReply(static_cast<redisReply*>(raw_reply));
}

Result<RedisReply, RedisConnectionError> RedisConnection::command(
    std::span<const std::string_view> arguments) {
  append(arguments);
  return get_reply();
}

Result<RedisReply, RedisConnectionError> RedisConnection::command(
    std::initializer_list<std::string_view> arguments) {
  return command(std::span<const std::string_view>(arguments.begin(), arguments.size()));
}

}  // namespace tastesync
