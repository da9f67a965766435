#include "sinks/redis/redis_write_script.hpp"

namespace tastesync {

// Decisions beyond the letter of the contract (docs/contract.md#redis), each so that a replay or
// a retried batch never moves anything backwards in time and applying the same event twice
// changes nothing:
//
// - An event marked superseded (the batch holds an event of the same customer detected in a
//   later millisecond, with no erasure between: RedisWriter::mark_superseded) is read and checked
//   like any other, but writes only its beacon's hash. The customer hash and the present sets end
//   as that newer event leaves them, which is what the events one by one leave (newer wins): the
//   writes it would overwrite are not made (docs/storage.md#sinks, RedisWriterTest.
//   ABatchLeavesForReadersWhatItsEventsOneBatchEachLeave).
// - One call applies a chunk of events, in their order, with the same outcome as one call per
//   event (RedisWriterTest.AChunkLeavesWhatOneCallPerEventLeaves). What a chunk shares is done
//   once: the erasure lookup (one HMGET), each key's type check, each present set's ZADD (one
//   call with each member's newest score of the chunk, which is what ZADD GT after ZADD GT
//   leaves; a member a later event moved out of the set is dropped from it, as the ZREM after
//   the ZADD would have left it), then its trim and expiry (the newest score only grows, so one
//   trim removes what the trims after each ZADD would have), and each beacon's write (the
//   chunk's newest event for it: the one that would have written last). Keys are built here from
//   the ids, not passed in KEYS (fine without Redis Cluster, which hiredis 0.14 lacks anyway).
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
//   another store, the customer leaves that store's set.
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
// - Every key an event writes is read before that event writes anything, so a key of the wrong
//   type (WRONGTYPE) rejects that event before it changed anything: a rejected event leaves no
//   trace, and the chunk's other events are applied. Its place in the reply is the error.
const std::string_view kRedisWriteScript = R"lua(
local stride, now_ms = 15, tonumber(ARGV[1])
local count = (#ARGV - 1) / stride
local customer_ttl_ms, present_window_ms, beacon_ttl_ms = 3600000, 180000, 86400000

local function field(event, number) return ARGV[1 + (event - 1) * stride + number] end
local function decimal(number) return string.format('%d', number) end
local function failure_of(reply)
  if type(reply) == 'table' and reply.err then return reply.err end
  return nil
end

local hashes = {}
for event = 1, count do hashes[event] = field(event, 14) end
local forgotten = redis.pcall('HMGET', 'tastesync:forgotten', unpack(hashes))
if failure_of(forgotten) then
  local failed = {}
  for event = 1, count do failed[event] = forgotten end
  return failed
end

local type_failures = {}
local function type_failure(key, member)
  local known = type_failures[key]
  if known == nil then
    known = failure_of(redis.pcall('ZSCORE', key, member)) or false
    type_failures[key] = known
  end
  return known
end

local function newer_than(customer, detected_at_ms, event_id)
  if not customer[1] then return true end
  local stored_ms = tonumber(customer[1])
  if detected_at_ms ~= stored_ms then return detected_at_ms > stored_ms end
  return event_id > (customer[2] or '')
end

local results, beacons, beacon_order, present_order, present_adds = {}, {}, {}, {}, {}
for event = 1, count do
  local customer_id, store_id = field(event, 1), field(event, 2)
  local detected_at_ms, event_id = tonumber(field(event, 7)), field(event, 8)
  local erased_ms = forgotten[event]
  if erased_ms and detected_at_ms <= tonumber(erased_ms) then
    results[event] = 0
  else
    local customer_key = 'customer:' .. customer_id
    local present_key = 'store:' .. store_id .. ':present'
    local beacon_key = field(event, 10) ~= '' and 'beacon:' .. field(event, 10)
    local customer = redis.pcall('HMGET', customer_key, 'detected_at_ms', 'event_id', 'store_id')
    local failure = failure_of(customer) or type_failure(present_key, customer_id)
    local beacon = nil
    if not failure and beacon_key then
      beacon = beacons[beacon_key]
      if not beacon then
        local seen = redis.pcall('HGET', beacon_key, 'detected_at_ms')
        beacon = {failure = failure_of(seen), seen_ms = false}
        if not beacon.failure and seen then beacon.seen_ms = tonumber(seen) end
        beacons[beacon_key] = beacon
        beacon_order[#beacon_order + 1] = beacon_key
      end
      failure = beacon.failure
    end
    local write_customer, left_store_key = false, false
    if not failure then
      write_customer = detected_at_ms + customer_ttl_ms > now_ms and
        newer_than(customer, detected_at_ms, event_id)
      if write_customer and customer[3] and customer[3] ~= store_id then
        left_store_key = 'store:' .. customer[3] .. ':present'
        failure = type_failure(left_store_key, customer_id)
      end
    end
    if failure then
      results[event] = {err = failure}
    else
      -- Checked like any other event, a superseded one only leaves the customer to its newest.
      if field(event, 15) ~= '' then write_customer = false end
      local write_present = write_customer and detected_at_ms > now_ms - present_window_ms
      local write_beacon = beacon_key and detected_at_ms + beacon_ttl_ms > now_ms and
        (not beacon.seen_ms or detected_at_ms > beacon.seen_ms)
      if write_customer then
        redis.call('HSET', customer_key, 'location', field(event, 3),
          'location_type', field(event, 4), 'store_id', store_id, 'confidence', field(event, 5),
          'detected_at', field(event, 6), 'event_id', event_id, 'identification', field(event, 9),
          'detected_at_ms', field(event, 7))
        redis.call('PEXPIREAT', customer_key, decimal(detected_at_ms + customer_ttl_ms))
        if left_store_key then
          redis.call('ZREM', left_store_key, customer_id)
          local pending = present_adds[left_store_key]
          if pending then pending[customer_id] = nil end
        end
      end
      if write_present then
        local pending = present_adds[present_key]
        if not pending then
          pending = {}
          present_adds[present_key] = pending
          present_order[#present_order + 1] = present_key
        end
        local added_ms = pending[customer_id]
        if not added_ms or detected_at_ms > added_ms then pending[customer_id] = detected_at_ms end
      end
      if write_beacon then
        beacon.seen_ms = detected_at_ms
        beacon.event = event
      end
      results[event] = (write_customer and 1 or 0) + (write_present and 2 or 0) +
        (write_beacon and 4 or 0)
    end
  end
end

for _, present_key in ipairs(present_order) do
  local adds = {'GT'}
  for customer_id, added_ms in pairs(present_adds[present_key]) do
    adds[#adds + 1] = decimal(added_ms)
    adds[#adds + 1] = customer_id
  end
  if #adds > 1 then redis.call('ZADD', present_key, unpack(adds)) end
  -- A later event of the call may have moved the set's last member out: Redis then deleted it.
  local newest = redis.call('ZRANGE', present_key, -1, -1, 'WITHSCORES')
  if newest[2] then
    local cutoff_ms = tonumber(newest[2]) - present_window_ms
    redis.call('ZREMRANGEBYSCORE', present_key, '-inf', '(' .. decimal(cutoff_ms))
    redis.call('PEXPIRE', present_key, present_window_ms)
  end
end

for _, beacon_key in ipairs(beacon_order) do
  local beacon = beacons[beacon_key]
  if beacon.event then
    local event = beacon.event
    redis.call('HSET', beacon_key, 'store_id', field(event, 2), 'location', field(event, 3),
      'location_type', field(event, 4), 'uuid', field(event, 11), 'major', field(event, 12),
      'minor', field(event, 13), 'status', 'active', 'detected_at_ms', field(event, 7))
    redis.call('PEXPIREAT', beacon_key, decimal(beacon.seen_ms + beacon_ttl_ms))
  end
end

return results
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
