#include "tools/sim/identification_metrics.hpp"

#include <algorithm>
#include <cmath>

namespace tastesync::sim {
namespace {

Percentiles percentiles(const std::vector<double>& values) {
  Percentiles result;
  result.count = values.size();
  if (values.empty()) return result;
  result.p50_ms = percentile(values, 0.50);
  result.p95_ms = percentile(values, 0.95);
  return result;
}

// A run of consecutive events at one location.
struct Episode {
  std::uint32_t location_index;
  EpochMs first_ms;
  EpochMs last_ms;
};

}  // namespace

std::vector<LocationType> location_types(const Registry& registry) {
  std::vector<LocationType> types;
  for (const Location& location : registry.locations()) types.push_back(location.type);
  return types;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

MetricsSummary IdentificationMetrics::summarize(const std::vector<CustomerTruth>& customers,
                                                const std::vector<EmittedEvent>& events) const {
  MetricsSummary summary;
  std::vector<std::vector<const EmittedEvent*>> by_customer(customers.size());
  for (const EmittedEvent& event : events) by_customer.at(event.customer).push_back(&event);

  score_locations(customers, events, summary);
  for (std::size_t c = 0; c < customers.size(); ++c) {
    summary.flaps += count_flaps(customers[c], by_customer[c]);
    count_missed_stays(customers[c], by_customer[c], summary);
  }
  time_first_identification(customers, by_customer, summary);
  return summary;
}

void IdentificationMetrics::score_locations(const std::vector<CustomerTruth>& customers,
                                            const std::vector<EmittedEvent>& events,
                                            MetricsSummary& summary) const {
  for (const EmittedEvent& event : events) {
    const auto type = static_cast<std::size_t>(location_types_.at(event.location_index));
    ++summary.events;
    ++summary.events_by_type[type];
    const Place truth = customers[event.customer].truth.place_at(event.detected_at_ms);
    switch (truth.kind) {
      case Place::Kind::outside:
        ++summary.while_outside;
        break;
      case Place::Kind::walking:
        ++summary.while_walking;
        break;
      case Place::Kind::at:
        if (truth.location_index == event.location_index) {
          ++summary.correct;
          ++summary.correct_by_type[type];
        } else {
          ++summary.wrong_location;
        }
        break;
    }
  }
  summary.accuracy = summary.events == 0 ? 0.0
                                         : static_cast<double>(summary.correct) /
                                               static_cast<double>(summary.events);
}

std::size_t IdentificationMetrics::count_flaps(
    const CustomerTruth& customer, const std::vector<const EmittedEvent*>& events) const {
  std::vector<Episode> episodes;
  for (const EmittedEvent* event : events) {
    if (!episodes.empty() && episodes.back().location_index == event->location_index) {
      episodes.back().last_ms = event->detected_at_ms;
    } else {
      episodes.push_back(
          Episode{event->location_index, event->detected_at_ms, event->detected_at_ms});
    }
  }
  std::size_t flaps = 0;
  for (std::size_t i = 1; i + 1 < episodes.size(); ++i) {
    const Episode& before = episodes[i - 1];
    const Episode& detour = episodes[i];
    const Episode& back = episodes[i + 1];
    if (before.location_index != back.location_index) continue;
    if (back.first_ms - detour.first_ms >= options_.flap_window_ms) continue;
    // A customer who really went to B and came back is not a flap: the truth changed.
    if (customer.truth.span_index_at(before.last_ms) !=
        customer.truth.span_index_at(back.first_ms)) {
      continue;
    }
    ++flaps;
  }
  return flaps;
}

void IdentificationMetrics::time_first_identification(
    const std::vector<CustomerTruth>& customers,
    const std::vector<std::vector<const EmittedEvent*>>& by_customer,
    MetricsSummary& summary) const {
  std::vector<double> from_arrival;
  std::vector<double> from_first_reading;
  for (std::size_t c = 0; c < customers.size(); ++c) {
    const CustomerTruth& customer = customers[c];
    if (!customer.arrival_ms) continue;
    ++summary.visits;
    if (by_customer[c].empty()) {
      ++summary.never_identified;
      continue;
    }
    const EpochMs first_ms = by_customer[c].front()->detected_at_ms;
    if (first_ms < *customer.arrival_ms) ++summary.identified_early;
    from_arrival.push_back(
        static_cast<double>(std::max<EpochMs>(0, first_ms - *customer.arrival_ms)));
    if (customer.first_reading_ms) {
      from_first_reading.push_back(
          static_cast<double>(std::max<EpochMs>(0, first_ms - *customer.first_reading_ms)));
    }
  }
  summary.first_id_from_arrival = percentiles(from_arrival);
  summary.first_id_from_first_reading = percentiles(from_first_reading);
}

void IdentificationMetrics::count_missed_stays(const CustomerTruth& customer,
                                               const std::vector<const EmittedEvent*>& events,
                                               MetricsSummary& summary) const {
  for (const TruthSpan& span : customer.truth.spans()) {
    if (span.place.kind != Place::Kind::at) continue;
    const LocationType type = location_types_.at(span.place.location_index);
    if (type == LocationType::entrance) continue;
    if (span.end_ms - span.begin_ms < options_.min_stay_ms) continue;
    ++summary.stays;
    const bool identified = std::any_of(events.begin(), events.end(), [&](const EmittedEvent* e) {
      return e->location_index == span.place.location_index && e->detected_at_ms >= span.begin_ms &&
             e->detected_at_ms < span.end_ms;
    });
    if (!identified) ++summary.missed_stays;
  }
}

}  // namespace tastesync::sim
