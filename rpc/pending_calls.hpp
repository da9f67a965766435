#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tastesync {

// IdentifyCustomer calls waiting for the CustomerIdentified of their sighting
// (docs/grpc.md#replies): matched by customer and sighting id as the events arrive on
// customer-events, or answered without one when their time is up. Each call is finished exactly
// once, by whoever takes it out of the table, always outside the lock. Thread-safe.
class PendingCalls {
 public:
  using Clock = std::chrono::steady_clock;
  // Called once: with the event's JSON, or with nullptr when the time ran out (or at shutdown).
  using Finish = std::function<void(const std::string* event_json)>;

  // `recent_events`: how many of the latest events are kept to answer a call whose event came
  // before it (a retry after UNAVAILABLE, when Kafka had taken the first attempt after all).
  explicit PendingCalls(std::size_t capacity, std::size_t recent_events = 20000)
      : capacity_(capacity), recent_capacity_(recent_events) {}

  enum class Added : std::uint8_t { waiting, answered, full, closed };
  // `waiting`: `id` is set and `finish` will be called. `answered`: the event was already here,
  // `finish` ran with it before add returned. `full` (`capacity` calls waiting) or `closed`:
  // `finish` is never called; the caller answers.
  Added add(std::string_view customer_id, std::string_view sighting_id, Clock::time_point answer_by,
            Finish finish, std::uint64_t* id = nullptr);
  // Finishes every call waiting for this sighting with the event, and keeps it among the recent
  // ones; returns how many calls it finished.
  std::size_t complete(std::string_view customer_id, std::string_view sighting_id,
                       const std::string& event_json);
  // Finishes the calls whose time is up; returns how many.
  std::size_t expire(Clock::time_point now);
  // Takes a call out without finishing it (its sighting was not delivered: the caller answers
  // it); false when it was finished already.
  bool take(std::uint64_t id);
  // The earliest answer_by of any waiting call.
  std::optional<Clock::time_point> next_deadline() const;
  std::size_t size() const;
  // Finishes every waiting call as expired and refuses new ones (the server is stopping).
  void close();
  // Expires calls as their time comes, until `stop`: the thread answering PENDING on time.
  void expire_until(const std::stop_token& stop);

 private:
  struct Call {
    std::string key;
    Clock::time_point answer_by;
    Finish finish;
  };
  static std::string key_of(std::string_view customer_id, std::string_view sighting_id);
  // Removes `id` from every index; the caller holds the lock.
  Call remove_locked(std::uint64_t id);

  const std::size_t capacity_;
  const std::size_t recent_capacity_;
  mutable std::mutex mutex_;
  std::condition_variable_any deadline_changed_;
  std::uint64_t deadline_generation_ = 0;  // bumped when a call's deadline becomes the earliest
  std::uint64_t next_id_ = 1;
  bool closed_ = false;
  std::map<std::uint64_t, Call> calls_;
  std::multimap<std::string, std::uint64_t, std::less<>> by_sighting_;
  std::set<std::pair<Clock::time_point, std::uint64_t>> by_deadline_;
  // The latest events by sighting key, oldest first in `recent_order_`.
  std::map<std::string, std::string, std::less<>> recent_;
  std::deque<std::string> recent_order_;
};

}  // namespace tastesync
