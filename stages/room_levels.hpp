#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "common/event_time.hpp"
#include "common/uuid.hpp"

namespace tastesync {

// What the room taught about one beacon: how loud it reads, platform-corrected, for a phone at
// the beacon's own location (docs/scoring.md, "Learning the room from QR scans").
struct LearnedLevel {
  float level_dbm = 0.0F;
  // How many scans the level stands on, at most RoomLevels::kMaxSamples: beyond it each new
  // scan counts as much as that many before it, so a beacon moved or replaced is relearnt.
  float samples = 0.0F;
  EpochMs updated_ms = 0;  // the detected_at of the scan that last moved it

  bool operator==(const LearnedLevel&) const = default;
};

// One partition's learnt beacon levels, keyed by beacon id (a beacon belongs to one store, so
// this is per store). Learnt from the records in order and never from the wall clock, so a
// replay of the same records learns the same room. Bounded: at most kMaxBeacons entries; a new
// beacon beyond that takes the place of the one updated longest ago.
class RoomLevels {
 public:
  static constexpr std::size_t kMaxBeacons = 16384;
  static constexpr float kMaxSamples = 64.0F;

  const LearnedLevel* find(const Uuid& beacon_id) const;
  // Folds one level read at the beacon's own location at `t_ms` into its running mean.
  const LearnedLevel& learn(const Uuid& beacon_id, double level_dbm, EpochMs t_ms);
  // A level as stored (a restore); beyond kMaxBeacons the oldest gives way as in learn().
  void insert(const Uuid& beacon_id, const LearnedLevel& level);

  // The beacons learnt since the last forget_learnt() (the topology calls it per record, so
  // the durable layer knows which levels a record changed).
  const std::vector<Uuid>& learnt() const { return learnt_; }
  void forget_learnt() { learnt_.clear(); }

  bool empty() const { return levels_.empty(); }
  std::size_t size() const { return levels_.size(); }
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [id, level] : levels_) fn(id, level);
  }

 private:
  struct UuidHash {
    std::size_t operator()(const Uuid& id) const;
  };
  LearnedLevel& slot_for(const Uuid& beacon_id);

  std::unordered_map<Uuid, LearnedLevel, UuidHash> levels_;
  std::vector<Uuid> learnt_;
};

}  // namespace tastesync
