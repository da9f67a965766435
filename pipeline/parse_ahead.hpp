#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/result.hpp"
#include "stages/parse.hpp"
#include "stages/sighting.hpp"

namespace tastesync {

// Parses a batch's sightings on a thread of its own while the pipeline thread works through
// the batch, both from its start; the helper overtakes the pipeline thread and stays ahead of it
// (docs/design.md#parse-ahead). Each record is parsed once, by whichever of the two claims it
// first: the pipeline thread never waits for a record the helper has not started, so a helper
// that gets no CPU costs nothing but an atomic exchange per record. Parsing is pure (no state,
// no clock), so who parses a record changes no outcome.
class ParseAhead {
 public:
  // Batches smaller than `min_batch` are left to the pipeline thread: waking the helper costs
  // more than it saves.
  explicit ParseAhead(ParseOptions options, std::size_t max_batch, std::size_t min_batch = 64);
  ~ParseAhead();
  ParseAhead(const ParseAhead&) = delete;
  ParseAhead& operator=(const ParseAhead&) = delete;

  // A batch handed over: its destructor waits until the helper has let go of it (it may still be
  // parsing a record nobody takes), so it must end before the records' memory goes, however the
  // code using it ends.
  class [[nodiscard]] Batch {
   public:
    explicit Batch(ParseAhead& ahead) : ahead_(&ahead) {}
    ~Batch() { ahead_->finish(); }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

   private:
    ParseAhead* ahead_;
  };

  // Hands a batch over. `parse[i]` says whether records[i] is a sighting to parse (not a
  // consumer error or an erasure request). Both spans must stay valid and unchanged while the
  // returned Batch lives; one batch at a time.
  Batch start(std::span<const RecordView> records, std::span<const std::uint8_t> parse);
  // Record i's parse, if the helper made it (waiting while it is under way), or nullptr when the
  // caller is to parse it itself. At most once per record, from the pipeline thread.
  const Result<Sighting, ParseError>* take(std::size_t i);

  // Records of engaged batches the helper parsed, and all records of engaged batches (for the
  // tests and the bench: how the work was shared).
  std::uint64_t parsed_ahead() const { return parsed_ahead_.load(std::memory_order_relaxed); }
  std::uint64_t records_offered() const { return offered_; }

 private:
  // Four bytes, the size futexes wait on: notifying a byte-sized atomic is a locked add to a
  // counter libstdc++ shares between atomics, once per record, even with nobody waiting; a
  // 4-byte one only reads whether anyone waits (hence the helper's sequentially consistent
  // store before it).
  enum Claim : std::uint32_t { free_, helper, helper_done, caller };

  void finish();
  void run(const std::stop_token& stop);
  void parse_ahead_of_the_caller();

  SightingParser parser_;  // the helper's own: one parser per thread (parse.hpp)
  std::size_t max_batch_;
  std::size_t min_batch_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> claims_;
  std::vector<std::optional<Result<Sighting, ParseError>>> results_;
  std::vector<std::string> storage_;  // what a helper-parsed sighting's views point into
  std::span<const RecordView> records_;
  std::span<const std::uint8_t> parse_;
  bool engaged_ = false;
  std::uint64_t offered_ = 0;
  // Added to once per batch: a per-record add kept this line, which take() reads for every
  // record, moving between the two threads' caches.
  std::atomic<std::uint64_t> parsed_ahead_{0};
  // idle -> offered (start) -> taken (the helper) -> idle, or offered -> idle (finish() before
  // the helper woke: the pipeline thread never waits for a helper that got no CPU).
  enum BatchState : std::uint8_t { idle, offered, taken };
  std::atomic<std::uint8_t> batch_state_{idle};
  std::atomic<bool> letting_go_{false};       // finish() met the helper in a batch: stop there
  std::atomic<std::uint64_t> generation_{0};  // bumped per engaged batch, and to stop
  std::jthread thread_;                       // started once everything it reads is set
};

}  // namespace tastesync
