#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/event_time.hpp"
#include "sinks/event/sink_event.hpp"
#include "sinks/redis/redis_connection.hpp"

namespace tastesync::testing {

// The example event of docs/contract.md#customer-identified, detected at `detected_at_ms`, with a
// distinct event id per time and location so that two events of one test never tie.
SinkEvent beacon_event(std::string customer_id, std::string store_id, std::string location,
                       EpochMs detected_at_ms);
SinkEvent qr_event(std::string customer_id, std::string store_id, std::string location,
                   EpochMs detected_at_ms);

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
