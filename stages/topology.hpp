#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "stages/customer_state.hpp"
#include "stages/dedupe.hpp"
#include "stages/emit.hpp"
#include "stages/location_filter.hpp"
#include "stages/outcome.hpp"
#include "stages/parse.hpp"
#include "stages/registry.hpp"
#include "stages/resolve.hpp"
#include "stages/score.hpp"

namespace tastesync {

struct TopologyOptions {
  ParseOptions parse;
  DedupeOptions dedupe;
  ScoreOptions score;
  std::int64_t retention_ms = 3600000;        // a customer unseen this long is forgotten
  std::int64_t allowed_lateness_ms = 300000;  // how far behind the watermark a sighting may be
  // Live customers kept per partition; beyond it the least recently touched are forgotten.
  std::size_t max_customers_per_partition = 20000;
  // Tools only (tastesync sim's reliability plot): every beacon reading the location filter
  // scores reports its most likely location in Outcome::most_likely.
  bool report_beliefs = false;

  // How far behind a partition's watermark a customer's state, and a remembered sighting id, can
  // still be read: anything older may be expired from storage (docs/contract.md#state).
  constexpr std::int64_t state_expiry_lag_ms() const { return retention_ms + allowed_lateness_ms; }
  constexpr std::int64_t seen_expiry_lag_ms() const {
    return dedupe.duplicate_window_ms + allowed_lateness_ms;
  }
};

// What one record came to. Views point into the topology's buffers and the record; they are
// valid until the next process() call.
struct Outcome {
  // forgotten: an erasure request (docs/operations.md#forget); the customer's state, if any, is
  // reset and `erased_seen` holds the sighting ids it remembered.
  enum class Kind : std::uint8_t { event, dead_letter, dropped, forgotten };

  Kind kind = Kind::dropped;
  DropReason drop_reason = DropReason::suppressed;                  // when dropped
  const ParseError* error = nullptr;                                // when dead_letter
  IdentificationKind identification = IdentificationKind::arrival;  // when event
  std::string_view customer_id;            // the event's key, the state's key
  std::string_view event_id;               // when event
  std::string_view event_value;            // when event
  EpochMs detected_at_ms = 0;              // when parsed
  CustomerState* touched = nullptr;        // the customer state this record changed, if any
  std::optional<SeenSighting> remembered;  // the sighting id this record added, if any
  std::optional<Proximity> proximity;      // of the beacon heard, once filtered
  std::size_t evicted_customers = 0;       // forgotten to make room (the customer cap)
  // The beacons whose room level (PartitionState::room) this record changed.
  std::span<const Uuid> learned_levels;
  // With TopologyOptions::report_beliefs, a beacon reading the location filter scored: its
  // most likely location and that location's posterior, emitted or not.
  struct Belief {
    std::uint32_t location_index = 0;
    double probability = 0.0;
  };
  std::optional<Belief> most_likely;
  // When forgotten: whether the partition held state of the customer, and the remembered
  // sighting ids that state had (their stored keys go too); detected_at_ms is then the newest
  // detected_at that state had seen (0: none).
  bool erased_state = false;
  std::span<const SeenSighting> erased_seen;
};

// The time an erasure's tombstone carries (docs/operations.md#forget): the sinks delete, and never
// store again, the customer's events detected at or before it. The request's record timestamp,
// never later than the wall clock (a request stamped ahead must not hide the customer's next
// visits), and never earlier than the newest detected_at the erased state had seen (a phone
// whose clock runs ahead, within parse.max_future_skew_ms, left events detected after the
// request: they are erased too).
inline EpochMs erasure_time(const RecordView& request, const Outcome& forgotten, EpochMs now_ms) {
  return std::max(std::min(request.timestamp_ms.value_or(now_ms), now_ms),
                  forgotten.detected_at_ms);
}

// Told before the topology changes a customer's existing state, so the durable layer can keep
// what an earlier, undelivered record left (state/PendingWrites).
class StateChangeObserver {
 public:
  virtual ~StateChangeObserver() = default;
  virtual void before_change(const CustomerState& state) = 0;
};

// parse > dedupe > resolve > score > dedupe's emission rule > emit, on one partition's state.
// Pure: no I/O, and the wall clock only as it is handed in. Same state + same records -> same
// outcomes, which is what makes a replay or a crash re-emit the same event ids; the one
// exception is docs/design.md's "Time that cannot be hijacked": a record ahead of `now_ms`.
class Topology {
 public:
  Topology(std::shared_ptr<const Registry> registry, TopologyOptions options);

  // `now_ms`: the wall clock as the record is processed. It is the event's `timestamp`, it
  // refuses records ahead of it by more than parse.max_future_skew_ms, and no record moves the
  // watermark past it.
  Outcome process(const RecordView& record, PartitionState& partition, EpochMs now_ms,
                  StateChangeObserver* observer = nullptr);
  // The same, with the record's value already parsed by a SightingParser with this topology's
  // parse options (on another thread: docs/design.md#parse-ahead). Same record, same outcome.
  Outcome process(const RecordView& record, const Result<Sighting, ParseError>& parsed,
                  PartitionState& partition, EpochMs now_ms,
                  StateChangeObserver* observer = nullptr);

  // An erasure request (a record with no value and a `tastesync-forget` header:
  // docs/operations.md#forget) in place of process(): resets the customer's state, if the
  // partition holds any, and says which remembered sighting ids it had. A key that is no
  // customer id is a dead letter.
  Outcome forget(const RecordView& record, std::string_view request_id, PartitionState& partition,
                 StateChangeObserver* observer = nullptr);

  // Customers whose state can no longer influence anything (the event-time expiry of
  // docs/contract.md#state; its rules are in docs/contract.md#time).
  EpochMs expiry_horizon(EpochMs watermark_ms) const {
    return watermark_ms - options_.state_expiry_lag_ms();
  }

  // After a restore: brings derived parts of the state (the remembered sighting ids) to what a
  // run without the restart would hold.
  void normalize_restored(PartitionState& partition) const;

  void set_registry(std::shared_ptr<const Registry> registry) {
    resolver_.set_registry(std::move(registry));
    ++registry_generation_;
  }
  const Registry& registry() const { return resolver_.registry(); }
  // A learnt room level as the power at 1 m the location filter takes it for; nullopt when the
  // beacon is no longer in the registry.
  std::optional<double> learned_tx_power_dbm(const Uuid& beacon_id,
                                             const LearnedLevel& level) const;
  const TopologyOptions& options() const { return options_; }

 private:
  Outcome dead_letter(ParseError error);
  // process() once the record's timestamp is judged and its value parsed.
  Outcome process_parsed(const RecordView& record, const Result<Sighting, ParseError>& parsed,
                         PartitionState& partition, EpochMs now_ms, StateChangeObserver* observer);
  // The reading through score.model's location model.
  Result<Identification, DropReason> score(CustomerState& state, const Sighting& sighting,
                                           const Resolved& resolved, Proximity& heard_proximity,
                                           RoomLevels& room) const;
  TopologyOptions options_;
  SightingParser parser_;
  Dedupe dedupe_;
  Resolver resolver_;
  Scorer scorer_;
  LocationFilter filter_;
  EventWriter writer_;
  ParseError last_error_{ParseErrorCode::invalid_json, {}};
  std::vector<SeenSighting> erased_seen_;  // reused by forget()
  std::uint64_t registry_generation_ = 1;  // 0 marks a track that never looked its entry up
};

}  // namespace tastesync
