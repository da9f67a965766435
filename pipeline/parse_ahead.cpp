#include "pipeline/parse_ahead.hpp"

#include <stdexcept>

#include "common/thread_name.hpp"

namespace tastesync {
namespace {

// How long take() spins for a record the helper is parsing before it sleeps: a parse is ~0.5 µs.
constexpr int kSpins = 200;

// The parser's views last until its next parse: copy what they show into `storage` (its
// capacity reused from batch to batch) and point them there.
void own_views(Sighting& sighting, std::string& storage) {
  std::string_view* views[] = {&sighting.sighting_id, &sighting.customer_id, &sighting.qr_code,
                               &sighting.platform};
  std::size_t size = 0;
  for (const std::string_view* view : views) size += view->size();
  storage.clear();
  storage.reserve(size);
  for (const std::string_view* view : views) storage.append(*view);
  std::size_t at = 0;
  for (std::string_view* view : views) {
    const std::size_t length = view->size();
    *view = std::string_view(storage).substr(at, length);
    at += length;
  }
}

}  // namespace

ParseAhead::ParseAhead(ParseOptions options, std::size_t max_batch, std::size_t min_batch)
    : parser_(options),
      max_batch_(max_batch),
      min_batch_(min_batch),
      claims_(std::make_unique<std::atomic<std::uint32_t>[]>(max_batch)),
      results_(max_batch),
      storage_(max_batch) {
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

ParseAhead::~ParseAhead() {
  thread_.request_stop();
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_one();
}

ParseAhead::Batch ParseAhead::start(std::span<const RecordView> records,
                                    std::span<const std::uint8_t> parse) {
  if (records.size() > max_batch_ || parse.size() != records.size()) {
    throw std::invalid_argument("ParseAhead::start: a batch over max_batch, or flags not 1:1");
  }
  engaged_ = records.size() >= min_batch_;
  if (!engaged_) return Batch(*this);
  records_ = records;
  parse_ = parse;
  offered_ += records.size();
  letting_go_.store(false, std::memory_order_relaxed);
  for (std::size_t i = 0; i < records.size(); ++i) {
    claims_[i].store(free_, std::memory_order_relaxed);
  }
  // Release: the helper that takes the batch sees it and the cleared claims.
  batch_state_.store(offered, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_one();
  return Batch(*this);
}

const Result<Sighting, ParseError>* ParseAhead::take(std::size_t i) {
  if (!engaged_) return nullptr;
  std::uint32_t claim = free_;
  if (claims_[i].compare_exchange_strong(claim, caller, std::memory_order_acq_rel)) return nullptr;
  // The helper has it: at most one parse away, unless it lost its CPU meanwhile; then sleep
  // (the helper notifies) rather than spin on the core it may need.
  for (int spins = 0; claim != helper_done; ++spins) {
    if (spins >= kSpins) claims_[i].wait(helper, std::memory_order_acquire);
    claim = claims_[i].load(std::memory_order_acquire);
  }
  return &*results_[i];
}

void ParseAhead::finish() {
  if (!engaged_) return;
  engaged_ = false;
  std::uint8_t state = offered;
  if (batch_state_.compare_exchange_strong(state, idle, std::memory_order_acq_rel)) return;
  // Taken: the helper stops at its next record (a batch left half-way would otherwise wait for
  // the helper to parse the rest of it).
  letting_go_.store(true, std::memory_order_relaxed);
  while (state != idle) {
    batch_state_.wait(state, std::memory_order_acquire);
    state = batch_state_.load(std::memory_order_acquire);
  }
}

void ParseAhead::run(const std::stop_token& stop) {
  name_this_thread("parse");
  std::uint64_t seen = 0;
  while (true) {
    generation_.wait(seen, std::memory_order_acquire);
    if (stop.stop_requested()) return;
    seen = generation_.load(std::memory_order_acquire);
    std::uint8_t state = offered;
    // Fails when the pipeline thread finished the batch first: nothing to do.
    if (!batch_state_.compare_exchange_strong(state, taken, std::memory_order_acq_rel)) continue;
    parse_ahead_of_the_caller();
    batch_state_.store(idle, std::memory_order_release);
    batch_state_.notify_one();
  }
}

void ParseAhead::parse_ahead_of_the_caller() {
  // From the batch's start, as the pipeline thread goes: the helper parses ~2-3 times as fast as
  // the pipeline thread processes, so once past it, it stays ahead and parses nearly all of the
  // batch (docs/design.md#parse-ahead).
  std::uint64_t taken_here = 0;
  for (std::size_t i = 0; i < records_.size(); ++i) {
    if (letting_go_.load(std::memory_order_relaxed)) break;
    if (parse_[i] == 0) continue;
    std::uint32_t claim = free_;
    // The pipeline thread has it: go on, ahead of it.
    if (!claims_[i].compare_exchange_strong(claim, helper, std::memory_order_acq_rel)) continue;
    auto parsed = parser_.parse(records_[i]);
    if (parsed) own_views(*parsed, storage_[i]);
    results_[i].emplace(std::move(parsed));
    ++taken_here;
    // Sequentially consistent: notify_one() then reads whether anyone waits, and a release store
    // may be passed by that read (x86 lets a load overtake an earlier store), so a take() that
    // began to wait in between would sleep on a record already parsed. The old byte-sized claims
    // got that order from the locked add their notify made.
    claims_[i].store(helper_done, std::memory_order_seq_cst);
    claims_[i].notify_one();
  }
  parsed_ahead_.fetch_add(taken_here, std::memory_order_relaxed);
}

}  // namespace tastesync
