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

double share(std::size_t part, std::size_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
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

MetricsSummary pool(const std::vector<MetricsSummary>& runs) {
  MetricsSummary total;
  const auto append = [](std::vector<double>& to, const std::vector<double>& from) {
    to.insert(to.end(), from.begin(), from.end());
  };
  for (const MetricsSummary& run : runs) {
    total.events += run.events;
    total.correct += run.correct;
    total.while_walking += run.while_walking;
    total.while_outside += run.while_outside;
    total.wrong_location += run.wrong_location;
    for (std::size_t t = 0; t < 3; ++t) {
      total.events_by_type[t] += run.events_by_type[t];
      total.correct_by_type[t] += run.correct_by_type[t];
    }
    total.flaps += run.flaps;
    total.visits += run.visits;
    total.never_identified += run.never_identified;
    total.identified_early += run.identified_early;
    total.stays += run.stays;
    total.missed_stays += run.missed_stays;
    total.table_stays += run.table_stays;
    total.table_stays_identified += run.table_stays_identified;
    append(total.from_arrival_ms, run.from_arrival_ms);
    append(total.from_first_reading_ms, run.from_first_reading_ms);
    append(total.from_seated_ms, run.from_seated_ms);
    for (std::size_t b = 0; b < kReliabilityBins; ++b) {
      total.reliability.readings[b] += run.reliability.readings[b];
      total.reliability.right[b] += run.reliability.right[b];
      total.reliability.stated[b] += run.reliability.stated[b];
    }
  }
  total.accuracy = share(total.correct, total.events);
  total.table_recall = share(total.table_stays_identified, total.table_stays);
  total.first_id_from_arrival = percentiles(total.from_arrival_ms);
  total.first_id_from_first_reading = percentiles(total.from_first_reading_ms);
  total.first_id_seated = percentiles(total.from_seated_ms);
  return total;
}

MetricsSummary IdentificationMetrics::summarize(const std::vector<CustomerTruth>& customers,
                                                const std::vector<EmittedEvent>& events,
                                                const std::vector<ReadingBelief>& beliefs) const {
  MetricsSummary summary;
  for (const ReadingBelief& belief : beliefs) {
    const auto bin = std::min(kReliabilityBins - 1,
                              static_cast<std::size_t>(belief.probability * kReliabilityBins));
    ++summary.reliability.readings[bin];
    summary.reliability.stated[bin] += belief.probability;
    if (customers.at(belief.customer).truth.place_at(belief.detected_at_ms) ==
        Place::at(belief.location_index)) {
      ++summary.reliability.right[bin];
    }
  }
  std::vector<std::vector<const EmittedEvent*>> by_customer(customers.size());
  for (const EmittedEvent& event : events) by_customer.at(event.customer).push_back(&event);

  score_locations(customers, events, summary);
  for (std::size_t c = 0; c < customers.size(); ++c) {
    summary.flaps += count_flaps(customers[c], by_customer[c]);
    count_missed_stays(customers[c], by_customer[c], summary);
    time_seated_identification(customers[c], by_customer[c], summary);
  }
  time_first_identification(customers, by_customer, summary);
  summary.table_recall = share(summary.table_stays_identified, summary.table_stays);
  summary.first_id_seated = percentiles(summary.from_seated_ms);
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
  summary.accuracy = share(summary.correct, summary.events);
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
  std::vector<double>& from_arrival = summary.from_arrival_ms;
  std::vector<double>& from_first_reading = summary.from_first_reading_ms;
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

// An event during the approach within the table's radius is already right (the truth is at the
// table), so it counts, as 0 s: the waiter learns of the customer no later than they sit down.
void IdentificationMetrics::time_seated_identification(
    const CustomerTruth& customer, const std::vector<const EmittedEvent*>& events,
    MetricsSummary& summary) const {
  for (const SeatedStay& stay : customer.seated_stays) {
    if (stay.stood_up_ms - stay.seated_ms < options_.min_stay_ms) continue;
    ++summary.table_stays;
    std::optional<EpochMs> first_ms;
    for (const EmittedEvent* e : events) {
      if (e->location_index != stay.location_index || e->detected_at_ms < stay.entered_ms ||
          e->detected_at_ms >= stay.stood_up_ms) {
        continue;
      }
      first_ms = std::min(first_ms.value_or(e->detected_at_ms), e->detected_at_ms);
    }
    if (!first_ms) continue;
    ++summary.table_stays_identified;
    summary.from_seated_ms.push_back(
        static_cast<double>(std::max<EpochMs>(0, *first_ms - stay.seated_ms)));
  }
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
