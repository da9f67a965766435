#include "rpc/pending_calls.hpp"

namespace tastesync {

std::string PendingCalls::key_of(std::string_view customer_id, std::string_view sighting_id) {
  // A customer id never holds a control character (docs/contract.md#sighting): '\n' separates.
  std::string key;
  key.reserve(customer_id.size() + 1 + sighting_id.size());
  key.append(customer_id).append(1, '\n').append(sighting_id);
  return key;
}

PendingCalls::Added PendingCalls::add(std::string_view customer_id, std::string_view sighting_id,
                                      Clock::time_point answer_by, Finish finish,
                                      std::uint64_t* id) {
  std::string key = key_of(customer_id, sighting_id);
  std::string event;
  {
    const std::lock_guard lock(mutex_);
    if (closed_) return Added::closed;
    if (const auto found = recent_.find(key); found != recent_.end()) {
      event = found->second;
    } else {
      if (calls_.size() >= capacity_) return Added::full;
      const std::uint64_t next = next_id_++;
      if (id != nullptr) *id = next;
      const bool earliest = by_deadline_.empty() || answer_by < by_deadline_.begin()->first;
      by_sighting_.emplace(key, next);
      by_deadline_.emplace(answer_by, next);
      calls_.emplace(next, Call{std::move(key), answer_by, std::move(finish)});
      if (earliest) {
        ++deadline_generation_;
        deadline_changed_.notify_all();
      }
      return Added::waiting;
    }
  }
  finish(&event);
  return Added::answered;
}

PendingCalls::Call PendingCalls::remove_locked(std::uint64_t id) {
  auto found = calls_.find(id);
  Call call = std::move(found->second);
  calls_.erase(found);
  by_deadline_.erase({call.answer_by, id});
  const auto [first, last] = by_sighting_.equal_range(call.key);
  for (auto it = first; it != last; ++it) {
    if (it->second == id) {
      by_sighting_.erase(it);
      break;
    }
  }
  return call;
}

std::size_t PendingCalls::complete(std::string_view customer_id, std::string_view sighting_id,
                                   const std::string& event_json) {
  std::vector<Call> done;
  {
    const std::lock_guard lock(mutex_);
    std::string key = key_of(customer_id, sighting_id);
    std::vector<std::uint64_t> ids;
    const auto [first, last] = by_sighting_.equal_range(key);
    for (auto it = first; it != last; ++it) ids.push_back(it->second);
    for (const std::uint64_t id : ids) done.push_back(remove_locked(id));
    if (recent_capacity_ > 0 && recent_.insert_or_assign(key, event_json).second) {
      recent_order_.push_back(std::move(key));
      if (recent_order_.size() > recent_capacity_) {
        recent_.erase(recent_order_.front());
        recent_order_.pop_front();
      }
    }
  }
  for (Call& call : done) call.finish(&event_json);
  return done.size();
}

std::size_t PendingCalls::expire(Clock::time_point now) {
  std::vector<Call> done;
  {
    const std::lock_guard lock(mutex_);
    while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
      done.push_back(remove_locked(by_deadline_.begin()->second));
    }
  }
  for (Call& call : done) call.finish(nullptr);
  return done.size();
}

bool PendingCalls::take(std::uint64_t id) {
  const std::lock_guard lock(mutex_);
  if (!calls_.contains(id)) return false;
  remove_locked(id);
  return true;
}

std::optional<PendingCalls::Clock::time_point> PendingCalls::next_deadline() const {
  const std::lock_guard lock(mutex_);
  if (by_deadline_.empty()) return std::nullopt;
  return by_deadline_.begin()->first;
}

std::size_t PendingCalls::size() const {
  const std::lock_guard lock(mutex_);
  return calls_.size();
}

void PendingCalls::expire_until(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    expire(Clock::now());
    std::unique_lock lock(mutex_);
    const auto wake =
        by_deadline_.empty() ? Clock::now() + std::chrono::seconds(1) : by_deadline_.begin()->first;
    // Woken early by stop, or by add() when a call with an earlier deadline arrives.
    const std::uint64_t seen = deadline_generation_;
    deadline_changed_.wait_until(lock, stop, wake, [&] { return deadline_generation_ != seen; });
  }
}

void PendingCalls::close() {
  std::vector<Call> done;
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    while (!calls_.empty()) done.push_back(remove_locked(calls_.begin()->first));
  }
  for (Call& call : done) call.finish(nullptr);
}

}  // namespace tastesync
