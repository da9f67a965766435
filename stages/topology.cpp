#include "stages/topology.hpp"

#include <algorithm>

namespace tastesync {

Topology::Topology(std::shared_ptr<const Registry> registry, TopologyOptions options)
    : options_(options),
      parser_(options.parse),
      dedupe_(options.dedupe),
      resolver_(std::move(registry)),
      scorer_(options.score),
      filter_(options.score) {}

void Topology::normalize_restored(PartitionState& partition) const {
  partition.for_each_mutable([&](CustomerState& state) { dedupe_.normalize(state); });
}

// An erasure request is a record of the customer's own partition, so it is ordered with their
// sightings: everything before it is erased, a sighting after it starts a new life. The reset
// (not a removal from memory) keeps the durable layer's bookkeeping of earlier, undelivered
// changes; with no activity left the entry is expired from memory at the next housekeeping, and
// the durable layer deletes it from RocksDB and the changelog (docs/operations.md#forget).
Outcome Topology::forget(const RecordView& record, std::string_view request_id,
                         PartitionState& partition, StateChangeObserver* observer) {
  Outcome outcome;
  if (auto error = check_forget_request(record.key, request_id)) {
    last_error_ = std::move(*error);
    outcome.kind = Outcome::Kind::dead_letter;
    outcome.error = &last_error_;
    return outcome;
  }
  outcome.kind = Outcome::Kind::forgotten;
  outcome.customer_id = *record.key;
  erased_seen_.clear();
  CustomerState* state = partition.find(*record.key);
  if (state == nullptr) return outcome;
  if (observer != nullptr) observer->before_change(*state);
  erased_seen_ = state->seen;
  outcome.erased_state = true;
  outcome.detected_at_ms = state->last_activity_ms;
  outcome.erased_seen = erased_seen_;
  state->reset();
  state->since_offset = record.offset;
  state->last_offset = record.offset;
  outcome.touched = state;
  return outcome;
}

Outcome Topology::process(const RecordView& record, PartitionState& partition, EpochMs now_ms,
                          StateChangeObserver* observer) {
  // The record's timestamp is judged before its value is parsed (parse.hpp).
  if (auto ahead = timestamp_ahead_of_wall_clock(record, now_ms, options_.parse)) {
    return dead_letter(std::move(*ahead));
  }
  return process_parsed(record, parser_.parse(record), partition, now_ms, observer);
}

Outcome Topology::process(const RecordView& record, const Result<Sighting, ParseError>& parsed,
                          PartitionState& partition, EpochMs now_ms,
                          StateChangeObserver* observer) {
  if (auto ahead = timestamp_ahead_of_wall_clock(record, now_ms, options_.parse)) {
    return dead_letter(std::move(*ahead));
  }
  return process_parsed(record, parsed, partition, now_ms, observer);
}

Outcome Topology::dead_letter(ParseError error) {
  last_error_ = std::move(error);
  Outcome outcome;
  outcome.kind = Outcome::Kind::dead_letter;
  outcome.error = &last_error_;
  return outcome;
}

Outcome Topology::process_parsed(const RecordView& record,
                                 const Result<Sighting, ParseError>& parsed,
                                 PartitionState& partition, EpochMs now_ms,
                                 StateChangeObserver* observer) {
  if (!parsed) return dead_letter(parsed.error());
  Outcome outcome;
  const Sighting& sighting = *parsed;
  if (auto ahead = detected_at_ahead_of_wall_clock(sighting, now_ms, options_.parse)) {
    return dead_letter(std::move(*ahead));
  }
  const EpochMs t_ms = sighting.detected_at_ms;
  outcome.customer_id = sighting.customer_id;
  outcome.detected_at_ms = t_ms;

  if (t_ms < partition.watermark_ms() - options_.allowed_lateness_ms) {
    outcome.drop_reason = DropReason::beyond_lateness;
    return outcome;
  }
  // The partition's clock moves by the earlier of the phone's time and the record's timestamp
  // (parse guarantees one): a phone running minutes ahead, or a gateway stamping a day ahead,
  // must not push every other customer of the partition behind the allowed lateness. Nor past
  // the wall clock, and only as far as several records in a row agree (docs/design.md).
  partition.advance_watermark(std::min({t_ms, *record.timestamp_ms, now_ms}));

  // A neighbour's beacon is normal and says nothing about this customer: resolved before any
  // state is touched, so it neither creates state nor takes a slot among remembered ids.
  auto resolved = resolver_.resolve(sighting);
  if (!resolved) {
    outcome.drop_reason = resolved.error();
    return outcome;
  }

  const EpochMs horizon_ms = expiry_horizon(partition.watermark_ms());
  auto [state, created] =
      partition.find_or_create_marked(sighting.customer_id, sighting.customer_id_hash);
  // The remembered ids and the beacon tracks live apart from the state: asked for now, their
  // cache misses overlap what comes before their use (the first read of the tracks was the
  // scoring's costliest instruction: docs/bench.md#issue-17-17).
  __builtin_prefetch(state.seen.data());
  __builtin_prefetch(state.tracks.data(), 1);
  if (state.tracks.size() > 1) __builtin_prefetch(&state.tracks[1], 1);
  const bool was_live =
      !created && state.last_activity_ms >= horizon_ms && !partition.evicted(state);
  if (observer != nullptr) observer->before_change(state);
  // The same rules eviction applies, read at the record's own event time and offset, so whether
  // an old entry is still in memory (or RocksDB) never changes an outcome.
  bool new_life = created;
  if (state.last_activity_ms < t_ms - options_.retention_ms || partition.evicted(state)) {
    state.reset();
    new_life = true;
  }
  // A state restored from before offsets were kept keeps -1 ("since before any known offset")
  // until its next reset, so the ids it remembered then stay its own.
  if (new_life) state.since_offset = record.offset;
  state.last_activity_ms = std::max(state.last_activity_ms, t_ms);
  state.last_offset = record.offset;
  outcome.touched = &state;
  if (!was_live) {
    outcome.evicted_customers =
        partition.limit_live_customers(options_.max_customers_per_partition, horizon_ms, state);
  }

  outcome.remembered = dedupe_.admit_hashed(state, sighting.sighting_id_hash, t_ms);
  if (!outcome.remembered) {
    outcome.drop_reason = DropReason::duplicate;
    return outcome;
  }
  partition.room().forget_learnt();
  Proximity heard_proximity = Proximity::far;
  auto identification = score(state, sighting, *resolved, heard_proximity, partition.room());
  if (sighting.source == Source::beacon) outcome.proximity = heard_proximity;
  if (sighting.source == Source::qr && options_.score.model == ScoreModel::filter) {
    filter_.learn_from_scan(state, resolved->location_index, t_ms, partition.room());
  }
  outcome.learned_levels = partition.room().learnt();
  if (options_.report_beliefs && options_.score.model == ScoreModel::filter &&
      sighting.source == Source::beacon) {
    const LocationBeliefs beliefs = LocationFilter::location_beliefs(state);
    if (const LocationBelief* best = beliefs.most_likely()) {
      outcome.most_likely = Outcome::Belief{best->location_index, best->probability};
    }
  }
  if (!identification) {
    outcome.drop_reason = identification.error();
    return outcome;
  }
  const Location& location = *identification->location;
  const Dedupe::Decision decision = dedupe_.decide(state, location, t_ms);
  if (!decision.emit) {
    outcome.drop_reason = decision.reason;
    return outcome;
  }
  dedupe_.record_emitted(state, location, t_ms);

  const EventWriter::Event event = writer_.write(sighting, *identification, decision.kind, now_ms);
  outcome.kind = Outcome::Kind::event;
  outcome.identification = decision.kind;
  outcome.event_id = event.event_id;
  outcome.event_value = event.value;
  return outcome;
}

std::optional<double> Topology::learned_tx_power_dbm(const Uuid& beacon_id,
                                                     const LearnedLevel& level) const {
  const BeaconEntry* beacon = registry().find_beacon_by_id(beacon_id);
  if (beacon == nullptr) return std::nullopt;
  return filter_.taught_tx_power_dbm(*beacon, registry(), level);
}

Result<Identification, DropReason> Topology::score(CustomerState& state, const Sighting& sighting,
                                                   const Resolved& resolved,
                                                   Proximity& heard_proximity,
                                                   RoomLevels& room) const {
  const Registry& registry = resolver_.registry();
  if (options_.score.model == ScoreModel::filter) {
    if (sighting.source == Source::qr) {
      return filter_.score_qr(state, resolved, registry, registry_generation_);
    }
    return filter_.score_beacon(state, sighting, resolved, registry, registry_generation_,
                                &heard_proximity, &room);
  }
  if (sighting.source == Source::qr) return scorer_.score_qr(state, resolved);
  return scorer_.score_beacon(state, sighting, resolved, registry, registry_generation_,
                              &heard_proximity);
}

}  // namespace tastesync
