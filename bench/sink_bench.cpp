// Sink figures for issue 8: rows/s into PostgreSQL and events/s into Redis through the real
// writers, each against a baseline measured in the same run on the same server; and how long a
// PostgreSQL sink takes to drain the lag a 60 s outage left. Starts its own private PostgreSQL and
// Redis (the test servers), so it needs the packages of scripts/install-deps.sh and nothing else.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "app/dev/mock_cluster.hpp"
#include "common/clock.hpp"
#include "common/event_time.hpp"
#include "db/migrations.hpp"
#include "db/postgres.hpp"
#include "kafka/kafka.hpp"
#include "sinks/event/sink_event.hpp"
#include "sinks/postgres/postgres_writer.hpp"
#include "sinks/redis/redis_writer.hpp"
#include "sinks/redis_sink_writer.hpp"
#include "sinks/sink_runner.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/redis_test_server.hpp"

namespace tastesync::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string uuid_for(std::int64_t i) {
  char text[40];
  std::snprintf(text, sizeof text, "%08llx-0000-5000-8000-%012llx",
                static_cast<unsigned long long>(i >> 16), static_cast<unsigned long long>(i));
  return text;
}

// The customers the events go round by default: a batch of the sink's default size then holds a
// customer's events several times, which its PostgreSQL upsert aggregates (--customers changes
// it: docs/bench.md#issue-17-18).
constexpr std::int64_t kCustomers = 1000;

// A CustomerIdentified v1 record as the pipeline writes it: event i of `customers` going round,
// 5 ms apart.
std::string event_json(std::int64_t i, EpochMs start_ms, std::int64_t customers = kCustomers) {
  char text[1024];
  std::snprintf(
      text, sizeof text,
      R"({"event_id":"%s","event_type":"CustomerIdentified","timestamp":"%s","version":"v1",)"
      R"("data":{"customer_id":"cust%lld","location":"Table %lld","confidence":0.913,)"
      R"("beacon":{"uuid":"550e8400-e29b-41d4-a716-446655440000","major":100,"minor":%lld,"rssi":-52},)"
      R"("detected_at":"%s","store_id":"store%lld","location_type":"table","source":"beacon",)"
      R"("beacon_id":"%s","sighting_id":"s%lld","identification":"move"}})",
      uuid_for(i).c_str(), format_canonical_string(start_ms + i * 5).c_str(),
      static_cast<long long>(i % customers), static_cast<long long>(i % 12 + 1),
      static_cast<long long>(i % 12 + 1), format_canonical_string(start_ms + i * 5).c_str(),
      static_cast<long long>(i % 10), uuid_for(1000000000 + i % 120).c_str(),
      static_cast<long long>(i));
  return text;
}

// Events first .. first + count - 1: another range gives other ids and later times.
std::vector<SinkEvent> make_events(std::int64_t first, std::int64_t count, EpochMs start_ms,
                                   std::int64_t customers) {
  SinkEventParser parser;
  std::vector<SinkEvent> events;
  events.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = first; i < first + count; ++i) {
    events.push_back(std::move(parser.parse(event_json(i, start_ms, customers)).value()));
  }
  return events;
}

template <typename Write>
double per_second(std::span<const SinkEvent> events, std::size_t batch, Write&& write) {
  const auto start = Clock::now();
  for (std::size_t at = 0; at < events.size(); at += batch) {
    write(events.subspan(at, std::min(batch, events.size() - at)));
  }
  return static_cast<double>(events.size()) / seconds_since(start);
}

using Rounds = std::vector<std::vector<SinkEvent>>;

// This VM's disk and neighbours move a single figure by a factor of two between runs, so baseline
// and writer alternate, each round on events of its own, and the median round is the figure.
struct RoundFigures {
  std::vector<double> baseline;
  std::vector<double> writer;
  std::vector<double> shaped;  // the same writes as the sink's without its checks: the floor
  const char* shaped_name = "shaped COPY";

  void print(const char* unit) const {
    std::vector<double> ratios;
    std::vector<double> shaped_ratios;
    for (std::size_t i = 0; i < writer.size(); ++i) {
      ratios.push_back(writer[i] / baseline[i]);
      std::printf("  round %zu: baseline %9.0f %s, writer %9.0f %s, ratio %.2f", i + 1, baseline[i],
                  unit, writer[i], unit, ratios.back());
      if (i < shaped.size()) {
        shaped_ratios.push_back(shaped[i] / baseline[i]);
        std::printf("; %s %9.0f %s, %.2f of the baseline", shaped_name, shaped[i], unit,
                    shaped_ratios.back());
      }
      std::printf("\n");
    }
    print_median("writer / baseline", ratios);
    if (!shaped_ratios.empty()) {
      const std::string what = std::string(shaped_name) + " / baseline";
      print_median(what.c_str(), shaped_ratios);
    }
  }

  static void print_median(const char* what, std::vector<double> ratios) {
    std::ranges::sort(ratios);
    std::printf("  %s: median %.2f (range %.2f-%.2f)\n", what, ratios[ratios.size() / 2],
                ratios.front(), ratios.back());
  }
};

// redis-server's own CPU seconds (user + system), from INFO cpu.
double redis_cpu_seconds(RedisConnection& connection) {
  auto reply = connection.command(std::array<std::string_view, 2>{"INFO", "cpu"});
  if (!reply) throw std::runtime_error("redis INFO cpu failed");
  const std::string text(reply_text(**reply));
  double total = 0;
  for (const char* field : {"used_cpu_user:", "used_cpu_sys:"}) {
    const auto at = text.find(field);
    if (at == std::string::npos)
      throw std::runtime_error("redis INFO cpu: no " + std::string(field));
    total += std::stod(text.substr(at + std::strlen(field)));
  }
  return total;
}

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// Where an event's microseconds go in one side's rounds: wall, the server's CPU, this thread's.
struct CpuPerEvent {
  double wall_us = 0;
  double server_us = 0;
  double client_us = 0;
  std::size_t events = 0;

  void print(const char* who, const char* server) const {
    const auto n = static_cast<double>(events);
    std::printf("  %s: %.1f us wall, %.1f us %s CPU, %.1f us client CPU per event\n", who,
                wall_us / n, server_us / n, server, client_us / n);
  }
};

// The bench and the server share this VM's cores, so these figures say which side of the
// socket an event's time is spent on. `server_cpu` reads the server's CPU seconds so far.
template <typename ServerCpu, typename Write>
double timed(CpuPerEvent& into, ServerCpu&& server_cpu, std::span<const SinkEvent> events,
             std::size_t batch, Write&& write) {
  const double server_before = server_cpu();
  const double client_before = thread_cpu_seconds();
  const double rate = per_second(events, batch, write);
  into.client_us += (thread_cpu_seconds() - client_before) * 1e6;
  into.server_us += (server_cpu() - server_before) * 1e6;
  into.wall_us += static_cast<double>(events.size()) / rate * 1e6;
  into.events += events.size();
  return rate;
}

// PostgreSQL's CPU seconds (user + system): the postmaster and every process it started (the
// backends of the bench's connections, the WAL writer, the checkpointer, ...), from /proc.
double postgres_cpu_seconds(int postmaster) {
  double ticks = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream file(entry.path() / "stat");
    std::string stat;
    if (!std::getline(file, stat)) continue;  // gone meanwhile
    const auto after_name = stat.rfind(')');
    if (after_name == std::string::npos) continue;
    std::istringstream fields(stat.substr(after_name + 2));
    std::string state;
    long long parent = 0;
    fields >> state >> parent;
    if (std::stoi(name) != postmaster && parent != postmaster) continue;
    std::string skip;
    for (int field = 5; field < 14; ++field) fields >> skip;  // fields 5-13
    long long user = 0;
    long long system = 0;
    fields >> user >> system;
    ticks += static_cast<double>(user + system);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The postmaster is the parent of the backend serving `connection`.
int postmaster_of(pqxx::connection& connection) {
  const int backend =
      pqxx::nontransaction(connection).exec1("SELECT pg_backend_pid()")[0].as<int>();
  std::ifstream file("/proc/" + std::to_string(backend) + "/stat");
  std::string stat;
  std::getline(file, stat);
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string state;
  int parent = 0;
  fields >> state >> parent;
  return parent;
}

void postgres_throughput(const Rounds& rounds, std::size_t batch) {
  testing::PostgresServer server;
  const std::string dsn = server.create_database();
  auto connection = connect_postgres(dsn, "sink-bench");
  (void)migrate(*connection, wall_clock_ms());
  // Baseline: the bytes alone, COPY into an unindexed, unpartitioned table, one transaction per
  // batch, the same columns.
  pqxx::nontransaction(*connection)
      .exec(
          "CREATE UNLOGGED TABLE plain (LIKE customer_identities) ; ALTER TABLE plain SET LOGGED");
  const std::vector<std::string> columns = {
      "event_id", "customer_id",   "beacon_id", "qr_code",    "source",         "sighting_id",
      "location", "location_type", "store_id",  "confidence", "identification", "detected_at"};
  // The floor for any writer of customer_identities: the same COPY into a table with its
  // partitions, CHECKs and indexes (docs/contract.md#postgres), no conflict handling, no
  // customers upsert.
  pqxx::nontransaction(*connection)
      .exec(
          "CREATE TABLE shaped (LIKE customer_identities INCLUDING ALL)"
          " PARTITION BY RANGE (detected_at);"
          " DO $$ DECLARE p record; BEGIN"
          " FOR p IN SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound"
          " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
          " WHERE i.inhparent = 'customer_identities'::regclass LOOP"
          " EXECUTE format('CREATE TABLE %I PARTITION OF shaped %s', 'shaped_' || p.relname,"
          " p.bound); END LOOP; END $$");
  const auto copy_into = [&](const char* table) {
    return [&connection, &columns, table](std::span<const SinkEvent> part) {
      pqxx::work work(*connection);
      pqxx::stream_to copy(work, table, columns);
      for (const SinkEvent& e : part) {
        copy << std::make_tuple(e.event_id, e.customer_id, e.beacon_id, e.qr_code, e.source,
                                e.sighting_id, e.location, e.location_type, e.store_id,
                                e.confidence, e.identification, e.detected_at);
      }
      copy.complete();
      work.commit();
    };
  };
  const auto copy_plain = copy_into("plain");
  const auto copy_shaped = copy_into("shaped");
  PostgresWriter writer(dsn);
  const auto write = [&](std::span<const SinkEvent> part) {
    if (!writer.write(part, wall_clock_ms())) throw std::runtime_error("postgres write failed");
  };
  const int postmaster = postmaster_of(*connection);
  const auto server_cpu = [postmaster] { return postgres_cpu_seconds(postmaster); };
  RoundFigures figures;
  CpuPerEvent baseline_cpu;
  CpuPerEvent writer_cpu;
  CpuPerEvent shaped_cpu;
  for (const auto& events : rounds) {
    figures.baseline.push_back(timed(baseline_cpu, server_cpu, events, batch, copy_plain));
    figures.writer.push_back(timed(writer_cpu, server_cpu, events, batch, write));
    figures.shaped.push_back(timed(shaped_cpu, server_cpu, events, batch, copy_shaped));
  }
  const double again = per_second(rounds.back(), batch, write);
  std::printf(
      "postgres: %zu rounds of %zu events in batches of %zu; baseline COPY into a plain table, "
      "writer PostgresWriter (new rows), rows/s\n",
      rounds.size(), rounds.front().size(), batch);
  figures.print("rows/s");
  baseline_cpu.print("baseline", "PostgreSQL");
  writer_cpu.print("writer  ", "PostgreSQL");
  shaped_cpu.print("shaped  ", "PostgreSQL");
  std::printf("  PostgresWriter, the last round again (all conflicts): %9.0f rows/s, %.2f\n", again,
              again / figures.baseline.back());
  std::printf(
      "  PostgresWriter's batches: %zu straight into the table, %zu through the staging table\n",
      writer.paths_taken().direct, writer.paths_taken().staging);
}

void redis_throughput(const Rounds& rounds, std::size_t batch) {
  testing::RedisTestServer server;
  RedisConnection connection(server.options());
  RedisConnection observer(server.options());
  // Baseline: one pipelined HSET of the same customer fields per event, no script.
  const auto hset = [&](std::span<const SinkEvent> part) {
    for (const SinkEvent& e : part) {
      const std::string key = "plain:" + e.customer_id;
      const std::string_view argv[] = {
          "HSET",     key,        "location",    e.location,    "location_type", e.location_type,
          "store_id", e.store_id, "detected_at", e.detected_at, "event_id",      e.event_id};
      connection.append(argv);
    }
    for (std::size_t i = 0; i < part.size(); ++i) {
      if (!connection.get_reply()) throw std::runtime_error("redis baseline failed");
    }
  };
  // The floor for any writer of the contract's layout (docs/contract.md#redis): the writes one
  // event makes there, pipelined, with none of the reads and checks that make them idempotent:
  // the customer hash with its eight fields, its expiry, the present set's ZADD. Beacon hashes and
  // trims, written once per chunk of events, are left out.
  const auto shaped = [&](std::span<const SinkEvent> part) {
    std::size_t commands = 0;
    for (const SinkEvent& e : part) {
      const std::string key = "shaped:" + e.customer_id;
      const std::string present = "shaped:" + e.store_id + ":present";
      const std::string ms = std::to_string(e.detected_at_ms);
      const std::string expiry = std::to_string(e.detected_at_ms + 3600000);
      const std::string_view hset[] = {"HSET",           key,
                                       "location",       e.location,
                                       "location_type",  e.location_type,
                                       "store_id",       e.store_id,
                                       "confidence",     e.confidence,
                                       "detected_at",    e.detected_at,
                                       "event_id",       e.event_id,
                                       "identification", e.identification,
                                       "detected_at_ms", ms};
      const std::string_view pexpireat[] = {"PEXPIREAT", key, expiry};
      const std::string_view zadd[] = {"ZADD", present, "GT", ms, e.customer_id};
      connection.append(hset);
      connection.append(pexpireat);
      connection.append(zadd);
      commands += 3;
    }
    for (std::size_t i = 0; i < commands; ++i) {
      if (!connection.get_reply()) throw std::runtime_error("redis shaped baseline failed");
    }
  };
  RedisWriter writer(server.options());
  const auto write = [&](std::span<const SinkEvent> part) {
    if (auto r = writer.write(part, wall_clock_ms()); !r)
      throw std::runtime_error("redis write failed: " + r.error().message);
  };
  const auto server_cpu = [&observer] { return redis_cpu_seconds(observer); };
  RoundFigures figures;
  CpuPerEvent baseline_cpu;
  CpuPerEvent writer_cpu;
  CpuPerEvent shaped_cpu;
  figures.shaped_name = "shaped writes";
  for (const auto& events : rounds) {
    figures.baseline.push_back(timed(baseline_cpu, server_cpu, events, batch, hset));
    figures.writer.push_back(timed(writer_cpu, server_cpu, events, batch, write));
    figures.shaped.push_back(timed(shaped_cpu, server_cpu, events, batch, shaped));
  }
  std::printf(
      "redis: %zu rounds of %zu events in batches of %zu (appendonly, appendfsync always); "
      "baseline one pipelined HSET per event, writer RedisWriter, events/s\n",
      rounds.size(), rounds.front().size(), batch);
  figures.print("events/s");
  baseline_cpu.print("baseline", "redis-server");
  writer_cpu.print("writer  ", "redis-server");
  shaped_cpu.print("shaped  ", "redis-server");
}

// Events produced at `rate` while PostgreSQL is down for `outage`; then the time until the sink
// has stored them all.
void outage_drain(int rate_per_s, std::chrono::seconds outage) {
  testing::PostgresServer server;
  const std::string dsn = server.create_database();
  {
    auto connection = connect_postgres(dsn, "sink-bench");
    (void)migrate(*connection, wall_clock_ms());
  }
  MockCluster cluster(1);
  cluster.create_topic("customer-events", 6);
  cluster.create_topic("customer-events-sink-dlq", 6);
  KafkaHandle producer = make_kafka_handle(
      RD_KAFKA_PRODUCER,
      make_kafka_conf({{"bootstrap.servers", cluster.bootstrap_servers()}, {"linger.ms", "5"}},
                      "bench"));
  prometheus::Registry registry;
  SinkMetricFamilies families(registry);
  SinkRunnerOptions options;
  options.brokers = cluster.bootstrap_servers();
  options.group_id = "bench-sink-postgres";
  SinkRunner runner(options, std::make_unique<PostgresWriter>(dsn), families);
  std::jthread sink([&](const std::stop_token& stop) { runner.run(stop); });

  const EpochMs start_ms = wall_clock_ms();
  std::int64_t produced = 0;
  const auto produce_for = [&](std::chrono::seconds duration) {
    const auto until = Clock::now() + duration;
    const auto period = std::chrono::microseconds(1000000 / rate_per_s);
    auto next = Clock::now();
    while (Clock::now() < until) {
      const std::string value = event_json(produced++, start_ms);
      rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC("customer-events"),
                        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      rd_kafka_poll(producer.get(), 0);
      next += period;
      std::this_thread::sleep_until(next);
    }
    rd_kafka_flush(producer.get(), 10000);
  };
  const auto stored = [&] {
    try {
      auto connection = connect_postgres(dsn, "sink-bench");
      pqxx::read_transaction read(*connection);
      return read.exec1("SELECT count(*) FROM customer_identities")[0].as<std::int64_t>();
    } catch (const std::exception&) {
      return std::int64_t{-1};
    }
  };
  produce_for(std::chrono::seconds(5));
  server.stop(true);
  produce_for(outage);
  const std::int64_t backlog_before = produced;
  server.start();
  const auto restarted = Clock::now();
  std::thread more([&] { produce_for(std::chrono::seconds(5)); });
  while (stored() < backlog_before) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const double drained = seconds_since(restarted);
  more.join();
  std::printf(
      "outage: PostgreSQL down %lld s while %d events/s flowed (%lld events by the restart);\n"
      "  every one of them stored %.1f s after the restart\n",
      static_cast<long long>(outage.count()), rate_per_s, static_cast<long long>(backlog_before),
      drained);
  sink.request_stop();
}

// How long after its delivery to customer-events an event is in Redis, through the whole Redis
// sink (SinkRunner and RedisWriter) on a quiet topic of `partitions` partitions: one event at a
// time, `gap` apart, each of a customer of its own on a partition of the producer's choosing
// (no key). A restaurant's app reads the customer's key, so this is how stale it can be.
void freshness(int count, int partitions, std::chrono::milliseconds gap) {
  testing::RedisTestServer server;
  RedisConnection observer(server.options());
  MockCluster cluster(1);
  cluster.create_topic("customer-events", partitions);
  cluster.create_topic("customer-events-sink-dlq", partitions);
  KafkaHandle producer = make_kafka_handle(
      RD_KAFKA_PRODUCER,
      make_kafka_conf({{"bootstrap.servers", cluster.bootstrap_servers()}, {"linger.ms", "0"}},
                      "bench"));
  prometheus::Registry registry;
  SinkMetricFamilies families(registry);
  SinkRunnerOptions options;
  options.brokers = cluster.bootstrap_servers();
  options.group_id = "bench-sink-redis";
  RedisConfig redis;
  redis.address = "127.0.0.1:" + std::to_string(server.port());
  SinkRunner runner(options, make_redis_sink_writer(redis), families);
  std::jthread sink([&](const std::stop_token& stop) { runner.run(stop); });

  // Event 0 waits for the group to form; events 1 .. count are timed. Customers of their own:
  // event_json's `i % customers` with more customers than events.
  const EpochMs start_ms = wall_clock_ms();
  const auto stored_after = [&](std::int64_t i, std::chrono::seconds timeout) {
    const std::string value = event_json(i, start_ms, 1000000000);
    rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC("customer-events"),
                      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    rd_kafka_flush(producer.get(), 10000);
    const auto delivered = Clock::now();
    const std::string key = "customer:cust" + std::to_string(i);
    const std::array<std::string_view, 2> exists{"EXISTS", key};
    while (Clock::now() - delivered < timeout) {
      auto reply = observer.command(exists);
      if (reply && (*reply)->integer == 1) return seconds_since(delivered);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    throw std::runtime_error("freshness: event " + std::to_string(i) + " not in Redis after " +
                             std::to_string(timeout.count()) + " s");
  };
  (void)stored_after(0, std::chrono::seconds(60));
  std::vector<double> delays;
  for (std::int64_t i = 1; i <= count; ++i) {
    std::this_thread::sleep_for(gap);
    delays.push_back(stored_after(i, std::chrono::seconds(60)));
  }
  std::ranges::sort(delays);
  std::printf(
      "freshness: %d events, one every %lld ms, on a quiet customer-events of %d partitions: "
      "in Redis after delivery, median %.3f s, 90th percentile %.3f s, longest %.3f s\n",
      count, static_cast<long long>(gap.count()), partitions, delays[delays.size() / 2],
      delays[delays.size() * 9 / 10], delays.back());
  sink.request_stop();
}

}  // namespace
}  // namespace tastesync::bench

int main(int argc, char** argv) try {
  CLI::App app{"tastesync sink figures (issue 8)"};
  std::int64_t events = 200000;
  // As many events per write as the sink's batches hold at most, out of the box.
  auto batch = static_cast<std::size_t>(tastesync::SinkRunnerOptions{}.batch_max_records);
  std::int64_t customers = tastesync::bench::kCustomers;
  int outage_s = 60;
  int rate = 1000;
  std::string sinks = "postgres,redis";
  int rounds = 3;
  int fresh_events = 20;
  int fresh_partitions = 24;
  app.add_option("--events", events, "Events per throughput run")->capture_default_str();
  app.add_option("--batch", batch, "Events per write")->capture_default_str();
  app.add_option("--customers", customers, "Customers the throughput runs' events go round")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000000}));
  app.add_option("--outage", outage_s, "Seconds of PostgreSQL outage (0: skip)")
      ->capture_default_str();
  app.add_option("--rate", rate, "Events/s produced around the outage")->capture_default_str();
  app.add_option("--sinks", sinks, "Which throughputs to measure: postgres, redis or both")
      ->capture_default_str();
  app.add_option("--rounds", rounds, "Alternated baseline and writer rounds")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  app.add_option("--freshness", fresh_events,
                 "Events timed from delivery to Redis on a quiet topic (0: skip)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  app.add_option("--freshness-partitions", fresh_partitions,
                 "customer-events' partitions for --freshness")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);
  const auto start_ms = tastesync::wall_clock_ms() - 60000;
  std::printf("throughput runs: events going round %lld customers, in writes of %zu events\n",
              static_cast<long long>(customers), batch);
  tastesync::bench::Rounds list;
  for (int round = 0; round < rounds; ++round) {
    list.push_back(tastesync::bench::make_events(round * events, events, start_ms, customers));
  }
  if (sinks.find("postgres") != std::string::npos) {
    tastesync::bench::postgres_throughput(list, batch);
  }
  if (sinks.find("redis") != std::string::npos) tastesync::bench::redis_throughput(list, batch);
  if (outage_s > 0) tastesync::bench::outage_drain(rate, std::chrono::seconds(outage_s));
  if (fresh_events > 0) {
    tastesync::bench::freshness(fresh_events, fresh_partitions, std::chrono::milliseconds(300));
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "sink bench: %s\n", e.what());
  return 1;
}
