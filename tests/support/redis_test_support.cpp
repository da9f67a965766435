#include "tests/support/redis_test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <utility>

namespace tastesync::testing {

SinkEvent beacon_event(std::string customer_id, std::string store_id, std::string location,
                       EpochMs detected_at_ms) {
  SinkEvent event =
      qr_event(std::move(customer_id), std::move(store_id), std::move(location), detected_at_ms);
  event.source = "beacon";
  event.location_type = "table";
  event.qr_code.reset();
  event.beacon_id = "bc0c82d4-d881-5fe0-a68c-3ed7c3562715";
  event.beacon_uuid = "550e8400-e29b-41d4-a716-446655440000";
  event.beacon_major = 100;
  event.beacon_minor = 13;
  return event;
}

SinkEvent qr_event(std::string customer_id, std::string store_id, std::string location,
                   EpochMs detected_at_ms) {
  SinkEvent event;
  event.event_id = "event-" + customer_id + "-" + location + "-" + std::to_string(detected_at_ms);
  event.customer_id = std::move(customer_id);
  event.store_id = std::move(store_id);
  event.location = std::move(location);
  event.location_type = "counter";
  event.source = "qr";
  event.identification = "arrival";
  event.sighting_id = "0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10";
  event.confidence = "0.950";
  event.detected_at_ms = detected_at_ms;
  event.detected_at = format_canonical_string(detected_at_ms);
  event.qr_code = "TS-1";
  return event;
}

RedisReply run(RedisConnection& connection, std::initializer_list<std::string_view> arguments) {
  auto reply = connection.command(arguments);
  if (!reply) {
    ADD_FAILURE() << reply.error().message;
    return nullptr;
  }
  return std::move(reply).value();
}

long long integer(RedisConnection& connection, std::initializer_list<std::string_view> arguments) {
  const RedisReply reply = run(connection, arguments);
  if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER) {
    ADD_FAILURE() << "no integer reply"
                  << (reply != nullptr ? ": " + std::string(reply_text(*reply)) : "");
    return -1;
  }
  return reply->integer;
}

namespace {

std::map<std::string, std::string> pairs(const RedisReply& reply) {
  std::map<std::string, std::string> result;
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return result;
  for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
    result.emplace(reply_text(*reply->element[i]), reply_text(*reply->element[i + 1]));
  }
  return result;
}

}  // namespace

std::map<std::string, std::string> hash(RedisConnection& connection, std::string_view key) {
  return pairs(run(connection, {"HGETALL", key}));
}

std::map<std::string, double> sorted_set(RedisConnection& connection, std::string_view key) {
  std::map<std::string, double> result;
  for (const auto& [member, score] :
       pairs(run(connection, {"ZRANGE", key, "0", "-1", "WITHSCORES"}))) {
    result.emplace(member, std::stod(score));
  }
  return result;
}

std::map<std::string, std::string> dump(RedisConnection& connection) {
  std::map<std::string, std::string> result;
  const RedisReply keys = run(connection, {"KEYS", "*"});
  if (keys == nullptr || keys->type != REDIS_REPLY_ARRAY) return result;
  for (std::size_t i = 0; i < keys->elements; ++i) {
    const std::string key(reply_text(*keys->element[i]));
    const RedisReply type = run(connection, {"TYPE", key});
    std::string description = std::string(type ? reply_text(*type) : "?") + " expires " +
                              std::to_string(integer(connection, {"PEXPIRETIME", key})) + ":";
    if (key.starts_with("store:")) {
      for (const auto& [member, score] : sorted_set(connection, key)) {
        description.append(" ").append(member).append("=").append(std::to_string(score));
      }
    } else if (type && reply_text(*type) == "hash") {
      for (const auto& [field, value] : hash(connection, key)) {
        description.append(" ").append(field).append("=").append(value);
      }
    } else {
      const RedisReply value = run(connection, {"DUMP", key});
      if (value) description += " " + std::string(reply_text(*value));
    }
    result.emplace(key, std::move(description));
  }
  return result;
}

}  // namespace tastesync::testing
