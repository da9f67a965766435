#pragma once

#include <simdjson.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tastesync {

// One place of a store's floor as the registry lists it (shown even when nobody is there).
struct FloorLocation {
  std::string store_id;
  std::string name;
  std::string type;  // entrance, table or counter
};

// One customer on the floor, as the gRPC queries return it (docs/grpc.md#queries).
struct FloorPresence {
  std::string customer_id;
  std::string store_id;
  std::string location;
  std::string location_type;
  std::string since;      // detected_at of the event that put them there
  std::string last_seen;  // detected_at of their latest event
};

// Who is where now, per store, from the CustomerIdentified events the pipeline delivers
// (docs/contract.md#floor): a customer is at the location of their latest event since the event
// that put them there, and leaves the floor `presence_timeout` after their last event arrived.
// Thread-safe: the pipeline applies events, the HTTP workers read snapshots and wait for
// changes.
class FloorState {
 public:
  FloorState(std::vector<FloorLocation> locations, std::chrono::milliseconds presence_timeout,
             bool mask_ids);

  // A CustomerIdentified value; anything else is ignored. `now_ms`: the wall clock.
  void apply(std::string_view event_json, std::int64_t now_ms);
  // An erasure's tombstone (docs/operations.md#forget): the customer leaves the floor now.
  void forget(std::string_view customer_id);
  // Drops customers silent for longer than the presence timeout.
  void expire(std::int64_t now_ms);

  // {"version":N,"stores":[{"store_id":..,"locations":[{"name":..,"type":..,"customers":
  // [{"id":..,"since":"<RFC 3339>"}]}]}]} for one store, or every store (`store` empty); ids
  // masked when asked.
  std::string snapshot_json(std::string_view store) const;
  std::uint64_t version() const;
  // Where one customer is now (unmasked: the caller applies the masking), or nullopt.
  std::optional<FloorPresence> locate(std::string_view customer_id, std::int64_t now_ms);
  // Everyone in one store now, by location then customer id (unmasked).
  std::vector<FloorPresence> present(std::string_view store_id, std::int64_t now_ms);
  bool masks_ids() const { return mask_ids_; }
  // Waits until the version passes `seen`, `timeout` passes, or stop() is called; expires
  // silent customers meanwhile. Returns the version then.
  std::uint64_t wait_for_change(std::uint64_t seen, std::chrono::milliseconds timeout,
                                const std::function<std::int64_t()>& now_ms);
  // Wakes every waiter for good (the HTTP server is closing).
  void stop();
  bool stopped() const;

  // "cu•••23": the first two and last two characters (docs/contract.md#floor).
  static std::string mask(std::string_view customer_id);

 private:
  struct Presence {
    std::string store_id;
    std::string location;
    std::string location_type;
    std::string since;  // detected_at of the event that put them there
    std::string last_seen;
    std::int64_t last_event_ms = 0;
  };
  void expire_locked(std::int64_t now_ms);

  std::vector<FloorLocation> locations_;
  std::chrono::milliseconds presence_timeout_;
  bool mask_ids_;
  std::mutex parse_mutex_;  // taken before mutex_, never inside it
  simdjson::ondemand::parser parser_;
  std::string padded_;  // the event with simdjson's padding after it, reused
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  struct IdHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  // By customer id, in no order: every delivered event looks its customer up here on the
  // pipeline thread, and a tree of thousands of ids cost ~3 % of it (docs/bench.md#issue-17-4).
  // What is shown is sorted by id when it is made.
  std::unordered_map<std::string, Presence, IdHash, std::equal_to<>> customers_;
  // customers_ sorted by id (snapshot_json, present).
  std::vector<std::pair<const std::string*, const Presence*>> by_id_locked() const;
  std::uint64_t version_ = 1;
  bool stopped_ = false;
};

}  // namespace tastesync
