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
  kArgCustomerHash,  // customer_hash(customer_id): its key in tastesync:forgotten
  kRedisScriptArgumentCount,
};

// Applies an erasure's tombstone (docs/operations.md#forget): records the customer's hash and
// the request's time in the hash tastesync:forgotten (kRedisWriteScript stores no event of
// theirs detected at or before it), and deletes customer:<id> and their entry in the present set
// when what they hold was detected at or before it.
// KEYS: 1 customer:<customer_id>. ARGV: 1 customer id, 2 customer hash, 3 the request's time (ms).
// Returns {customer deleted} as 0/1.
extern const std::string_view kRedisForgetScript;

}  // namespace tastesync
