#include "sinks/redis/redis_write_script.hpp"

namespace tastesync {

// Decisions beyond the letter of the contract (docs/contract.md#redis), each so that a replay or
// a retried batch never moves anything backwards in time and applying the same event twice
// changes nothing:
//
// - "now" is an argument (the caller's clock, one value per batch), not Redis TIME: every event of
//   a batch is judged against the same instant, and tests are deterministic.
// - customer:<id> keeps a numeric `detected_at_ms` field beside the contract's fields, so "newer"
//   is a number comparison that does not depend on the string form of `detected_at`. Newer means a
//   later detected_at_ms, or the same millisecond and a greater event_id: a total order, so the
//   result does not depend on the order in which events arrive, and the same event is never
//   "newer" than itself. An event whose detected_at + 1 h has passed writes nothing there.
// - The present set is written only for an event that updated the customer hash (an older event
//   must not put a customer back into a store they have left) and only when detected_at is within
//   180 s of now: replayed history does not make a customer "present now". When the hash named
//   another store, the customer leaves that store's set. That key is derived from the hash, so it
//   cannot be passed in KEYS (fine without Redis Cluster, which hiredis 0.14 lacks anyway).
// - beacon:<id> gets status "active": the event does not carry the status, but only an active
//   beacon identifies (docs/contract.md#registry), so it was active at detected_at. It also keeps
//   `detected_at_ms`, is rewritten only by a newer event (an equal one would write the same
//   fields), and expires at detected_at + 24 h (absolute, like the customer hash): each newer
//   event refreshes it, while a replay of old events neither overwrites newer data nor extends
//   the key's life.
// - An erased customer (docs/operations.md#forget) is in the hash tastesync:forgotten, by the
//   SHA-256 of their id, with the erasure's time: an event of theirs detected at or before it
//   writes nothing, so no replay brings them back. Only an erasure adds to it: a few bytes per
//   erased customer, kept for good.
// - Every key is read before anything is written, so a key of the wrong type (WRONGTYPE) fails the
//   script before it changed anything and a rejected event leaves no trace.
const std::string_view kRedisWriteScript = R"lua(
local customer_key, present_key, beacon_key = KEYS[1], KEYS[2], KEYS[3]
local customer_id, store_id, location, location_type = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local detected_at_ms, event_id, now_ms = tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[10])
local customer_ttl_ms, present_window_ms, beacon_ttl_ms = 3600000, 180000, 86400000

local function decimal(number) return string.format('%d', number) end

local forgotten_ms = redis.call('HGET', 'tastesync:forgotten', ARGV[14])
if forgotten_ms and detected_at_ms <= tonumber(forgotten_ms) then return {0, 0, 0} end

local customer = redis.call('HMGET', customer_key, 'detected_at_ms', 'event_id', 'store_id')
redis.call('ZSCORE', present_key, customer_id)
local beacon_seen_ms = false
if beacon_key then beacon_seen_ms = redis.call('HGET', beacon_key, 'detected_at_ms') end

local function newer_than_customer()
  if not customer[1] then return true end
  local stored_ms = tonumber(customer[1])
  if detected_at_ms ~= stored_ms then return detected_at_ms > stored_ms end
  return event_id > (customer[2] or '')
end

local write_customer = detected_at_ms + customer_ttl_ms > now_ms and newer_than_customer()
local left_store_key = false
if write_customer and customer[3] and customer[3] ~= store_id then
  left_store_key = 'store:' .. customer[3] .. ':present'
  redis.call('ZSCORE', left_store_key, customer_id)
end
local write_present = write_customer and detected_at_ms > now_ms - present_window_ms
local write_beacon = beacon_key and detected_at_ms + beacon_ttl_ms > now_ms and
  (not beacon_seen_ms or detected_at_ms > tonumber(beacon_seen_ms))

if write_customer then
  redis.call('HSET', customer_key, 'location', location, 'location_type', location_type,
    'store_id', store_id, 'confidence', ARGV[5], 'detected_at', ARGV[6], 'event_id', event_id,
    'identification', ARGV[9], 'detected_at_ms', decimal(detected_at_ms))
  redis.call('PEXPIREAT', customer_key, decimal(detected_at_ms + customer_ttl_ms))
  if left_store_key then redis.call('ZREM', left_store_key, customer_id) end
end

if write_present then
  redis.call('ZADD', present_key, 'GT', decimal(detected_at_ms), customer_id)
  local newest = redis.call('ZRANGE', present_key, -1, -1, 'WITHSCORES')
  local cutoff_ms = tonumber(newest[2]) - present_window_ms
  redis.call('ZREMRANGEBYSCORE', present_key, '-inf', '(' .. decimal(cutoff_ms))
  redis.call('PEXPIRE', present_key, present_window_ms)
end

if write_beacon then
  redis.call('HSET', beacon_key, 'store_id', store_id, 'location', location,
    'location_type', location_type, 'uuid', ARGV[11], 'major', ARGV[12], 'minor', ARGV[13],
    'status', 'active', 'detected_at_ms', decimal(detected_at_ms))
  redis.call('PEXPIREAT', beacon_key, decimal(detected_at_ms + beacon_ttl_ms))
end

return {write_customer and 1 or 0, write_present and 1 or 0, write_beacon and 1 or 0}
)lua";

const std::string_view kRedisForgetScript = R"lua(
local customer_key = KEYS[1]
local customer_id, customer_hash, forgotten_at_ms = ARGV[1], ARGV[2], tonumber(ARGV[3])
local stored = redis.call('HMGET', customer_key, 'detected_at_ms', 'store_id')
local previous = redis.call('HGET', 'tastesync:forgotten', customer_hash)
if not previous or tonumber(previous) < forgotten_at_ms then
  redis.call('HSET', 'tastesync:forgotten', customer_hash, string.format('%d', forgotten_at_ms))
end
if stored[1] and tonumber(stored[1]) <= forgotten_at_ms then
  redis.call('DEL', customer_key)
  if stored[2] then redis.call('ZREM', 'store:' .. stored[2] .. ':present', customer_id) end
  return {1}
end
return {0}
)lua";

}  // namespace tastesync
