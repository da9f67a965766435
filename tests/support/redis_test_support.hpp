#pragma once

#include <map>
#include <string>
#include <string_view>

#include "sinks/redis/redis_connection.hpp"

namespace tastesync::testing {

// Inspection helpers: they fail the current test (ADD_FAILURE) on a connection error.
RedisReply run(RedisConnection& connection, std::initializer_list<std::string_view> arguments);
long long integer(RedisConnection& connection, std::initializer_list<std::string_view> arguments);
std::map<std::string, std::string> hash(RedisConnection& connection, std::string_view key);
// Member → score.
std::map<std::string, double> sorted_set(RedisConnection& connection, std::string_view key);

// Every key with its type, contents and absolute expiry (PEXPIRETIME, so a refreshed relative TTL
// shows too): two dumps compare equal only when nothing changed.
std::map<std::string, std::string> dump(RedisConnection& connection);

}  // namespace tastesync::testing
