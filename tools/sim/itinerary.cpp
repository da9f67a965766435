#include "tools/sim/itinerary.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tastesync::sim {
namespace {

// Where people stand relative to a location's point, as [min, max] metres in a random direction:
// around the host stand; in front of the counter. Tables take VisitOptions' seat range.
constexpr double kEntranceStayM[2] = {0.3, 1.2};
constexpr double kCounterStayM[2] = {0.4, 1.0};
// People keep this far from the walls.
constexpr double kWallMarginM = 0.3;

double radius_of(const StorePlan& store, std::size_t location, const Radii& radii) {
  return radii[static_cast<std::size_t>(store.locations[location].type)];
}

// A stay is never beyond the location's radius: the ground truth says the customer is at the
// location for the whole stay, so a seat outside it would be scored against a place the
// customer is not. Within the radius any distance is fair, up to its edge.
std::array<double, 2> stay_range_m(LocationType type, const VisitOptions& options, double radius) {
  std::array<double, 2> range = {options.table_seat_min_m, options.table_seat_max_m};
  if (type == LocationType::entrance) range = {kEntranceStayM[0], kEntranceStayM[1]};
  if (type == LocationType::counter) range = {kCounterStayM[0], kCounterStayM[1]};
  return {std::min(range[0], radius), std::min(range[1], radius)};
}

Point stay_point(const StorePlan& store, std::size_t location, const VisitOptions& options,
                 const Radii& radii, Rng& rng) {
  const PlacedLocation& placed = store.locations[location];
  const auto range = stay_range_m(placed.type, options, radius_of(store, location, radii));
  for (int attempt = 0; attempt < 16; ++attempt) {
    const double r = rng.uniform(range[0], range[1]);
    const double angle = rng.uniform(0.0, 2.0 * std::numbers::pi);
    const Point p{placed.point.x_m + r * std::cos(angle), placed.point.y_m + r * std::sin(angle)};
    if (p.x_m >= kWallMarginM && p.x_m <= store.layout.width_m - kWallMarginM &&
        p.y_m >= kWallMarginM && p.y_m <= store.layout.depth_m - kWallMarginM) {
      return p;
    }
  }
  return placed.point;  // a location squeezed into a corner: stand on its point
}

EpochMs seconds_ms(double seconds) {
  return static_cast<EpochMs>(std::llround(seconds * 1000.0));
}

// The fractions s in [0, 1] of the segment from -> to that lie within `radius` of `centre`, as
// the interval [enter, leave]; nullopt when the segment never comes that close.
std::optional<std::array<double, 2>> inside_fractions(Point from, Point to, Point centre,
                                                      double radius) {
  const double dx = to.x_m - from.x_m;
  const double dy = to.y_m - from.y_m;
  const double fx = from.x_m - centre.x_m;
  const double fy = from.y_m - centre.y_m;
  const double a = dx * dx + dy * dy;
  const double c = fx * fx + fy * fy - radius * radius;
  if (a == 0.0) {
    if (c > 0.0) return std::nullopt;
    return std::array<double, 2>{0.0, 1.0};
  }
  const double b = 2.0 * (fx * dx + fy * dy);
  const double discriminant = b * b - 4.0 * a * c;
  if (discriminant < 0.0) return std::nullopt;
  const double root = std::sqrt(discriminant);
  const double enter = (-b - root) / (2.0 * a);
  const double leave = (-b + root) / (2.0 * a);
  if (leave < 0.0 || enter > 1.0) return std::nullopt;
  return std::array<double, 2>{std::max(enter, 0.0), std::min(leave, 1.0)};
}

}  // namespace

Itinerary Itinerary::plan(const StorePlan& store, const VisitOptions& options, const Radii& radii,
                          EpochMs door_ms, Rng& rng) {
  const double speed_mps =
      rng.uniform(store.layout.min_speed_mps, store.layout.max_speed_mps + 1e-9);
  std::vector<Leg> legs;
  Point here = store.layout.door;
  EpochMs now_ms = door_ms;
  std::optional<std::size_t> left;

  const auto walk_to = [&](Point target, std::optional<std::size_t> destination) {
    const EpochMs duration_ms = seconds_ms(distance_m(here, target) / speed_mps);
    if (duration_ms > 0) {
      legs.push_back(Leg{now_ms, now_ms + duration_ms, here, target, false, left, destination});
    }
    now_ms += duration_ms;
    here = target;
  };
  const auto visit = [&](std::size_t location, double min_s, double max_s) {
    walk_to(stay_point(store, location, options, radii, rng), location);
    const EpochMs stay_ms = seconds_ms(rng.uniform(min_s, max_s));
    const bool seated = store.locations[location].type == LocationType::table;
    legs.push_back(Leg{now_ms, now_ms + stay_ms, here, here, true, std::nullopt, location, seated});
    now_ms += stay_ms;
    left = location;
  };

  if (store.entrance) visit(*store.entrance, options.entrance_min_s, options.entrance_max_s);
  visit(store.tables[rng.index(store.tables.size())], options.table_min_s, options.table_max_s);
  if (store.counter && rng.chance(options.counter_share)) {
    visit(*store.counter, options.counter_min_s, options.counter_max_s);
  }
  walk_to(store.layout.door, std::nullopt);
  return Itinerary(std::move(legs));
}

Point Itinerary::position_at(EpochMs t_ms) const {
  if (legs_.empty()) return {};
  for (const Leg& leg : legs_) {
    if (t_ms >= leg.end_ms) continue;
    if (leg.stay || t_ms <= leg.begin_ms) return leg.from;
    const double s =
        static_cast<double>(t_ms - leg.begin_ms) / static_cast<double>(leg.end_ms - leg.begin_ms);
    return Point{leg.from.x_m + s * (leg.to.x_m - leg.from.x_m),
                 leg.from.y_m + s * (leg.to.y_m - leg.from.y_m)};
  }
  return legs_.back().to;
}

bool Itinerary::seated_at(EpochMs t_ms) const {
  for (const Leg& leg : legs_) {
    if (t_ms >= leg.begin_ms && t_ms < leg.end_ms) return leg.seated;
  }
  return false;
}

TruthTimeline Itinerary::truth(const StorePlan& store, const Radii& radii) const {
  TruthTimeline timeline;
  const auto registry_index = [&](std::size_t location) {
    return store.locations[location].location_index;
  };
  for (const Leg& leg : legs_) {
    if (leg.stay) {
      timeline.append(leg.begin_ms, leg.end_ms, Place::at(registry_index(*leg.destination)));
      continue;
    }
    const auto at_fraction = [&](double s) {
      return leg.begin_ms +
             static_cast<EpochMs>(std::llround(s * static_cast<double>(leg.end_ms - leg.begin_ms)));
    };
    // Leaves the origin's radius at `leave`, enters the destination's at `enter`.
    EpochMs leave_ms = leg.begin_ms;
    EpochMs enter_ms = leg.end_ms;
    if (leg.origin) {
      const auto inside = inside_fractions(leg.from, leg.to, store.locations[*leg.origin].point,
                                           radius_of(store, *leg.origin, radii));
      if (inside && (*inside)[0] == 0.0) leave_ms = at_fraction((*inside)[1]);
    }
    if (leg.destination) {
      const auto inside =
          inside_fractions(leg.from, leg.to, store.locations[*leg.destination].point,
                           radius_of(store, *leg.destination, radii));
      if (inside && (*inside)[1] == 1.0) enter_ms = at_fraction((*inside)[0]);
    }
    if (leg.origin) {
      timeline.append(leg.begin_ms, std::min(leave_ms, enter_ms),
                      Place::at(registry_index(*leg.origin)));
    }
    timeline.append(leave_ms, enter_ms, Place::walking());
    if (leg.destination) {
      timeline.append(enter_ms, leg.end_ms, Place::at(registry_index(*leg.destination)));
    }
  }
  return timeline;
}

std::vector<SeatedStay> Itinerary::seated_stays(const StorePlan& store,
                                                const TruthTimeline& truth) const {
  std::vector<SeatedStay> stays;
  for (const Leg& leg : legs_) {
    if (!leg.seated || !leg.destination) continue;
    const std::uint32_t location = store.locations[*leg.destination].location_index;
    EpochMs entered_ms = leg.begin_ms;
    const std::size_t span = truth.span_index_at(leg.begin_ms);
    if (span != TruthTimeline::npos && truth.spans()[span].place == Place::at(location)) {
      entered_ms = truth.spans()[span].begin_ms;
    }
    stays.push_back(SeatedStay{location, entered_ms, leg.begin_ms, leg.end_ms});
  }
  return stays;
}

}  // namespace tastesync::sim
