#include "tools/sim/simulator.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <queue>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "tools/sim/itinerary.hpp"
#include "tools/sim/nearest_beacon.hpp"
#include "tools/sim/radio_model.hpp"

namespace tastesync::sim {
namespace {

// A phone's readings of one scan are reported within this many milliseconds of each other.
constexpr double kReadingSpreadMs = 30.0;
// A gateway re-sends a reading it believes lost within this many seconds.
constexpr double kDuplicateMaxDelayS = 30.0;
// How often the partition's expired customers are evicted, as the pipeline's housekeeping does.
constexpr EpochMs kHousekeepingMs = 60000;
// The installation's random stream: far above any customer's number, so drawing the beacons'
// calibration errors changes no customer's visit.
constexpr std::uint64_t kInstallationStream = std::uint64_t{1} << 62;

// A QR scan the customer will make at a table.
struct QrScan {
  EpochMs detected_ms = 0;
  std::string code;
};

struct Customer {
  std::string id;
  const StorePlan* store = nullptr;
  Itinerary itinerary{{}};
  std::string_view platform;
  PhoneRadio phone;              // its offset includes the platform's bias
  std::vector<LinkState> links;  // per beacon of the store
  const std::vector<double>* real_tx_power_dbm = nullptr;  // per beacon of the store
  std::optional<QrScan> qr;
  Rng rng{0};
  std::uint64_t readings = 0;
};

struct PendingRecord {
  EpochMs timestamp_ms = 0;  // the Kafka timestamp: when the record reaches the topic
  std::uint64_t sequence = 0;
  std::size_t customer = 0;
  std::string value;
};

struct LaterFirst {
  bool operator()(const PendingRecord& a, const PendingRecord& b) const {
    return a.timestamp_ms != b.timestamp_ms ? a.timestamp_ms > b.timestamp_ms
                                            : a.sequence > b.sequence;
  }
};

struct Scan {
  EpochMs t_ms;
  std::size_t customer;
  bool operator>(const Scan& other) const {
    return t_ms != other.t_ms ? t_ms > other.t_ms : customer > other.customer;
  }
};

std::string location_key(std::string_view store_id, std::string_view name) {
  std::string key(store_id);
  key.push_back('\0');
  key.append(name);
  return key;
}

}  // namespace

struct Simulator::Impl {
  std::shared_ptr<const Registry> registry;
  FloorPlan plan;
  TopologyOptions options;
  SimSettings settings;
  RadioModel radio;
  Topology topology;
  PartitionState partition;
  std::vector<Customer> customers;
  std::unordered_map<std::string, std::uint32_t> location_by_key;
  std::priority_queue<PendingRecord, std::vector<PendingRecord>, LaterFirst> pending;
  std::uint64_t next_sequence = 0;
  EpochMs next_housekeeping_ms = 0;
  simdjson::dom::parser event_parser;
  std::vector<std::vector<double>> real_tx_power_dbm;  // per store of the plan, per beacon
  NearestBeaconBaseline nearest;
  SimulationResult result;

  Impl(std::shared_ptr<const Registry> reg, FloorPlan floor_plan, TopologyOptions topology_options,
       SimSettings sim_settings)
      : registry(std::move(reg)),
        plan(std::move(floor_plan)),
        options(topology_options),
        settings(std::move(sim_settings)),
        radio(settings.radio),
        topology(registry, options),
        nearest(static_cast<std::size_t>(settings.customers)) {
    const auto& locations = registry->locations();
    for (std::uint32_t i = 0; i < locations.size(); ++i) {
      location_by_key.emplace(location_key(locations[i].store_id, locations[i].name), i);
    }
    install_beacons();
    std::vector<std::size_t> stores;
    for (std::size_t s = 0; s < plan.stores().size(); ++s) {
      if (settings.store.empty() || settings.store == plan.stores()[s].layout.store_id) {
        stores.push_back(s);
      }
    }
    if (stores.empty()) {
      throw std::invalid_argument("--store: not in the layout: " + settings.store);
    }
    for (int i = 0; i < settings.customers; ++i) add_customer(i, stores);
  }

  // The registry holds the installer's calibration; the room has each beacon's real power.
  void install_beacons() {
    Rng rng = Rng::stream(settings.seed, kInstallationStream);
    const double error_db = settings.install.tx_power_error_db;
    for (const StorePlan& store : plan.stores()) {
      std::vector<double>& powers = real_tx_power_dbm.emplace_back();
      for (const PlacedBeacon& beacon : store.beacons) {
        const double error = error_db > 0.0 ? rng.uniform(-error_db, error_db) : 0.0;
        powers.push_back(beacon.tx_power_dbm + error);
      }
    }
  }

  PhoneRadio draw_phone(bool ios, Rng& rng) const {
    const PhoneOptions& phone = settings.phone;
    PhoneRadio radio;
    radio.offset_db =
        rng.normal(0.0, phone.offset_sigma_db) + (ios ? phone.ios_bias_db : phone.android_bias_db);
    // Drawn only when set, so that older settings keep their random streams.
    if (phone.offset_uniform_db > 0.0) {
      radio.offset_db += rng.uniform(-phone.offset_uniform_db, phone.offset_uniform_db);
    }
    if (phone.detect_near_max > 0.0) {
      radio.detect_near = rng.uniform(phone.detect_near_min, phone.detect_near_max);
    }
    return radio;
  }

  // The table's active QR code, when the customer scans it during this stay.
  std::optional<QrScan> draw_qr_scan(const SeatedStay& stay, Rng& rng) const {
    const InstallOptions& install = settings.install;
    if (install.qr_share <= 0.0 || !rng.chance(install.qr_share)) return std::nullopt;
    const EpochMs detected_ms =
        stay.seated_ms +
        static_cast<EpochMs>(1000.0 * rng.uniform(install.qr_min_s, install.qr_max_s));
    if (detected_ms >= stay.stood_up_ms) return std::nullopt;
    for (const QrEntry& entry : registry->qr_codes()) {
      if (entry.location_index == stay.location_index && entry.status == EntryStatus::active) {
        return QrScan{detected_ms, entry.code};
      }
    }
    throw std::invalid_argument("--qr-share: the registry has no active QR code at " +
                                registry->location(stay.location_index).store_id + " " +
                                registry->location(stay.location_index).name);
  }

  void add_customer(int number, const std::vector<std::size_t>& stores) {
    Customer c;
    c.id = fmt::format("sim-{:05d}", number + 1);
    c.rng = Rng::stream(settings.seed, static_cast<std::uint64_t>(number));
    const std::size_t store = stores[c.rng.index(stores.size())];
    c.store = &plan.stores()[store];
    c.real_tx_power_dbm = &real_tx_power_dbm[store];
    const EpochMs door_ms =
        kStartMs + static_cast<EpochMs>(c.rng.uniform(0.0, settings.arrival_minutes * 60000.0));
    const bool ios = c.rng.chance(settings.phone.ios_share);
    c.platform = ios ? "ios" : "android";
    c.phone = draw_phone(ios, c.rng);
    c.itinerary = Itinerary::plan(*c.store, settings.visit, kTruthRadii, door_ms, c.rng);
    c.links.resize(c.store->beacons.size());

    CustomerTruth truth;
    truth.customer_id = c.id;
    truth.store_id = c.store->layout.store_id;
    truth.truth = c.itinerary.truth(*c.store, kTruthRadii);
    truth.arrival_ms = truth.truth.first_time_at([&](std::uint32_t location) {
      return registry->location(location).type == LocationType::entrance;
    });
    truth.seated_stays = c.itinerary.seated_stays(*c.store, truth.truth);
    for (const SeatedStay& stay : truth.seated_stays) {
      if (!c.qr) c.qr = draw_qr_scan(stay, c.rng);
    }
    customers.push_back(std::move(c));
    result.customers.push_back(std::move(truth));
  }

  EpochMs next_scan_after(Customer& c, EpochMs t_ms) {
    const double period_s =
        settings.phone.scan_period_s +
        c.rng.uniform(-settings.phone.scan_jitter_s, settings.phone.scan_jitter_s);
    return t_ms + static_cast<EpochMs>(std::llround(period_s * 1000.0));
  }

  void scan(std::size_t index, EpochMs t_ms) {
    Customer& c = customers[index];
    ++result.counts.scans;
    const Point position = c.itinerary.position_at(t_ms);
    const StoreLayout& layout = c.store->layout;
    const double phone_height_m =
        c.itinerary.seated_at(t_ms) ? layout.seated_phone_height_m : layout.standing_phone_height_m;
    std::optional<std::pair<int, const PlacedBeacon*>> loudest;
    EpochMs last_detected_ms = t_ms;
    for (std::size_t b = 0; b < c.store->beacons.size(); ++b) {
      const PlacedBeacon& beacon = c.store->beacons[b];
      const double floor_m = distance_m(position, beacon.position);
      const double up_m = phone_height_m - beacon.height_m;
      const double distance = std::sqrt(floor_m * floor_m + up_m * up_m);
      const auto rssi = radio.scan(c.links[b], (*c.real_tx_power_dbm)[b], distance, position, t_ms,
                                   c.phone, c.rng);
      if (!rssi) continue;
      const EpochMs detected_ms = t_ms + static_cast<EpochMs>(c.rng.uniform(0.0, kReadingSpreadMs));
      note_reading(index, detected_ms);
      if (settings.model == Model::stages) {
        send(index, beacon, *rssi, detected_ms);
      } else if (beacon.entry->status == EntryStatus::active &&
                 (!loudest || *rssi > loudest->first)) {
        loudest.emplace(*rssi, &beacon);
        last_detected_ms = std::max(last_detected_ms, detected_ms);
      }
    }
    if (loudest) {
      if (auto event =
              nearest.on_scan(index, last_detected_ms, loudest->second->entry->location_index)) {
        ++result.counts.events_by_kind[static_cast<std::size_t>(event->kind)];
        result.events.push_back(*event);
      }
    }
  }

  void note_reading(std::size_t index, EpochMs detected_ms) {
    ++result.counts.readings;
    CustomerTruth& truth = result.customers[index];
    if (!truth.first_reading_ms) truth.first_reading_ms = detected_ms;
  }

  // The sighting's tx_power is the registry's: what the installer configured the beacon to
  // advertise, whatever its real power.
  void send(std::size_t index, const PlacedBeacon& beacon, int rssi_dbm, EpochMs detected_ms) {
    Customer& c = customers[index];
    const CanonicalTime t = format_canonical(detected_ms);
    std::string value = fmt::format(
        R"({{"sighting_id":"{}-{:06d}","customer_id":"{}","source":"beacon","beacon":{{"uuid":"{}",)"
        R"("major":{},"minor":{},"rssi":{},"tx_power":{}}},"detected_at":"{}",)"
        R"("device":{{"platform":"{}"}}}})",
        c.id, ++c.readings, c.id, beacon.uuid_text, beacon.entry->major, beacon.entry->minor,
        rssi_dbm, beacon.tx_power_dbm, std::string_view(t.data(), t.size()), c.platform);
    through_gateway(index, std::move(value), detected_ms);
  }

  void send_qr(std::size_t index) {
    Customer& c = customers[index];
    ++result.counts.qr_scans;
    const CanonicalTime t = format_canonical(c.qr->detected_ms);
    std::string value = fmt::format(
        R"({{"sighting_id":"{}-qr","customer_id":"{}","source":"qr","qr":{{"code":"{}"}},)"
        R"("detected_at":"{}","device":{{"platform":"{}"}}}})",
        c.id, c.id, c.qr->code, std::string_view(t.data(), t.size()), c.platform);
    through_gateway(index, std::move(value), c.qr->detected_ms);
  }

  void through_gateway(std::size_t index, std::string value, EpochMs detected_ms) {
    Customer& c = customers[index];
    const GatewayOptions& gateway = settings.gateway;
    double delay_ms = c.rng.uniform(gateway.delay_min_ms, gateway.delay_max_ms);
    if (c.rng.chance(gateway.late_share)) {
      ++result.counts.late;
      delay_ms += 1000.0 * c.rng.uniform(std::min(1.0, gateway.late_max_s), gateway.late_max_s);
    }
    const EpochMs timestamp_ms = detected_ms + static_cast<EpochMs>(delay_ms);
    if (c.rng.chance(gateway.duplicate_share)) {
      ++result.counts.duplicated;
      const auto resend_ms = static_cast<EpochMs>(1000.0 * c.rng.uniform(0.2, kDuplicateMaxDelayS));
      pending.push(PendingRecord{timestamp_ms + resend_ms, next_sequence++, index, value});
    }
    pending.push(PendingRecord{timestamp_ms, next_sequence++, index, std::move(value)});
  }

  void deliver_until(EpochMs t_ms) {
    while (!pending.empty() && pending.top().timestamp_ms <= t_ms) {
      const PendingRecord& record = pending.top();
      process(record);
      result.counts.simulated_ms = record.timestamp_ms - kStartMs;
      pending.pop();
    }
  }

  void process(const PendingRecord& record) {
    ++result.counts.records;
    const std::string& key = customers[record.customer].id;
    const RecordView view{key, record.value, record.timestamp_ms,
                          static_cast<std::int64_t>(result.counts.records)};
    const Outcome outcome = topology.process(view, partition, record.timestamp_ms);
    if (outcome.most_likely) {
      result.beliefs.push_back(ReadingBelief{record.customer, outcome.detected_at_ms,
                                             outcome.most_likely->location_index,
                                             outcome.most_likely->probability});
    }
    switch (outcome.kind) {
      case Outcome::Kind::dead_letter:
        ++result.counts.dead_letters;
        break;
      case Outcome::Kind::dropped:
        ++result.counts.drops_by_reason[static_cast<std::size_t>(outcome.drop_reason)];
        break;
      case Outcome::Kind::event:
        ++result.counts.events_by_kind[static_cast<std::size_t>(outcome.identification)];
        result.events.push_back(read_event(record.customer, outcome));
        break;
      case Outcome::Kind::forgotten:  // the simulator sends no erasure requests
        break;
    }
    if (record.timestamp_ms >= next_housekeeping_ms) {
      partition.evict_older_than(topology.expiry_horizon(partition.watermark_ms()));
      next_housekeeping_ms = record.timestamp_ms + kHousekeepingMs;
    }
  }

  // What the event says, read from its CustomerIdentified v1 value
  // (docs/contract.md#customer-identified): the contract downstream consumers read, not the
  // stages' internals.
  EmittedEvent read_event(std::size_t customer, const Outcome& outcome) {
    simdjson::dom::element data;
    std::string_view store_id;
    std::string_view location;
    double confidence = 0.0;
    const auto error =
        event_parser.parse(simdjson::padded_string(outcome.event_value))["data"].get(data);
    if (error || data["store_id"].get(store_id) || data["location"].get(location) ||
        data["confidence"].get(confidence)) {
      throw std::runtime_error("an event the simulator cannot read: " +
                               std::string(outcome.event_value));
    }
    const auto found = location_by_key.find(location_key(store_id, location));
    if (found == location_by_key.end()) {
      throw std::runtime_error("an event names a location not in the registry: " +
                               std::string(location));
    }
    return EmittedEvent{customer, outcome.detected_at_ms, found->second, outcome.identification,
                        confidence};
  }

  RoomCalibration room_calibration() const {
    const LocationFilter filter(options.score);
    RoomCalibration room;
    double installed = 0.0;
    double used = 0.0;
    for (std::size_t s = 0; s < plan.stores().size(); ++s) {
      const StorePlan& store = plan.stores()[s];
      if (!settings.store.empty() && settings.store != store.layout.store_id) continue;
      for (std::size_t b = 0; b < store.beacons.size(); ++b) {
        const BeaconEntry& entry = *store.beacons[b].entry;
        if (entry.status != EntryStatus::active) continue;
        const double real = real_tx_power_dbm[s][b];
        const double as_installed = store.beacons[b].tx_power_dbm - real;
        const double as_used =
            filter.tx_power_dbm(entry, BeaconTrack{}, *registry, &partition.room()) - real;
        ++room.beacons;
        if (partition.room().find(entry.beacon_id) == nullptr) continue;
        ++room.learnt;
        installed += as_installed * as_installed;
        used += as_used * as_used;
      }
    }
    if (room.learnt > 0) {
      room.installed_rms_db = std::sqrt(installed / static_cast<double>(room.learnt));
      room.used_rms_db = std::sqrt(used / static_cast<double>(room.learnt));
    }
    return room;
  }

  SimulationResult run() {
    std::priority_queue<Scan, std::vector<Scan>, std::greater<>> scans;
    for (std::size_t i = 0; i < customers.size(); ++i) {
      Customer& c = customers[i];
      const EpochMs first_ms =
          c.itinerary.begin_ms() +
          static_cast<EpochMs>(c.rng.uniform(0.0, settings.phone.scan_period_s * 1000.0));
      if (first_ms < c.itinerary.end_ms()) scans.push(Scan{first_ms, i});
      // Its gateway delivers it in Kafka timestamp order among the readings.
      if (c.qr && settings.model == Model::stages) send_qr(i);
    }
    while (!scans.empty()) {
      const Scan next = scans.top();
      scans.pop();
      deliver_until(next.t_ms);
      scan(next.customer, next.t_ms);
      const EpochMs following_ms = next_scan_after(customers[next.customer], next.t_ms);
      if (following_ms < customers[next.customer].itinerary.end_ms()) {
        scans.push(Scan{following_ms, next.customer});
      }
    }
    deliver_until(std::numeric_limits<EpochMs>::max());
    result.counts.room = room_calibration();
    return std::move(result);
  }
};

Simulator::Simulator(std::shared_ptr<const Registry> registry, FloorPlan plan,
                     TopologyOptions options, SimSettings settings)
    : impl_(std::make_unique<Impl>(std::move(registry), std::move(plan), options,
                                   std::move(settings))) {}

Simulator::~Simulator() = default;

SimulationResult Simulator::run() {
  return impl_->run();
}

}  // namespace tastesync::sim
