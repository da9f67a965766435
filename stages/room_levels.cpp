#include "stages/room_levels.hpp"

#include <algorithm>
#include <cstring>

namespace tastesync {

std::size_t RoomLevels::UuidHash::operator()(const Uuid& id) const {
  // Beacon ids are random or name-based UUIDs: any 8 of their bytes are spread well enough.
  std::uint64_t head = 0;
  std::uint64_t tail = 0;
  std::memcpy(&head, id.data(), sizeof head);
  std::memcpy(&tail, id.data() + sizeof head, sizeof tail);
  return static_cast<std::size_t>(head ^ (tail * 0x9E3779B97F4A7C15ULL));
}

const LearnedLevel* RoomLevels::find(const Uuid& beacon_id) const {
  const auto it = levels_.find(beacon_id);
  return it == levels_.end() ? nullptr : &it->second;
}

LearnedLevel& RoomLevels::slot_for(const Uuid& beacon_id) {
  if (const auto it = levels_.find(beacon_id); it != levels_.end()) return it->second;
  if (levels_.size() >= kMaxBeacons) {
    // The one updated longest ago (ties: the smallest id), so which gives way depends only on
    // what was learnt, never on the map's order.
    auto oldest = levels_.begin();
    for (auto it = levels_.begin(); it != levels_.end(); ++it) {
      if (std::tie(it->second.updated_ms, it->first) <
          std::tie(oldest->second.updated_ms, oldest->first)) {
        oldest = it;
      }
    }
    levels_.erase(oldest);
  }
  return levels_[beacon_id];
}

const LearnedLevel& RoomLevels::learn(const Uuid& beacon_id, double level_dbm, EpochMs t_ms) {
  LearnedLevel& level = slot_for(beacon_id);
  const float samples = std::min(level.samples + 1.0F, kMaxSamples);
  level.level_dbm += (static_cast<float>(level_dbm) - level.level_dbm) / samples;
  level.samples = samples;
  level.updated_ms = std::max(level.updated_ms, t_ms);
  if (std::find(learnt_.begin(), learnt_.end(), beacon_id) == learnt_.end()) {
    learnt_.push_back(beacon_id);
  }
  return level;
}

void RoomLevels::insert(const Uuid& beacon_id, const LearnedLevel& level) {
  slot_for(beacon_id) = level;
}

}  // namespace tastesync
