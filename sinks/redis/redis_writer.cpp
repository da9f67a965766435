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

// Of one event's place in the write script's reply: 1 customer, 2 present set, 4 beacon written.
constexpr long long kWroteCustomer = 1;
constexpr long long kWrotePresent = 2;
constexpr long long kWroteBeacon = 4;

// The forget script returns {customer deleted} as 0/1.
bool forget_deleted(const redisReply& reply) {
  return reply.type == REDIS_REPLY_ARRAY && reply.elements > 0 &&
         reply.element[0]->type == REDIS_REPLY_INTEGER && reply.element[0]->integer == 1;
}

}  // namespace

// The outcome of one pipelined round trip over some events of a batch.
struct RedisWriter::Pass {
  RedisBatchWritten written;
  std::vector<std::size_t> without_script;  // NOSCRIPT: run again once the script is loaded
  std::vector<std::size_t> singly;          // a chunk failed as a whole: run again one per call
  std::string server_state_error;           // non-empty: retry the whole batch
  std::string credentials_error;            // non-empty: fail the batch for good
};

namespace {

void add(RedisBatchWritten& into, RedisBatchWritten&& more) {
  into.customers_written += more.customers_written;
  into.present_written += more.present_written;
  into.beacons_written += more.beacons_written;
  for (auto& rejected : more.rejected) into.rejected.push_back(std::move(rejected));
}

}  // namespace

RedisWriter::RedisWriter(RedisOptions options, std::size_t events_per_call)
    : connection_(std::move(options)),
      events_per_call_(std::max<std::size_t>(events_per_call, 1)) {}

Result<RedisBatchWritten, RedisBatchFailure> RedisWriter::write(std::span<const SinkEvent> events,
                                                                EpochMs now_ms) {
  if (events.empty()) return RedisBatchWritten{};
  if (auto failure = ready()) return Failure{std::move(*failure)};
  std::vector<std::size_t> indices(events.size());
  std::iota(indices.begin(), indices.end(), std::size_t{0});

  auto first = run(events, indices, now_ms, events_per_call_);
  if (!first) return Failure{first.error()};
  RedisBatchWritten written = std::move(first->written);
  std::vector<std::size_t> singly = std::move(first->singly);
  if (!first->without_script.empty()) {
    // Redis lost its script cache (a restart, SCRIPT FLUSH, a failover). The script is
    // order-independent (newest wins), so re-running just those events after the others is safe.
    if (auto failure = load_script()) return Failure{std::move(*failure)};
    auto second = run(events, first->without_script, now_ms, events_per_call_);
    if (!second) return Failure{second.error()};
    if (!second->without_script.empty()) {
      return Failure{RedisBatchFailure{"redis lost the write script again right after loading it"}};
    }
    add(written, std::move(second->written));
    singly.insert(singly.end(), second->singly.begin(), second->singly.end());
  }
  if (!singly.empty()) {
    // A chunk failed as a whole with an error that is not about the server's state: run its
    // events one per call, so that the error is pinned on the event that causes it. Safe for the
    // same reason: a retried event changes nothing it already changed.
    std::ranges::sort(singly);
    auto third = run(events, singly, now_ms, 1);
    if (!third) return Failure{third.error()};
    if (!third->without_script.empty()) {
      return Failure{RedisBatchFailure{"redis lost the write script while retrying events"}};
    }
    add(written, std::move(third->written));
  }
  std::ranges::sort(written.rejected, {}, &SinkRejection::index);
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
                                                              EpochMs now_ms,
                                                              std::size_t events_per_call) {
  // Consecutive events share a call, up to events_per_call; an erasure is a call of its own, so
  // the order of writes and erasures stays the batch's.
  mark_superseded(events, indices);
  std::vector<std::span<const std::size_t>> calls;
  for (std::size_t at = 0; at < indices.size();) {
    std::size_t end = at + 1;
    if (!events[indices[at]].forget_request) {
      while (end < indices.size() && end - at < events_per_call &&
             !events[indices[end]].forget_request) {
        ++end;
      }
    }
    calls.push_back(indices.subspan(at, end - at));
    append_call(events, calls.back(), now_ms);
    at = end;
  }
  Pass pass;
  // Every reply is read even after a bad one, so the connection stays in step for the next batch.
  for (const std::span<const std::size_t> call : calls) {
    auto reply = connection_.get_reply();
    if (!reply) return Failure{RedisBatchFailure{reply.error().message, reply.error().kind}};
    const redisReply& result = **reply;
    if (is_error_reply(result)) {
      const std::string_view message = reply_text(result);
      if (starts_with_code(message, kNoScriptPrefix)) {
        pass.without_script.insert(pass.without_script.end(), call.begin(), call.end());
      } else if (is_credentials_error(message)) {
        if (pass.credentials_error.empty()) pass.credentials_error = message;
      } else if (is_server_state_error(message)) {
        if (pass.server_state_error.empty()) pass.server_state_error = message;
      } else if (call.size() > 1) {
        pass.singly.insert(pass.singly.end(), call.begin(), call.end());
      } else {
        pass.written.rejected.push_back({call.front(), std::string(message)});
      }
      continue;
    }
    const SinkEvent& first = events[call.front()];
    if (first.forget_request) {
      spdlog::info(
          "sink redis: erasure {}: customer sha256:{}: {}; later replays of them are "
          "refused",
          *first.forget_request, customer_hash_short(first.customer_id),
          forget_deleted(result) ? "customer hash and presence deleted" : "nothing of theirs held");
      continue;
    }
    if (result.type != REDIS_REPLY_ARRAY || result.elements != call.size()) {
      return Failure{RedisBatchFailure{"redis: the write script's reply does not match its call"}};
    }
    for (std::size_t i = 0; i < call.size(); ++i) {
      const redisReply& outcome = *result.element[i];
      if (outcome.type == REDIS_REPLY_INTEGER) {
        pass.written.customers_written += (outcome.integer & kWroteCustomer) != 0 ? 1 : 0;
        pass.written.present_written += (outcome.integer & kWrotePresent) != 0 ? 1 : 0;
        pass.written.beacons_written += (outcome.integer & kWroteBeacon) != 0 ? 1 : 0;
      } else {
        pass.written.rejected.push_back({call[i], std::string(reply_text(outcome))});
      }
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

void RedisWriter::mark_superseded(std::span<const SinkEvent> events,
                                  std::span<const std::size_t> indices) {
  // Only a later millisecond supersedes: the script breaks ties by comparing event ids as Lua
  // strings, which may follow Redis' collation rather than bytes, so events of one customer in
  // the same millisecond are all left to it. `newest_` holds one of each customer's events in
  // their latest millisecond so far.
  superseded_.assign(events.size(), false);
  newest_.clear();
  for (const std::size_t index : indices) {
    const SinkEvent& event = events[index];
    if (event.forget_request) {
      // An erasure is applied between the events before and after it: none supersedes across.
      newest_.clear();
      continue;
    }
    auto [held, inserted] = newest_.try_emplace(event.customer_id, index);
    if (inserted) continue;
    const EpochMs held_ms = events[held->second].detected_at_ms;
    if (event.detected_at_ms > held_ms) {
      superseded_[held->second] = true;
      held->second = index;
    } else if (event.detected_at_ms < held_ms) {
      superseded_[index] = true;
    }
  }
  newest_.clear();  // its views are into `events`
}

void RedisWriter::append_call(std::span<const SinkEvent> events, std::span<const std::size_t> call,
                              EpochMs now_ms) {
  const SinkEvent& first = events[call.front()];
  if (first.forget_request) {
    const std::string customer_key = "customer:" + first.customer_id;
    const std::string hash = customer_hash(first.customer_id);
    const std::string forgotten_at_ms = std::to_string(first.detected_at_ms);
    const std::array<std::string_view, 7> command = {
        "EVALSHA", forget_sha_, "1", customer_key, first.customer_id, hash, forgotten_at_ms};
    connection_.append(command);
    return;
  }
  // The numbers and hashes the events do not hold as text. Reserved up front: the command holds
  // views into these strings until append() has copied them.
  constexpr std::size_t kDerivedPerEvent = 4;
  derived_.clear();
  derived_.reserve(1 + kDerivedPerEvent * call.size());
  derived_.push_back(std::to_string(now_ms));
  command_.clear();
  command_.reserve(4 + kRedisScriptArgumentCount * call.size());
  command_.insert(command_.end(), {"EVALSHA", script_sha_, "0", derived_.back()});
  for (const std::size_t index : call) {
    const SinkEvent& event = events[index];
    const auto keep = [this](std::string text) -> std::string_view {
      return derived_.emplace_back(std::move(text));
    };
    std::array<std::string_view, kRedisScriptArgumentCount> argv{};
    argv[kArgCustomerId] = event.customer_id;
    argv[kArgStoreId] = event.store_id;
    argv[kArgLocation] = event.location;
    argv[kArgLocationType] = event.location_type;
    argv[kArgConfidence] = event.confidence;
    argv[kArgDetectedAt] = event.detected_at;
    argv[kArgDetectedAtMs] = keep(std::to_string(event.detected_at_ms));
    argv[kArgEventId] = event.event_id;
    argv[kArgIdentification] = event.identification;
    argv[kArgBeaconId] = event.beacon_id ? std::string_view(*event.beacon_id) : "";
    argv[kArgBeaconUuid] = event.beacon_uuid ? std::string_view(*event.beacon_uuid) : "";
    argv[kArgBeaconMajor] = event.beacon_major ? keep(std::to_string(*event.beacon_major)) : "";
    argv[kArgBeaconMinor] = event.beacon_minor ? keep(std::to_string(*event.beacon_minor)) : "";
    argv[kArgCustomerHash] = keep(customer_hash(event.customer_id));
    argv[kArgSuperseded] = superseded_[index] ? "1" : "";
    command_.insert(command_.end(), argv.begin(), argv.end());
  }
  connection_.append(command_);
}

}  // namespace tastesync
