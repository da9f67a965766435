#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/event_time.hpp"
#include "common/uuid.hpp"

namespace tastesync {

// A beacon's power at 1 m as one input partition's QR scans taught it (docs/scoring.md,
// "Learning the room from QR scans"), checkpointed.
struct LearnedLevelRow {
  Uuid beacon_id{};
  std::int32_t partition = 0;
  double tx_power_dbm = 0.0;
  double scans = 0.0;
  EpochMs learned_at_ms = 0;
};

// Upserts the rows into beacon_learned_levels (a row older than the stored one loses) and sets
// each of their beacons' learned_tx_power, learned_scans and learned_at to the scans-weighted
// mean over its partitions, in one transaction (docs/contract.md#postgres).
void export_learned_levels(pqxx::connection& connection, std::span<const LearnedLevelRow> rows);

// Hands checkpointed levels from the pipeline thread to the exporter: the newest row per beacon
// and partition, so it holds at most one per beacon of the registry per partition.
class LearnedLevelFeed {
 public:
  void publish(const LearnedLevelRow& row);
  std::vector<LearnedLevelRow> take();
  // Rows an export failed to write, back for the next attempt (newer ones published meanwhile
  // win).
  void put_back(const std::vector<LearnedLevelRow>& rows);

 private:
  void keep_newest(const LearnedLevelRow& row);

  std::mutex mutex_;
  std::map<std::pair<Uuid, std::int32_t>, LearnedLevelRow> pending_;
};

// Writes what the feed holds to PostgreSQL every `interval`, and once more when stopped; a
// database outage keeps the rows for the next attempt and never slows the pipeline.
class LearnedLevelExporter {
 public:
  LearnedLevelExporter(std::string dsn, std::chrono::milliseconds interval,
                       std::shared_ptr<LearnedLevelFeed> feed);
  ~LearnedLevelExporter();
  LearnedLevelExporter(const LearnedLevelExporter&) = delete;
  LearnedLevelExporter& operator=(const LearnedLevelExporter&) = delete;

 private:
  void run(const std::stop_token& stop);
  void export_pending();

  std::string dsn_;
  std::chrono::milliseconds interval_;
  std::shared_ptr<LearnedLevelFeed> feed_;
  std::unique_ptr<pqxx::connection> connection_;
  std::jthread thread_;
};

}  // namespace tastesync
