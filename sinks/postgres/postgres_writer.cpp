#include "sinks/postgres/postgres_writer.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <map>
#include <pqxx/pqxx>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "common/erasure.hpp"
#include "db/migrations.hpp"
#include "sinks/postgres/binary_format.hpp"

namespace tastesync {
namespace {

constexpr const char* kApplicationName = "tastesync-sink-postgres";

// Temporary, so private to the session, and emptied by every commit (and every rollback), so each
// transaction starts from an empty table. LIKE keeps the column order of customer_identities,
// which lets kInsertIdentities use SELECT *.
constexpr const char* kStagingTable = "customer_identities_batch";
constexpr const char* kCreateStaging =
    "CREATE TEMP TABLE customer_identities_batch"
    " (LIKE customer_identities INCLUDING DEFAULTS) ON COMMIT DELETE ROWS";

// In the order of identity_row().
constexpr std::array<const char*, 12> kColumns = {
    "event_id", "customer_id",   "beacon_id", "qr_code",    "source",         "sighting_id",
    "location", "location_type", "store_id",  "confidence", "identification", "detected_at",
};

// COPY has no ON CONFLICT: the unique (detected_at, event_id) is the arbiter here, so a redelivered
// event, and an event twice in one batch, insert nothing.
constexpr const char* kInsertIdentities =
    "INSERT INTO customer_identities SELECT * FROM customer_identities_batch"
    " ON CONFLICT (detected_at, event_id) DO NOTHING";

// One row per customer: an upsert touching a key twice fails with 21000. Ordered so that two sinks
// lock customers rows in the same order instead of deadlocking. GREATEST (which ignores NULL) so
// a late or replayed batch never moves last_seen back.
constexpr const char* kUpsertCustomers =
    "INSERT INTO customers (customer_id, last_seen)"
    " SELECT customer_id, max(detected_at) FROM customer_identities_batch"
    " GROUP BY customer_id ORDER BY customer_id"
    " ON CONFLICT (customer_id) DO UPDATE"
    " SET last_seen = GREATEST(customers.last_seen, EXCLUDED.last_seen)";

// An erasure (docs/operations.md#forget), in the batch's transaction: recorded by hash first, so
// that kSuppressForgotten below also drops this batch's own earlier events of the customer; then
// the rows of before the request go. A row detected after it is a later visit and stays.
constexpr const char* kRecordForgotten =
    "INSERT INTO forgotten_customers (customer_hash, forgotten_at, request_id)"
    " VALUES (encode(sha256(convert_to($1, 'UTF8')), 'hex'), $2, $3)"
    " ON CONFLICT (customer_hash) DO UPDATE"
    " SET forgotten_at = GREATEST(forgotten_customers.forgotten_at, EXCLUDED.forgotten_at),"
    " request_id = CASE WHEN EXCLUDED.forgotten_at >= forgotten_customers.forgotten_at"
    " THEN EXCLUDED.request_id ELSE forgotten_customers.request_id END";
constexpr const char* kDeleteForgottenIdentities =
    "DELETE FROM customer_identities WHERE customer_id = $1 AND detected_at <= $2";
constexpr const char* kDeleteForgottenCustomer =
    "DELETE FROM customers WHERE customer_id = $1 AND (last_seen IS NULL OR last_seen <= $2)";
// No event of an erased customer detected at or before their erasure is stored again, whatever
// offset the sink reads from. A hash join: with no erasure on record it reads nothing.
constexpr const char* kSuppressForgotten =
    "DELETE FROM customer_identities_batch b USING forgotten_customers f"
    " WHERE f.customer_hash = encode(sha256(convert_to(b.customer_id, 'UTF8')), 'hex')"
    " AND b.detected_at <= f.forgotten_at";

// The direct path (docs/storage.md#sinks): COPY straight into customer_identities, whose unique key
// then refuses a redelivered event with 23505 instead of skipping it. COPY cannot aggregate, so the
// batch's customers follow as arrays, one element each: $1 their ids, $2 their first or last
// detected_at in the batch. The COPY has accepted every id by then, so the cast to varchar(64)
// cuts nothing but the trailing spaces the column cuts: two ids it makes one are grouped again
// below, and the erasure check hashes what is stored.
//
// A customer of the batch erased at or after their first event in it: the staging path's
// suppression drops exactly those events, so such a batch takes it.
constexpr const char* kAnyErasedInBatch =
    "SELECT 1 FROM unnest($1::varchar(64)[], $2::timestamptz[]) AS b(customer_id, first_seen)"
    " JOIN forgotten_customers f"
    " ON f.customer_hash = encode(sha256(convert_to(b.customer_id, 'UTF8')), 'hex')"
    " WHERE b.first_seen <= f.forgotten_at LIMIT 1";
// kUpsertCustomers' effect as a MERGE, which updates a stored row straight away where INSERT ...
// ON CONFLICT first probes the key and locks the row, and leaves a row whose last_seen would not
// move (docs/bench.md#issue-17-22). Sorted as kUpsertCustomers is: in a nested loop through the
// key, the plan PostgreSQL 15 picks here (it guesses 100 rows for unnest), two sinks lock rows in
// the same order. A deadlock all the same (under another plan), or a customer another sink
// inserted meanwhile (23505), rolls the batch back to the staging path, whose outcome then
// decides whether the direct path stays on.
constexpr const char* kMergeBatchCustomers =
    "MERGE INTO customers c USING (SELECT customer_id, max(last_seen) AS last_seen"
    " FROM unnest($1::varchar(64)[], $2::timestamptz[]) AS b(customer_id, last_seen)"
    " GROUP BY customer_id ORDER BY customer_id) b ON c.customer_id = b.customer_id"
    " WHEN MATCHED AND (c.last_seen IS NULL OR c.last_seen < b.last_seen)"
    " THEN UPDATE SET last_seen = b.last_seen"
    " WHEN NOT MATCHED THEN INSERT (customer_id, last_seen) VALUES (b.customer_id, b.last_seen)";
constexpr std::string_view kUniqueViolation = "23505";
// The direct path sends its rows in pieces of about this size, so that the server stores the
// first while the client encodes the next.
constexpr std::size_t kCopySendBytes = std::size_t{64} * 1024;

// "COPY table (columns) FROM STDIN (FORMAT binary)".
template <std::size_t N>
std::string binary_copy_statement(std::string_view table,
                                  const std::array<const char*, N>& columns) {
  std::string statement = "COPY " + std::string(table) + " (";
  for (std::size_t column = 0; column < N; ++column) {
    if (column > 0) statement += ", ";
    statement += columns[column];
  }
  return statement + ") FROM STDIN (FORMAT binary)";
}

// The direct path's row of kColumns. False for a value the binary form cannot carry (none that
// SinkEventParser lets through): the staging path's text COPY then judges it.
bool add_identity(BinaryCopyRows& rows, const SinkEvent& event) {
  rows.begin_row(static_cast<std::int16_t>(kColumns.size()));
  if (!rows.uuid(event.event_id)) return false;
  rows.text(event.customer_id);
  if (event.beacon_id) {
    if (!rows.uuid(*event.beacon_id)) return false;
  } else {
    rows.null();
  }
  if (event.qr_code) {
    rows.text(*event.qr_code);
  } else {
    rows.null();
  }
  rows.text(event.source);
  rows.text(event.sighting_id);
  rows.text(event.location);
  rows.text(event.location_type);
  rows.text(event.store_id);
  if (!rows.three_decimals(event.confidence)) return false;
  rows.text(event.identification);
  rows.timestamp(event.detected_at_ms);
  return true;
}

// References, not copies: stream_to escapes each field into the COPY line itself, and an empty
// optional becomes NULL.
auto identity_row(const SinkEvent& event) {
  return std::tie(event.event_id, event.customer_id, event.beacon_id, event.qr_code, event.source,
                  event.sighting_id, event.location, event.location_type, event.store_id,
                  event.confidence, event.identification, event.detected_at);
}

std::string_view trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// libpq's text is "ERROR:  value too long ...\nCONTEXT:  COPY ..., column location: ...\n":
// one line for a dead-letter reason or a log line, keeping the context that names the column.
// The statement excerpt and its caret ("LINE 1: ..." and "    ^") say nothing about the row.
std::string one_line(std::string_view message) {
  constexpr std::string_view kSeverity = "ERROR:  ";
  if (message.starts_with(kSeverity)) message.remove_prefix(kSeverity.size());
  std::string line;
  bool caret_next = false;
  while (!message.empty()) {
    const std::size_t end = message.find('\n');
    std::string_view part = message.substr(0, end);
    message.remove_prefix(end == std::string_view::npos ? message.size() : end + 1);
    const bool skip = caret_next || part.starts_with("LINE ");
    caret_next = part.starts_with("LINE ");
    part = trim(part);
    if (skip || part.empty()) continue;
    if (!line.empty()) line += "; ";
    line += part;
  }
  return line;
}

// Partitions are UTC months (tastesync_ensure_partitions).
int utc_month_number(EpochMs ms) {
  using namespace std::chrono;
  const year_month_day day{floor<days>(sys_time<milliseconds>(milliseconds(ms)))};
  return static_cast<int>(day.year()) * 12 + static_cast<int>(static_cast<unsigned>(day.month()));
}

// One instant per distinct month; any instant of a month names its partition.
std::vector<EpochMs> distinct_months(std::span<const SinkEvent> events,
                                     std::span<const std::size_t> indices) {
  std::map<int, EpochMs> by_month;
  for (const std::size_t index : indices) {
    by_month.try_emplace(utc_month_number(events[index].detected_at_ms),
                         events[index].detected_at_ms);
  }
  std::vector<EpochMs> months;
  months.reserve(by_month.size());
  for (const auto& entry : by_month) months.push_back(entry.second);
  return months;
}

// Each customer's first and last event of the batch, by detected_at, in order of first appearance.
struct CustomerSpan {
  std::size_t first;
  std::size_t last;
};

std::vector<CustomerSpan> customer_spans(std::span<const SinkEvent> events,
                                         std::span<const std::size_t> indices) {
  std::vector<CustomerSpan> spans;
  std::unordered_map<std::string_view, std::size_t> position;
  position.reserve(indices.size());
  for (const std::size_t index : indices) {
    const SinkEvent& event = events[index];
    const auto [found, added] = position.try_emplace(event.customer_id, spans.size());
    if (added) {
      spans.push_back({index, index});
      continue;
    }
    CustomerSpan& span = spans[found->second];
    if (event.detected_at_ms < events[span.first].detected_at_ms) span.first = index;
    if (event.detected_at_ms > events[span.last].detected_at_ms) span.last = index;
  }
  return spans;
}

}  // namespace

struct PostgresWriter::Batch {
  std::span<const SinkEvent> events;
  std::vector<std::size_t> kept;  // within the retention, in batch order
  SinkWriteResult result;
  bool partitions_created = false;
  std::string direct_failure;
  // Events the staging path's committed transactions staged, and of those how many were already
  // stored (its INSERT skipped them).
  pqxx::result::size_type staged = 0;
  pqxx::result::size_type conflicts = 0;
};

PostgresWriter::PostgresWriter(std::string dsn) : dsn_(std::move(dsn)) {}

Result<SinkWriteResult, SinkError> PostgresWriter::write(std::span<const SinkEvent> events,
                                                         EpochMs now_ms) {
  Batch batch{events, {}, {}, false, {}, 0, 0};
  const EpochMs oldest_kept_ms = retention_start(now_ms, kRetentionYears);
  for (std::size_t index = 0; index < events.size(); ++index) {
    if (!events[index].forget_request && events[index].detected_at_ms < oldest_kept_ms) {
      ++batch.result.skipped;
    } else {
      batch.kept.push_back(index);
    }
  }
  if (batch.kept.empty()) return std::move(batch.result);

  auto failure = connection_ ? std::nullopt : connect();
  if (!failure) failure = keep_partitions_ahead(now_ms);
  if (!failure && direct_) {
    switch (store_directly(batch)) {
      case DirectOutcome::stored:
        ++paths_taken_.direct;
        return std::move(batch.result);
      case DirectOutcome::failed:
        connection_.reset();
        return Failure{SinkError{SinkErrorKind::unavailable, std::move(batch.direct_failure)}};
      case DirectOutcome::declined:
        break;
    }
  }
  if (!failure) {
    ++paths_taken_.staging;
    failure = store(batch, batch.kept);
  }
  // On again once a batch of events conflicts with nothing: its redelivery is over. A batch of
  // erasures alone says nothing about that.
  if (!failure && batch.staged > 0) direct_ = batch.conflicts == 0;
  if (failure) {
    // Whatever went wrong, the retry starts from a new session: a broken socket, a restarted
    // server or a lost staging table all look different, and a reconnect cures each of them.
    connection_.reset();
    return Failure{SinkError{SinkErrorKind::unavailable, std::move(*failure)}};
  }
  return std::move(batch.result);
}

std::optional<std::string> PostgresWriter::connect() {
  try {
    auto connection = connect_postgres(dsn_, kApplicationName);
    {
      pqxx::work setup(*connection, "staging table");
      setup.exec0(kCreateStaging);
      setup.commit();
    }
    connection_ = std::move(connection);
    checked_month_.reset();
    return std::nullopt;
  } catch (const std::exception& error) {
    return "postgres: " + one_line(error.what());
  }
}

// The sink keeps the partitions ahead (docs/contract.md#postgres), so that normally no batch
// meets a missing one.
// Once per month of the wall clock (and per connection): the function takes a lock.
std::optional<std::string> PostgresWriter::keep_partitions_ahead(EpochMs now_ms) {
  const int month = utc_month_number(now_ms);
  if (checked_month_ == month) return std::nullopt;
  try {
    ensure_partitions(*connection_, now_ms, kPartitionMonthsAhead);
  } catch (const std::exception& error) {
    return "postgres: creating partitions ahead: " + one_line(error.what());
  }
  checked_month_ = month;
  return std::nullopt;
}

// A group the database refuses for its content is split in halves until each refusal is pinned
// on one row: the good rows still land, and one bad row costs O(log n) transactions rather than
// one per row.
std::optional<std::string> PostgresWriter::store(Batch& batch,
                                                 std::span<const std::size_t> indices) {
  for (;;) {
    auto error = store_in_one_transaction(batch, indices);
    if (!error) return std::nullopt;
    switch (error->kind) {
      case DbErrorKind::transient:
        return "postgres: " + error->message;
      case DbErrorKind::missing_partition:
        // Every month of the batch has just been given a partition: one still missing was
        // dropped meanwhile or the schema disagrees with this code; retrying cannot help.
        if (batch.partitions_created) {
          return "postgres: partition still missing after creating it: " + error->message;
        }
        if (auto failure = create_partitions(batch)) return failure;
        batch.partitions_created = true;
        continue;
      case DbErrorKind::content: {
        if (indices.size() == 1) {
          batch.result.rejected.push_back({indices.front(), std::move(error->message)});
          return std::nullopt;
        }
        const std::size_t half = indices.size() / 2;
        if (auto failure = store(batch, indices.first(half))) return failure;
        return store(batch, indices.subspan(half));
      }
    }
  }
}

// The common batch, all new events of customers never erased, for less of the server's CPU than
// the staging path takes (docs/bench.md#issue-17-21). Anything else it hands back untouched, in
// a transaction it rolled back: an event already stored (a redelivery, or twice in the batch), a
// customer erased, a row refused for its content, a missing partition, any other error the
// server reports. After a redelivery it stays off until a batch of events through the staging
// table conflicts with nothing, so that a backlog of redeliveries does not pay for each batch
// twice.
PostgresWriter::DirectOutcome PostgresWriter::store_directly(Batch& batch) {
  const std::span<const SinkEvent> events = batch.events;
  for (const std::size_t index : batch.kept) {
    if (events[index].forget_request) return DirectOutcome::declined;
  }
  // In binary form: the server parses no text (docs/bench.md#issue-17-22).
  const auto spans = customer_spans(events, batch.kept);
  BinaryArray ids(BinaryArray::Of::varchar, spans.size());
  BinaryArray first_seen(BinaryArray::Of::timestamptz, spans.size());
  BinaryArray last_seen(BinaryArray::Of::timestamptz, spans.size());
  for (const CustomerSpan& span : spans) {
    ids.text(events[span.first].customer_id);
    first_seen.timestamp(events[span.first].detected_at_ms);
    last_seen.timestamp(events[span.last].detected_at_ms);
  }
  try {
    pqxx::work transaction(*connection_, "store identities directly");
    {
      CopyIn copy(transaction, binary_copy_statement("customer_identities", kColumns));
      BinaryCopyRows identities;
      for (const std::size_t index : batch.kept) {
        if (!add_identity(identities, events[index])) return DirectOutcome::declined;
        if (identities.size() >= kCopySendBytes) copy.send(identities.take());
      }
      copy.send(std::move(identities).finish());
      copy.complete();
    }
    // After the COPY, which has accepted every id, so that the casts to varchar(64) cut only
    // trailing spaces; a batch this declines is rolled back with the rest.
    if (exec_with_arrays(transaction, kAnyErasedInBatch, {ids, first_seen}) > 0) {
      return DirectOutcome::declined;
    }
    exec_with_arrays(transaction, kMergeBatchCustomers, {ids, last_seen});
    transaction.commit();
    return DirectOutcome::stored;
  } catch (const pqxx::broken_connection& error) {
    batch.direct_failure = "postgres: connection lost: " + one_line(error.what());
    return DirectOutcome::failed;
  } catch (const pqxx::sql_error& error) {
    // The staging path is the arbiter of every error the server reports: it stores, rejects or
    // fails the batch as it always has, so no error peculiar to this path can hold a batch up.
    if (error.sqlstate() == kUniqueViolation) direct_ = false;
    return DirectOutcome::declined;
  } catch (const std::exception& error) {
    batch.direct_failure = "postgres: " + one_line(error.what());
    return DirectOutcome::failed;
  }
}

std::optional<PostgresWriter::TransactionError> PostgresWriter::store_in_one_transaction(
    Batch& batch, std::span<const std::size_t> indices) {
  const std::span<const SinkEvent> events = batch.events;
  struct Erased {
    std::size_t index;
    pqxx::result::size_type identities;
    pqxx::result::size_type customers;
  };
  std::vector<Erased> erased;
  try {
    pqxx::work transaction(*connection_, "store identities");
    pqxx::result::size_type staged = 0;
    {
      pqxx::stream_to staging(transaction, kStagingTable, kColumns);
      for (const std::size_t index : indices) {
        if (events[index].forget_request) continue;
        staging << identity_row(events[index]);
        ++staged;
      }
      staging.complete();
    }
    for (const std::size_t index : indices) {
      const SinkEvent& erasure = events[index];
      if (!erasure.forget_request) continue;
      const std::string at = format_canonical_string(erasure.detected_at_ms);
      transaction.exec_params0(kRecordForgotten, erasure.customer_id, at, *erasure.forget_request);
      erased.push_back(
          {index,
           transaction.exec_params0(kDeleteForgottenIdentities, erasure.customer_id, at)
               .affected_rows(),
           transaction.exec_params0(kDeleteForgottenCustomer, erasure.customer_id, at)
               .affected_rows()});
    }
    const auto suppressed =
        transaction.exec0(kSuppressForgotten, "suppress erased").affected_rows();
    const auto inserted = transaction.exec0(kInsertIdentities, "insert identities").affected_rows();
    transaction.exec0(kUpsertCustomers, "upsert customers");
    transaction.commit();
    batch.staged += staged;
    batch.conflicts += staged - suppressed - inserted;
    batch.result.skipped += suppressed;
    for (const Erased& done : erased) {
      spdlog::info(
          "sink postgres: erasure {}: customer sha256:{}: {} identities and {} customer rows "
          "deleted; later replays of them are refused",
          *events[done.index].forget_request, customer_hash_short(events[done.index].customer_id),
          done.identities, done.customers);
    }
    return std::nullopt;
  } catch (const pqxx::broken_connection& error) {
    return TransactionError{DbErrorKind::transient, "connection lost: " + one_line(error.what())};
  } catch (const std::exception& error) {
    return TransactionError{classify_db_error(error), one_line(error.what())};
  }
}

std::optional<std::string> PostgresWriter::create_partitions(const Batch& batch) {
  try {
    for (const EpochMs month : distinct_months(batch.events, batch.kept)) {
      ensure_partitions(*connection_, month, 1);
    }
    return std::nullopt;
  } catch (const std::exception& error) {
    return "postgres: creating a partition: " + one_line(error.what());
  }
}

}  // namespace tastesync
