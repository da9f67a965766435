#include "floor/floor_state.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <algorithm>
#include <map>

namespace tastesync {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void string(Writer& writer, std::string_view value) {
  writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

FloorState::FloorState(std::vector<FloorLocation> locations,
                       std::chrono::milliseconds presence_timeout, bool mask_ids)
    : locations_(std::move(locations)), presence_timeout_(presence_timeout), mask_ids_(mask_ids) {}

void FloorState::apply(std::string_view event_json, std::int64_t now_ms) {
  // One parser kept (its buffers reused): a parser made per event cost the pipeline thread an
  // allocation per event (docs/bench.md, issue 17). Only one thread applies events at a time.
  // On demand: five strings of one object are read, and parsing the whole document into a tape
  // for them was about a quarter of the view's cost on the pipeline thread
  // (docs/bench.md#issue-17-19). What the view does not read is not validated; an event whose
  // five strings cannot be read shows nothing.
  const std::lock_guard parsing(parse_mutex_);
  padded_.assign(event_json);
  padded_.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::document event;
  if (parser_.iterate(padded_.data(), event_json.size(), padded_.size()).get(event) !=
      simdjson::SUCCESS) {
    return;
  }
  simdjson::ondemand::object data;
  std::string_view customer;
  std::string_view store;
  std::string_view location;
  std::string_view type;
  std::string_view detected_at;
  if (event["data"].get_object().get(data) != simdjson::SUCCESS ||
      data["customer_id"].get_string().get(customer) != simdjson::SUCCESS ||
      data["store_id"].get_string().get(store) != simdjson::SUCCESS ||
      data["location"].get_string().get(location) != simdjson::SUCCESS ||
      data["location_type"].get_string().get(type) != simdjson::SUCCESS ||
      data["detected_at"].get_string().get(detected_at) != simdjson::SUCCESS) {
    return;
  }
  const std::lock_guard lock(mutex_);
  // Looked up before a key is made: a key made for every event was an allocation per event.
  auto it = customers_.find(customer);
  const bool inserted = it == customers_.end();
  if (inserted) it = customers_.emplace(std::string(customer), Presence{}).first;
  Presence& presence = it->second;
  presence.last_event_ms = now_ms;
  presence.last_seen = detected_at;
  // `still_here` (or an arrival where they already are) keeps them there since when they came.
  if (!inserted && presence.store_id == store && presence.location == location) return;
  presence.store_id = store;
  presence.location = location;
  presence.location_type = type;
  presence.since = detected_at;
  ++version_;
  changed_.notify_all();
}

void FloorState::forget(std::string_view customer_id) {
  const std::lock_guard lock(mutex_);
  const auto it = customers_.find(customer_id);
  if (it == customers_.end()) return;
  customers_.erase(it);
  ++version_;
  changed_.notify_all();
}

void FloorState::expire(std::int64_t now_ms) {
  const std::lock_guard lock(mutex_);
  expire_locked(now_ms);
}

void FloorState::expire_locked(std::int64_t now_ms) {
  const std::size_t removed = std::erase_if(customers_, [&](const auto& entry) {
    return now_ms - entry.second.last_event_ms > presence_timeout_.count();
  });
  if (removed > 0) {
    ++version_;
    changed_.notify_all();
  }
}

std::string FloorState::snapshot_json(std::string_view store) const {
  const std::lock_guard lock(mutex_);
  // Stores by id; in each, the registry's locations in its order (entrance, tables, counter as
  // the installer listed them), then any an event named that it does not list.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>, std::less<>> floor;
  const auto add = [&](const std::string& store_id, const std::string& name,
                       const std::string& type) {
    auto& locations = floor[store_id];
    if (std::none_of(locations.begin(), locations.end(),
                     [&](const auto& known) { return known.first == name; })) {
      locations.emplace_back(name, type);
    }
  };
  for (const FloorLocation& location : locations_) {
    if (store.empty() || location.store_id == store) {
      add(location.store_id, location.name, location.type);
    }
  }
  const auto customers = by_id_locked();
  for (const auto& [id, presence] : customers) {
    if (store.empty() || presence->store_id == store) {
      add(presence->store_id, presence->location, presence->location_type);
    }
  }
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartObject();
  writer.Key("version");
  writer.Uint64(version_);
  writer.Key("stores");
  writer.StartArray();
  for (const auto& [store_id, locations] : floor) {
    writer.StartObject();
    writer.Key("store_id");
    string(writer, store_id);
    writer.Key("locations");
    writer.StartArray();
    for (const auto& [name, type] : locations) {
      writer.StartObject();
      writer.Key("name");
      string(writer, name);
      writer.Key("type");
      string(writer, type);
      writer.Key("customers");
      writer.StartArray();
      for (const auto& [id, presence] : customers) {
        if (presence->store_id != store_id || presence->location != name) continue;
        writer.StartObject();
        writer.Key("id");
        string(writer, mask_ids_ ? mask(*id) : *id);
        writer.Key("since");
        string(writer, presence->since);
        writer.EndObject();
      }
      writer.EndArray();
      writer.EndObject();
    }
    writer.EndArray();
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::vector<std::pair<const std::string*, const FloorState::Presence*>> FloorState::by_id_locked()
    const {
  std::vector<std::pair<const std::string*, const Presence*>> sorted;
  sorted.reserve(customers_.size());
  for (const auto& [id, presence] : customers_) sorted.emplace_back(&id, &presence);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  return sorted;
}

std::optional<FloorPresence> FloorState::locate(std::string_view customer_id, std::int64_t now_ms) {
  const std::lock_guard lock(mutex_);
  // Only this customer's entry: a lookup stays O(1) however many are on the floor.
  const auto found = customers_.find(customer_id);
  if (found == customers_.end()) return std::nullopt;
  if (now_ms - found->second.last_event_ms > presence_timeout_.count()) {
    customers_.erase(found);
    ++version_;
    changed_.notify_all();
    return std::nullopt;
  }
  const Presence& presence = found->second;
  return FloorPresence{found->first,           presence.store_id, presence.location,
                       presence.location_type, presence.since,    presence.last_seen};
}

std::vector<FloorPresence> FloorState::present(std::string_view store_id, std::int64_t now_ms) {
  const std::lock_guard lock(mutex_);
  expire_locked(now_ms);
  std::vector<FloorPresence> found;
  for (const auto& [id, presence] : by_id_locked()) {
    if (presence->store_id != store_id) continue;
    found.push_back(FloorPresence{*id, presence->store_id, presence->location,
                                  presence->location_type, presence->since, presence->last_seen});
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.location < b.location; });
  return found;
}

std::uint64_t FloorState::version() const {
  const std::lock_guard lock(mutex_);
  return version_;
}

std::uint64_t FloorState::wait_for_change(std::uint64_t seen, std::chrono::milliseconds timeout,
                                          const std::function<std::int64_t()>& now_ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  while (version_ <= seen && !stopped_) {
    expire_locked(now_ms());
    if (version_ > seen) break;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    // Wakes at least once a second to expire the silent.
    changed_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(deadline - now,
                                                                          std::chrono::seconds(1)));
  }
  return version_;
}

void FloorState::stop() {
  const std::lock_guard lock(mutex_);
  stopped_ = true;
  changed_.notify_all();
}

bool FloorState::stopped() const {
  const std::lock_guard lock(mutex_);
  return stopped_;
}

std::string FloorState::mask(std::string_view customer_id) {
  if (customer_id.size() <= 4) return "\xE2\x80\xA2\xE2\x80\xA2\xE2\x80\xA2";
  std::string masked(customer_id.substr(0, 2));
  masked.append("\xE2\x80\xA2\xE2\x80\xA2\xE2\x80\xA2")
      .append(customer_id.substr(customer_id.size() - 2));
  return masked;
}

}  // namespace tastesync
