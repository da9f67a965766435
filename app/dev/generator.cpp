// The embedded default's generator (docs/contract.md#embedded-default): simulated customers
// walking a floor with realistic RSSI, QR scans and a share of hostile records, and the producer
// that sends them. Just over 400 lines: the simulation and its producer are one tool for
// development, used nowhere else.
#include "app/dev/generator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <map>
#include <queue>
#include <stdexcept>
#include <thread>

#include "common/uuid.hpp"
#include "kafka/kafka.hpp"

namespace tastesync {
namespace {

constexpr double kBeaconsHeardPerScan = 3.0;  // typical, to derive the scan period from the rate
constexpr double kPathLossExponent = 2.2;
constexpr double kShadowingSigmaDb = 4.0;

struct Spot {
  std::uint32_t location_index;
  double x_m;  // locations of a store sit on a line: entrance, tables 2.5 m apart, counter
  std::vector<const BeaconEntry*> beacons;
  std::string qr_code;  // empty: none
};

struct Store {
  std::vector<Spot> spots;  // [0] is the entrance when the store has one
  std::vector<std::size_t> tables;
  std::optional<std::size_t> counter;
};

enum class Phase { away, entrance, table, counter };

struct Customer {
  std::string id;
  Phase phase = Phase::away;
  EpochMs phase_end_ms = 0;
  EpochMs next_scan_ms = 0;
  std::size_t store = 0;
  std::size_t spot = 0;
  std::string_view platform;
  int device_offset_db = 0;  // phones differ by several dB at the same spot
};

std::string random_uuid(std::mt19937_64& rng) {
  Uuid uuid{};
  const std::uint64_t high = rng();
  const std::uint64_t low = rng();
  for (std::size_t i = 0; i < 8; ++i) {
    uuid[i] = static_cast<std::uint8_t>(high >> (8 * i));
    uuid[i + 8] = static_cast<std::uint8_t>(low >> (8 * i));
  }
  uuid[6] = static_cast<std::uint8_t>((uuid[6] & 0x0f) | 0x40);
  uuid[8] = static_cast<std::uint8_t>((uuid[8] & 0x3f) | 0x80);
  return format_uuid_string(uuid);
}

}  // namespace

struct SightingGenerator::Impl {
  GeneratorOptions options;
  std::shared_ptr<const Registry> registry;
  std::vector<Store> stores;
  std::vector<Customer> customers;
  std::mt19937_64 rng;
  std::deque<GeneratedRecord> ready;
  EpochMs scan_period_ms = 1000;
  EpochMs sim_now_ms = 0;
  bool started = false;

  Impl(std::shared_ptr<const Registry> reg, GeneratorOptions opts)
      : options(opts), registry(std::move(reg)), rng(opts.seed) {
    build_stores();
    if (stores.empty()) throw std::runtime_error("the registry has no store with a table");
    const double rate = options.rate_per_s > 0 ? options.rate_per_s : 1000.0;
    scan_period_ms = std::max<EpochMs>(
        1, static_cast<EpochMs>(options.customers * kBeaconsHeardPerScan / rate * 1000.0));
    for (int i = 0; i < options.customers; ++i) {
      Customer customer;
      customer.id = fmt::format("cust{:04d}", i + 1);
      customer.platform = rng() % 2 == 0 ? "ios" : "android";
      customer.device_offset_db = static_cast<int>(rng() % 7) - 3;
      customers.push_back(std::move(customer));
    }
  }

  void build_stores() {
    std::map<std::string, Store> by_store;
    std::map<std::uint32_t, std::size_t> spot_of_location;
    const auto& locations = registry->locations();
    for (std::uint32_t i = 0; i < locations.size(); ++i) {
      Store& store = by_store[locations[i].store_id];
      spot_of_location[i] = store.spots.size();
      store.spots.push_back(Spot{i, 0.0, {}, {}});
    }
    for (const BeaconEntry& beacon : registry->beacons()) {
      const Location& location = registry->location(beacon.location_index);
      Store& store = by_store[location.store_id];
      store.spots[spot_of_location[beacon.location_index]].beacons.push_back(&beacon);
    }
    for (const QrEntry& qr : registry->qr_codes()) {
      const Location& location = registry->location(qr.location_index);
      by_store[location.store_id].spots[spot_of_location[qr.location_index]].qr_code = qr.code;
    }
    for (auto& [store_id, store] : by_store) {
      // Entrance first, tables by name, counter last; positions along a line.
      std::stable_sort(store.spots.begin(), store.spots.end(), [&](const Spot& a, const Spot& b) {
        const Location& la = registry->location(a.location_index);
        const Location& lb = registry->location(b.location_index);
        if (la.type != lb.type) return la.type < lb.type;
        return la.name < lb.name;
      });
      double x = 0.0;
      for (std::size_t i = 0; i < store.spots.size(); ++i) {
        const LocationType type = registry->location(store.spots[i].location_index).type;
        x += type == LocationType::table ? 2.5 : 4.0;
        store.spots[i].x_m = x;
        if (type == LocationType::table) store.tables.push_back(i);
        if (type == LocationType::counter) store.counter = i;
      }
      if (!store.tables.empty()) stores.push_back(std::move(store));
    }
  }

  double uniform(double low, double high) {
    return std::uniform_real_distribution<double>(low, high)(rng);
  }
  EpochMs dwell_ms(double low_s, double high_s) {
    return static_cast<EpochMs>(uniform(low_s, high_s) * 1000.0);
  }

  void enter_phase(Customer& c, Phase phase, EpochMs now_ms) {
    c.phase = phase;
    const Store& store = stores[c.store];
    switch (phase) {
      case Phase::away:
        c.phase_end_ms = now_ms + dwell_ms(10, 60);
        break;
      case Phase::entrance:
        c.store = static_cast<std::size_t>(rng() % stores.size());
        c.spot = 0;
        c.phase_end_ms = now_ms + dwell_ms(3, 8);
        break;
      case Phase::table: {
        const Store& visited = stores[c.store];
        c.spot = visited.tables[rng() % visited.tables.size()];
        c.phase_end_ms = now_ms + dwell_ms(40, 240);
        break;
      }
      case Phase::counter:
        c.spot = store.counter.value_or(0);
        c.phase_end_ms = now_ms + dwell_ms(10, 30);
        break;
    }
  }

  void advance_phase(Customer& c, EpochMs now_ms) {
    while (now_ms >= c.phase_end_ms) {
      switch (c.phase) {
        case Phase::away:
          enter_phase(c, Phase::entrance, c.phase_end_ms);
          break;
        case Phase::entrance:
          enter_phase(c, Phase::table, c.phase_end_ms);
          if (!stores[c.store].spots[c.spot].qr_code.empty() && uniform(0, 1) < 0.1) {
            pending_qr = true;
          }
          break;
        case Phase::table:
          enter_phase(c,
                      stores[c.store].counter && uniform(0, 1) < 0.5 ? Phase::counter : Phase::away,
                      c.phase_end_ms);
          break;
        case Phase::counter:
          enter_phase(c, Phase::away, c.phase_end_ms);
          break;
      }
    }
  }

  std::string sighting_json(const Customer& c, const std::string& sighting_id,
                            const BeaconEntry& beacon, int rssi, EpochMs detected_at_ms) {
    const CanonicalTime t = format_canonical(detected_at_ms);
    return fmt::format(
        R"({{"sighting_id":"{}","customer_id":"{}","source":"beacon","beacon":{{"uuid":"{}",)"
        R"("major":{},"minor":{},"rssi":{},"tx_power":-59}},"detected_at":"{}",)"
        R"("device":{{"platform":"{}"}}}})",
        sighting_id, c.id, format_uuid_string(beacon.uuid), beacon.major, beacon.minor, rssi,
        std::string_view(t.data(), t.size()), c.platform);
  }

  void add(const Customer& c, std::string value, EpochMs detected_at_ms) {
    GeneratedRecord record{c.id, std::move(value), detected_at_ms + 50};
    if (uniform(0, 1) < options.bad_ratio) break_record(record, c, detected_at_ms);
    ready.push_back(std::move(record));
  }

  void break_record(GeneratedRecord& record, const Customer& c, EpochMs detected_at_ms) {
    switch (rng() % 7) {
      case 0:
        record.value = "hello";
        break;
      case 1:
        record.value.resize(record.value.size() / 2);
        break;
      case 2: {
        const auto pos = record.value.find("\"rssi\":");
        if (pos != std::string::npos) {
          record.value.replace(pos, record.value.find(',', pos) - pos, "\"rssi\":0");
        }
        break;
      }
      case 3:
        record.key = c.id + "-other";
        break;
      case 4:
        record.key.reset();
        break;
      case 5: {
        const CanonicalTime old = format_canonical(detected_at_ms - 3 * 86400000LL);
        const CanonicalTime now = format_canonical(detected_at_ms);
        const auto pos = record.value.find(std::string_view(now.data(), now.size()));
        if (pos != std::string::npos) record.value.replace(pos, now.size(), old.data(), old.size());
        break;
      }
      default:
        record.value.insert(record.value.size() - 1, R"(,"sighting_id":"dup")");
        break;
    }
  }

  void scan(Customer& c, EpochMs scan_ms, EpochMs stamp_ms) {
    advance_phase(c, scan_ms);
    if (pending_qr) {
      pending_qr = false;
      const CanonicalTime t = format_canonical(stamp_ms);
      add(c,
          fmt::format(
              R"({{"sighting_id":"{}","customer_id":"{}","source":"qr","qr":{{"code":"{}"}},)"
              R"("detected_at":"{}"}})",
              random_uuid(rng), c.id, stores[c.store].spots[c.spot].qr_code,
              std::string_view(t.data(), t.size())),
          stamp_ms);
    }
    if (c.phase == Phase::away) return;
    const Store& store = stores[c.store];
    const Spot& here = store.spots[c.spot];
    std::normal_distribution<double> shadowing(0.0, kShadowingSigmaDb);
    for (const Spot& spot : store.spots) {
      const double distance = &spot == &here ? uniform(0.3, 1.0) : std::abs(spot.x_m - here.x_m);
      // A one-second scan misses even near beacons a good share of the time (UJI data).
      const double heard = &spot == &here ? 0.85 : std::max(0.05, 0.7 - 0.08 * distance);
      for (const BeaconEntry* beacon : spot.beacons) {
        if (uniform(0, 1) > heard) continue;
        const double rssi = beacon->tx_power_dbm.value_or(-59) -
                            10.0 * kPathLossExponent * std::log10(distance) + shadowing(rng) +
                            c.device_offset_db;
        const int rounded = std::clamp(static_cast<int>(std::lround(rssi)), -100, -30);
        if (rounded <= -95) continue;
        add(c, sighting_json(c, random_uuid(rng), *beacon, rounded, stamp_ms), stamp_ms);
      }
    }
    if (uniform(0, 1) < 0.05) {  // a beacon of another chain next door: an unknown_beacon drop
      BeaconEntry foreign;
      foreign.uuid = *parse_uuid("e2c56db5-dffb-48d2-b060-d0f5a71096e0");
      foreign.major = 7;
      foreign.minor = static_cast<std::uint16_t>(rng() % 50);
      add(c, sighting_json(c, random_uuid(rng), foreign, -85, stamp_ms), stamp_ms);
    }
  }

  void refill(EpochMs now_ms) {
    if (!started) {
      started = true;
      sim_now_ms = options.start_time_ms.value_or(now_ms);
      for (Customer& c : customers) {
        // Stagger arrivals so the first minute is not one crowd at the door.
        c.phase_end_ms = sim_now_ms + static_cast<EpochMs>(uniform(0, 20000));
        c.next_scan_ms =
            sim_now_ms + static_cast<EpochMs>(uniform(0, static_cast<double>(scan_period_ms)));
      }
    }
    while (ready.empty()) {
      auto next = std::min_element(
          customers.begin(), customers.end(),
          [](const Customer& a, const Customer& b) { return a.next_scan_ms < b.next_scan_ms; });
      sim_now_ms = next->next_scan_ms;
      next->next_scan_ms += scan_period_ms;
      const EpochMs stamp = options.start_time_ms ? sim_now_ms : now_ms;
      scan(*next, sim_now_ms, stamp);
    }
  }

  bool pending_qr = false;
};

SightingGenerator::SightingGenerator(std::shared_ptr<const Registry> registry,
                                     GeneratorOptions options)
    : impl_(std::make_unique<Impl>(std::move(registry), options)) {}

SightingGenerator::~SightingGenerator() = default;

GeneratedRecord SightingGenerator::next(EpochMs now_ms) {
  impl_->refill(now_ms);
  GeneratedRecord record = std::move(impl_->ready.front());
  impl_->ready.pop_front();
  return record;
}

double SightingGenerator::interval_s() const {
  return impl_->options.rate_per_s > 0 ? 1.0 / impl_->options.rate_per_s : 0.0;
}

namespace {

struct DeliveryCounts {
  std::int64_t delivered = 0;
  std::int64_t failed = 0;
  std::string last_error;
};

void count_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* opaque) {
  auto& counts = *static_cast<DeliveryCounts*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++counts.delivered;
  } else {
    ++counts.failed;
    counts.last_error = rd_kafka_err2str(message->err);
  }
}

}  // namespace

std::int64_t publish_generated(const std::string& brokers, const std::string& topic,
                               std::shared_ptr<const Registry> registry,
                               const GeneratorOptions& options, const std::stop_token& stop) {
  DeliveryCounts counts;
  KafkaConf conf = make_kafka_conf({{"bootstrap.servers", brokers},
                                    {"partitioner", "murmur2_random"},
                                    {"enable.idempotence", "true"},
                                    {"linger.ms", "5"},
                                    {"socket.nagle.disable", "true"},
                                    // Back ~0.6 s after an outage, not up to 8.5 s
                                    // (docs/platform.md#mock-outages).
                                    {"reconnect.backoff.max.ms", "1000"}},
                                   "generator");
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &count_delivery);
  rd_kafka_conf_set_opaque(conf.get(), &counts);
  const KafkaHandle producer = make_kafka_handle(RD_KAFKA_PRODUCER, std::move(conf));
  const KafkaTopic handle(rd_kafka_topic_new(producer.get(), topic.c_str(), nullptr));

  SightingGenerator generator(std::move(registry), options);
  const double interval_s = generator.interval_s();
  const auto started = std::chrono::steady_clock::now();
  std::int64_t produced = 0;
  while (!stop.stop_requested() && (options.count < 0 || produced < options.count)) {
    if (interval_s > 0) {
      // Hold the rate without sleeping per record: sleep only when more than 2 ms ahead.
      const auto due =
          started + std::chrono::duration<double>(interval_s * static_cast<double>(produced));
      if (due - std::chrono::steady_clock::now() > std::chrono::milliseconds(2)) {
        std::this_thread::sleep_until(due);
      }
    }
    const EpochMs now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    const GeneratedRecord record = generator.next(now_ms);
    // librdkafka's V_ macros cast their arguments: compute them first.
    void* key = record.key ? const_cast<char*>(record.key->data()) : nullptr;
    const std::size_t key_size = record.key ? record.key->size() : 0;
    const std::int64_t timestamp = options.start_time_ms ? record.timestamp_ms : 0;
    while (true) {
      const auto err = rd_kafka_producev(
          producer.get(), RD_KAFKA_V_RKT(handle.get()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key, key_size),
          RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
          RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        throw std::runtime_error("producing to " + topic + ": " + rd_kafka_err2str(err));
      }
      if (stop.stop_requested()) break;
      rd_kafka_poll(producer.get(), 10);
    }
    ++produced;
    rd_kafka_poll(producer.get(), 0);
    if (counts.failed > 0) {
      throw std::runtime_error("delivering to " + topic + " failed: " + counts.last_error);
    }
  }
  while (rd_kafka_outq_len(producer.get()) > 0 && !stop.stop_requested()) {
    rd_kafka_poll(producer.get(), 100);
  }
  rd_kafka_flush(producer.get(), 10000);
  if (counts.failed > 0) {
    throw std::runtime_error("delivering to " + topic + " failed: " + counts.last_error);
  }
  return counts.delivered;
}

}  // namespace tastesync
