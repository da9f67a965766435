#include "sinks/redis/redis_writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <numeric>
#include <utility>

#include "common/erasure.hpp"
#include "sinks/redis/redis_write_script.hpp"

namespace tastesync {
namespace {

constexpr std::string_view kNoScriptPrefix = "NOSCRIPT";

// Replies that describe the server's state, not the event: the same event succeeds once the
// server is back to normal, so the batch is retried instead of dead-lettering the event.
// (NOAUTH, WRONGPASS and NOPERM are about the credentials: is_credentials_error.)
constexpr std::array<std::string_view, 9> kServerStatePrefixes = {
    "LOADING", "BUSY",     "READONLY",    "OOM",        "MASTERDOWN",
    "MISCONF", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS",
};

bool starts_with_code(std::string_view message, std::string_view code) {
  return message.starts_with(code) &&
         (message.size() == code.size() || message[code.size()] == ' ');
}

bool is_server_state_error(std::string_view message) {
  return std::ranges::any_of(kServerStatePrefixes, [message](std::string_view code) {
    return starts_with_code(message, code);
  });
}

// The script returns {customer, present, beacon} as 0/1.
bool script_wrote(const redisReply& reply, std::size_t position) {
  return reply.type == REDIS_REPLY_ARRAY && reply.elements > position &&
         reply.element[position]->type == REDIS_REPLY_INTEGER &&
         reply.element[position]->integer == 1;
}

}  // namespace

// The outcome of one pipelined round trip over some events of a batch.
struct RedisWriter::Pass {
  RedisBatchWritten written;
  std::vector<std::size_t> without_script;  // NOSCRIPT: run again once the script is loaded
  std::string server_state_error;           // non-empty: retry the whole batch
  std::string credentials_error;            // non-empty: fail the batch for good
};

RedisWriter::RedisWriter(RedisOptions options) : connection_(std::move(options)) {}

Result<RedisBatchWritten, RedisBatchFailure> RedisWriter::write(std::span<const SinkEvent> events,
                                                                EpochMs now_ms) {
  if (events.empty()) return RedisBatchWritten{};
  if (auto failure = ready()) return Failure{std::move(*failure)};
  std::vector<std::size_t> indices(events.size());
  std::iota(indices.begin(), indices.end(), std::size_t{0});

  auto first = run(events, indices, now_ms);
  if (!first) return Failure{first.error()};
  RedisBatchWritten written = std::move(first->written);
  if (!first->without_script.empty()) {
    // Redis lost its script cache (a restart, SCRIPT FLUSH, a failover). The script is
    // order-independent (newest wins), so re-running just those events after the others is safe.
    if (auto failure = load_script()) return Failure{std::move(*failure)};
    auto second = run(events, first->without_script, now_ms);
    if (!second) return Failure{second.error()};
    if (!second->without_script.empty()) {
      return Failure{RedisBatchFailure{"redis lost the write script again right after loading it"}};
    }
    written.customers_written += second->written.customers_written;
    written.present_written += second->written.present_written;
    written.beacons_written += second->written.beacons_written;
    for (auto& rejected : second->written.rejected) written.rejected.push_back(std::move(rejected));
    std::ranges::sort(written.rejected, {}, &SinkRejection::index);
  }
  return written;
}

std::optional<RedisBatchFailure> RedisWriter::ready() {
  if (!connection_.connected()) {
    if (auto error = connection_.reconnect()) {
      return RedisBatchFailure{std::move(error->message), error->kind};
    }
  }
  if (script_sha_.empty()) return load_script();
  return std::nullopt;
}

std::optional<RedisBatchFailure> RedisWriter::load_script() {
  for (auto [script, sha] :
       {std::pair{kRedisWriteScript, &script_sha_}, std::pair{kRedisForgetScript, &forget_sha_}}) {
    auto reply = connection_.command({"SCRIPT", "LOAD", script});
    if (!reply) return RedisBatchFailure{reply.error().message, reply.error().kind};
    if ((*reply)->type != REDIS_REPLY_STRING) {
      const std::string_view text = reply_text(**reply);
      return RedisBatchFailure{"redis SCRIPT LOAD: " + std::string(text),
                               is_credentials_error(text) ? RedisErrorKind::credentials_rejected
                                                          : RedisErrorKind::unavailable};
    }
    *sha = reply_text(**reply);
  }
  return std::nullopt;
}

Result<RedisWriter::Pass, RedisBatchFailure> RedisWriter::run(std::span<const SinkEvent> events,
                                                              std::span<const std::size_t> indices,
                                                              EpochMs now_ms) {
  for (const std::size_t index : indices) append_event(events[index], now_ms);
  Pass pass;
  // Every reply is read even after a bad one, so the connection stays in step for the next batch.
  for (const std::size_t index : indices) {
    auto reply = connection_.get_reply();
    if (!reply) return Failure{RedisBatchFailure{reply.error().message, reply.error().kind}};
    const redisReply& result = **reply;
    if (!is_error_reply(result) && events[index].forget_request) {
      spdlog::info(
          "sink redis: erasure {}: customer sha256:{}: {}; later replays of them are "
          "refused",
          *events[index].forget_request, customer_hash_short(events[index].customer_id),
          script_wrote(result, 0) ? "customer hash and presence deleted"
                                  : "nothing of theirs held");
      continue;
    }
    if (!is_error_reply(result)) {
      pass.written.customers_written += script_wrote(result, 0) ? 1 : 0;
      pass.written.present_written += script_wrote(result, 1) ? 1 : 0;
      pass.written.beacons_written += script_wrote(result, 2) ? 1 : 0;
      continue;
    }
    const std::string_view message = reply_text(result);
    if (starts_with_code(message, kNoScriptPrefix)) {
      pass.without_script.push_back(index);
    } else if (is_credentials_error(message)) {
      if (pass.credentials_error.empty()) pass.credentials_error = message;
    } else if (is_server_state_error(message)) {
      if (pass.server_state_error.empty()) pass.server_state_error = message;
    } else {
      pass.written.rejected.push_back({index, std::string(message)});
    }
  }
  if (!pass.credentials_error.empty()) {
    return Failure{RedisBatchFailure{"redis: " + pass.credentials_error,
                                     RedisErrorKind::credentials_rejected}};
  }
  if (!pass.server_state_error.empty()) {
    return Failure{RedisBatchFailure{"redis: " + pass.server_state_error}};
  }
  return pass;
}

void RedisWriter::append_event(const SinkEvent& event, EpochMs now_ms) {
  customer_key_.assign("customer:").append(event.customer_id);
  customer_hash_ = customer_hash(event.customer_id);
  if (event.forget_request) {
    detected_at_ms_ = std::to_string(event.detected_at_ms);
    const std::array<std::string_view, 7> command = {
        "EVALSHA",      forget_sha_,    "1", customer_key_, event.customer_id,
        customer_hash_, detected_at_ms_};
    connection_.append(command);
    return;
  }
  present_key_.assign("store:").append(event.store_id).append(":present");
  detected_at_ms_ = std::to_string(event.detected_at_ms);
  now_ms_ = std::to_string(now_ms);
  const bool has_beacon = event.beacon_id.has_value();
  if (has_beacon) beacon_key_.assign("beacon:").append(*event.beacon_id);
  beacon_major_ = event.beacon_major ? std::to_string(*event.beacon_major) : std::string();
  beacon_minor_ = event.beacon_minor ? std::to_string(*event.beacon_minor) : std::string();

  std::array<std::string_view, kRedisScriptArgumentCount> argv{};
  argv[kArgCustomerId] = event.customer_id;
  argv[kArgStoreId] = event.store_id;
  argv[kArgLocation] = event.location;
  argv[kArgLocationType] = event.location_type;
  argv[kArgConfidence] = event.confidence;
  argv[kArgDetectedAt] = event.detected_at;
  argv[kArgDetectedAtMs] = detected_at_ms_;
  argv[kArgEventId] = event.event_id;
  argv[kArgIdentification] = event.identification;
  argv[kArgNowMs] = now_ms_;
  argv[kArgBeaconUuid] = event.beacon_uuid ? std::string_view(*event.beacon_uuid) : "";
  argv[kArgBeaconMajor] = beacon_major_;
  argv[kArgBeaconMinor] = beacon_minor_;
  argv[kArgCustomerHash] = customer_hash_;

  constexpr std::size_t kHeader = 3;  // EVALSHA sha numkeys
  std::array<std::string_view, kHeader + 3 + kRedisScriptArgumentCount> command{};
  std::size_t size = 0;
  command[size++] = "EVALSHA";
  command[size++] = script_sha_;
  command[size++] = has_beacon ? "3" : "2";
  command[size++] = customer_key_;
  command[size++] = present_key_;
  if (has_beacon) command[size++] = beacon_key_;
  for (const std::string_view argument : argv) command[size++] = argument;
  connection_.append(std::span<const std::string_view>(command.data(), size));
}

}  // namespace tastesync
