#pragma once

#include <string_view>

namespace tastesync {

// The Lua script that applies one CustomerIdentified event to Redis (docs/contract.md#redis); one
// EVALSHA per event. Its semantics are documented in redis_write_script.cpp.
//
// KEYS: 1 customer:<customer_id>, 2 store:<store_id>:present, 3 beacon:<beacon_id> (beacon
// events only: a QR event passes two keys).
// ARGV: see RedisScriptArgument; numbers in decimal, times in epoch milliseconds.
// Returns {customer written, present set written, beacon written} as 0/1 integers.
extern const std::string_view kRedisWriteScript;

enum RedisScriptArgument : int {
  kArgCustomerId = 0,
  kArgStoreId,
  kArgLocation,
  kArgLocationType,
  kArgConfidence,
  kArgDetectedAt,
  kArgDetectedAtMs,
  kArgEventId,
  kArgIdentification,
  kArgNowMs,
  kArgBeaconUuid,
  kArgBeaconMajor,
  kArgBeaconMinor,
  kRedisScriptArgumentCount,
};

}  // namespace tastesync
