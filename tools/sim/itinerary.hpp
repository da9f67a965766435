#pragma once

#include <array>
#include <optional>
#include <vector>

#include "common/event_time.hpp"
#include "tools/sim/floor_plan.hpp"
#include "tools/sim/ground_truth.hpp"
#include "tools/sim/layout.hpp"
#include "tools/sim/random.hpp"

namespace tastesync::sim {

// How long customers stay where, in seconds (each stay drawn uniformly from its range).
struct VisitOptions {
  double entrance_min_s = 3.0;
  double entrance_max_s = 8.0;
  double table_min_s = 120.0;
  double table_max_s = 600.0;
  double counter_share = 0.5;  // of customers who go to the counter after their table
  double counter_min_s = 20.0;
  double counter_max_s = 90.0;
  // A seat's distance from its table's point (the beacon under the middle of the top), drawn
  // uniformly: 0.7 m is a phone on the table, 1.0 m one in a hand at arm's reach beside it.
  double table_seat_min_m = 0.3;
  double table_seat_max_m = 0.7;
};

// How close counts as "at" a location, by LocationType (entrance, table, counter).
using Radii = std::array<double, 3>;
// The ground truth's radii: around the host stand, a seat within arm's reach of a table's
// beacon, in front of the counter. Fixed here rather than taken from the scorer's options, so
// that tuning the model never moves the truth it is scored against.
inline constexpr Radii kTruthRadii = {3.0, 1.0, 1.5};

// A straight walk at constant speed, or a stay (from == to). Locations are indexes into the
// StorePlan's `locations`.
struct Leg {
  EpochMs begin_ms = 0;
  EpochMs end_ms = 0;
  Point from;
  Point to;
  bool stay = false;
  std::optional<std::size_t> origin;       // the location a walk leaves
  std::optional<std::size_t> destination;  // the location a walk heads for, or a stay's
  bool seated = false;                     // a stay at a table
};

// One customer's visit to one store: door -> entrance -> a table -> maybe the counter -> door,
// in straight lines at the customer's walking speed.
class Itinerary {
 public:
  explicit Itinerary(std::vector<Leg> legs) : legs_(std::move(legs)) {}

  static Itinerary plan(const StorePlan& store, const VisitOptions& options, const Radii& radii,
                        EpochMs door_ms, Rng& rng);

  EpochMs begin_ms() const { return legs_.empty() ? 0 : legs_.front().begin_ms; }
  EpochMs end_ms() const { return legs_.empty() ? 0 : legs_.back().end_ms; }
  // Where the customer is at t (clamped to the visit).
  Point position_at(EpochMs t_ms) const;
  bool seated_at(EpochMs t_ms) const;
  const std::vector<Leg>& legs() const { return legs_; }

  // At a location from entering its radius on the way to it until leaving its radius on the way
  // out (a location being walked to wins over the one being left where radii overlap);
  // walking otherwise; outside before the door and after leaving.
  TruthTimeline truth(const StorePlan& store, const Radii& radii) const;
  // The seated legs, each with the moment its approach entered the table's radius (from `truth`,
  // this itinerary's truth).
  std::vector<SeatedStay> seated_stays(const StorePlan& store, const TruthTimeline& truth) const;

 private:
  std::vector<Leg> legs_;
};

}  // namespace tastesync::sim
