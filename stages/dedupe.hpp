#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "stages/customer_state.hpp"
#include "stages/outcome.hpp"
#include "stages/registry.hpp"

namespace tastesync {

struct DedupeOptions {
  std::int64_t interval_ms = 60000;           // a customer who stays is re-identified this often
  std::int64_t duplicate_window_ms = 120000;  // how long a sighting_id is remembered
};

// The dedupe of docs/contract.md#dedupe, in its two places: exact re-deliveries of a sighting
// are dropped before scoring (is_duplicate), and an identification is emitted only when it says
// something new (decide), judged against the last *emitted* identification so suppressed ones
// never extend the minute.
class Dedupe {
 public:
  explicit Dedupe(DedupeOptions options = {}) : options_(options) {}

  // Remembers a sighting id and returns what it remembered, or nullopt when the id was already
  // seen for this customer within the window (a duplicate). Call after the customer's last
  // activity includes t_ms.
  std::optional<SeenSighting> admit(CustomerState& state, std::string_view sighting_id,
                                    EpochMs t_ms) const {
    return admit_hashed(state, sighting_id_hash(sighting_id), t_ms);
  }
  // The same, with the id's sighting_id_hash taken already (by the parser).
  std::optional<SeenSighting> admit_hashed(CustomerState& state, std::uint64_t sighting_id_hash,
                                           EpochMs t_ms) const;

  // Brings a restored `seen` list (a superset: RocksDB keeps ids until compaction, and may hold
  // one twice) to exactly what the in-memory list would hold, so a restart never changes a
  // duplicate decision.
  void normalize(CustomerState& state) const;

  struct Decision {
    bool emit = false;
    DropReason reason = DropReason::suppressed;             // when !emit
    IdentificationKind kind = IdentificationKind::arrival;  // when emit
  };
  Decision decide(const CustomerState& state, const Location& location, EpochMs t_ms) const;

  void record_emitted(CustomerState& state, const Location& location, EpochMs t_ms) const;

 private:
  // The rule both admit() and normalize() keep: ids older than the customer's newest activity
  // minus the window are gone; beyond the cap, the smallest (time, hash) go first.
  void prune(CustomerState& state) const;

  DedupeOptions options_;
};

}  // namespace tastesync
