#pragma once

#include <string_view>

namespace tastesync {

// The Lua script that applies a chunk of CustomerIdentified events to Redis
// (docs/contract.md#redis), in their order, with the outcome of one call per event; its semantics
// are documented in redis_write_script.cpp. No KEYS: the keys are built from the ids.
//
// ARGV: 1 now (epoch ms), then kRedisScriptArgumentCount arguments per event in the order of
// RedisScriptArgument; numbers in decimal, times in epoch milliseconds.
// Returns one element per event: an integer, the sum of 1 (customer hash written), 2 (present set
// written) and 4 (beacon hash written); or the error that rejected the event (which then changed
// nothing).
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
  kArgBeaconId,  // empty for a QR event
  kArgBeaconUuid,
  kArgBeaconMajor,
  kArgBeaconMinor,
  kArgCustomerHash,  // customer_hash(customer_id): its key in tastesync:forgotten
  // "1": the batch holds an event of the same customer detected in a later millisecond, so this
  // one writes only its beacon's hash (redis_write_script.cpp); "" otherwise.
  kArgSuperseded,
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
