#include "tests/support/redis_test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <utility>

namespace tastesync::testing {

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
      if (value) description.append(" ").append(reply_text(*value));
    }
    result.emplace(key, std::move(description));
  }
  return result;
}

}  // namespace tastesync::testing
