#include "registry/learned_levels.hpp"

#include <spdlog/spdlog.h>

#include "common/clock.hpp"
#include "db/postgres.hpp"

namespace tastesync {

void export_learned_levels(pqxx::connection& connection, std::span<const LearnedLevelRow> rows) {
  if (rows.empty()) return;
  pqxx::work work(connection, "export learned levels");
  for (const LearnedLevelRow& row : rows) {
    // A beacon deleted from the registry since is skipped, not an error.
    work.exec_params(
        "INSERT INTO beacon_learned_levels (beacon_id, input_partition, learned_tx_power, scans,"
        " learned_at) SELECT $1::uuid, $2, $3, $4, to_timestamp($5::double precision / 1000)"
        " WHERE EXISTS (SELECT 1 FROM beacons WHERE beacon_id = $1::uuid)"
        " ON CONFLICT (beacon_id, input_partition) DO UPDATE SET"
        " learned_tx_power = EXCLUDED.learned_tx_power, scans = EXCLUDED.scans,"
        " learned_at = EXCLUDED.learned_at"
        " WHERE beacon_learned_levels.learned_at <= EXCLUDED.learned_at",
        format_uuid_string(row.beacon_id), row.partition, row.tx_power_dbm, row.scans,
        static_cast<double>(row.learned_at_ms));
  }
  // Only the beacons just exported, and only the learnt columns (which wake no registry
  // watcher: schemas/postgres/002_learned_levels.sql).
  std::string ids = "{";
  for (const LearnedLevelRow& row : rows) {
    if (ids.size() > 1) ids += ',';
    ids += format_uuid_string(row.beacon_id);
  }
  ids += '}';
  work.exec_params(
      "UPDATE beacons b SET learned_tx_power = l.tx_power, learned_scans = l.scans,"
      " learned_at = l.learned_at FROM (SELECT beacon_id,"
      " sum(learned_tx_power * scans) / sum(scans) AS tx_power, sum(scans) AS scans,"
      " max(learned_at) AS learned_at FROM beacon_learned_levels"
      " WHERE beacon_id = ANY($1::uuid[]) GROUP BY beacon_id) l WHERE b.beacon_id = l.beacon_id",
      ids);
  work.commit();
}

void LearnedLevelFeed::keep_newest(const LearnedLevelRow& row) {
  auto [it, inserted] = pending_.try_emplace({row.beacon_id, row.partition}, row);
  if (!inserted && it->second.learned_at_ms <= row.learned_at_ms) it->second = row;
}

void LearnedLevelFeed::publish(const LearnedLevelRow& row) {
  const std::lock_guard lock(mutex_);
  keep_newest(row);
}

std::vector<LearnedLevelRow> LearnedLevelFeed::take() {
  const std::lock_guard lock(mutex_);
  std::vector<LearnedLevelRow> rows;
  rows.reserve(pending_.size());
  for (const auto& [key, row] : pending_) rows.push_back(row);
  pending_.clear();
  return rows;
}

void LearnedLevelFeed::put_back(const std::vector<LearnedLevelRow>& rows) {
  const std::lock_guard lock(mutex_);
  for (const LearnedLevelRow& row : rows) keep_newest(row);
}

LearnedLevelExporter::LearnedLevelExporter(std::string dsn, std::chrono::milliseconds interval,
                                           std::shared_ptr<LearnedLevelFeed> feed)
    : dsn_(std::move(dsn)), interval_(interval), feed_(std::move(feed)) {
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

LearnedLevelExporter::~LearnedLevelExporter() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void LearnedLevelExporter::run(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    sleep_unless_stopped(interval_, stop);
    export_pending();
  }
}

void LearnedLevelExporter::export_pending() {
  std::vector<LearnedLevelRow> rows = feed_->take();
  if (rows.empty()) return;
  try {
    if (!connection_) connection_ = connect_postgres(dsn_, "tastesync-learned-levels");
    export_learned_levels(*connection_, rows);
    spdlog::debug("learned levels: {} exported to PostgreSQL", rows.size());
  } catch (const std::exception& e) {
    connection_.reset();
    feed_->put_back(rows);
    spdlog::warn("learned levels: export to PostgreSQL failed ({}); {} kept for the next attempt",
                 e.what(), rows.size());
  }
}

}  // namespace tastesync
