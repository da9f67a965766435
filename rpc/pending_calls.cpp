#include "rpc/pending_calls.hpp"

namespace tastesync {

std::string PendingCalls::key_of(std::string_view customer_id, std::string_view sighting_id) {
  // A customer id never holds a control character (docs/contract.md#sighting): '\n' separates.
  std::string key;
  key.reserve(customer_id.size() + 1 + sighting_id.size());
  key.append(customer_id).append(1, '\n').append(sighting_id);
  return key;
}

std::optional<std::uint64_t> PendingCalls::add(std::string_view customer_id,
                                               std::string_view sighting_id,
                                               Clock::time_point answer_by, Finish finish) {
  const std::lock_guard lock(mutex_);
  if (closed_ || calls_.size() >= capacity_) return std::nullopt;
  const std::uint64_t id = next_id_++;
  std::string key = key_of(customer_id, sighting_id);
  by_sighting_.emplace(key, id);
  by_deadline_.emplace(answer_by, id);
  calls_.emplace(id, Call{std::move(key), answer_by, std::move(finish)});
  return id;
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
    const std::string key = key_of(customer_id, sighting_id);
    std::vector<std::uint64_t> ids;
    const auto [first, last] = by_sighting_.equal_range(key);
    for (auto it = first; it != last; ++it) ids.push_back(it->second);
    for (const std::uint64_t id : ids) done.push_back(remove_locked(id));
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
