#include "sinks/postgres/binary_format.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <pqxx/except>
#include <pqxx/largeobject>
#include <vector>

#include "common/uuid.hpp"

namespace tastesync {
namespace {

// "PGCOPY\n\377\r\n\0", then the flags field and the header extension's length, both zero.
constexpr char kSignature[] =
    "PGCOPY\n\377\r\n";  // the array's own NUL is the signature's last byte
constexpr std::int16_t kTrailer = -1;
constexpr std::int32_t kNullLength = -1;

// PostgreSQL's timestamps count microseconds from 2000-01-01T00:00:00Z.
constexpr EpochMs kPostgresEpochMs = 946'684'800'000;

// numeric's send form: digits of base 10 000, the first one's power of 10 000, and the display
// scale.
constexpr std::uint16_t kNumericPositive = 0x0000;
constexpr std::uint16_t kThreeDecimals = 3;

// So big a batch is not one call; libpq buffers what it is given.
constexpr std::size_t kChunkBytes = 1 << 20;

// libpqxx 6 hands its libpq connection out only to large objects, through this protected
// accessor; a derived class may call it. The COPY below runs in the transaction's own session.
class RawConnection : private pqxx::largeobject {
 public:
  static PGconn* of(const pqxx::dbtransaction& transaction) {
    return largeobject::raw_connection(transaction);
  }
};

struct ResultClear {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultHandle = std::unique_ptr<PGresult, ResultClear>;

// Fixed OIDs of the system catalog (pg_type.dat), the same on every server.
constexpr Oid kVarcharOid = 1043;
constexpr Oid kVarcharArrayOid = 1015;
constexpr Oid kTimestamptzOid = 1184;
constexpr Oid kTimestamptzArrayOid = 1185;

// The first error among the results of the statement in flight, reading them to the end.
std::optional<pqxx::sql_error> first_error(PGconn* connection, const std::string& statement,
                                           std::size_t* rows = nullptr) {
  std::optional<pqxx::sql_error> refused;
  while (ResultHandle result{PQgetResult(connection)}) {
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
      // libpq hands this result back for as long as the COPY lasts: none of the statements sent
      // here starts one, so report it rather than wait for an end that never comes.
      if (!refused) refused.emplace("unexpected COPY state after: " + statement, statement);
      break;
    }
    if (status == PGRES_TUPLES_OK && rows != nullptr) *rows += PQntuples(result.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || refused) continue;
    refused.emplace(PQresultErrorMessage(result.get()), statement,
                    PQresultErrorField(result.get(), PG_DIAG_SQLSTATE));
  }
  return refused;
}

void throw_if_failed(PGconn* connection, std::optional<pqxx::sql_error> refused) {
  if (PQstatus(connection) == CONNECTION_BAD) {
    throw pqxx::broken_connection(PQerrorMessage(connection));
  }
  if (refused) throw *refused;
}

}  // namespace

std::string BinaryValues::take() {
  std::string taken;
  taken.swap(bytes_);
  return taken;
}

void BinaryValues::null() {
  put32(static_cast<std::uint32_t>(kNullLength));
}

void BinaryValues::text(std::string_view value) {
  put32(static_cast<std::uint32_t>(value.size()));
  bytes_.append(value);
}

bool BinaryValues::uuid(std::string_view canonical) {
  const auto parsed = parse_uuid(canonical);
  if (!parsed) return false;
  put32(static_cast<std::uint32_t>(parsed->size()));
  bytes_.append(reinterpret_cast<const char*>(parsed->data()), parsed->size());
  return true;
}

void BinaryValues::timestamp(EpochMs ms) {
  put32(8);
  put64(static_cast<std::uint64_t>((ms - kPostgresEpochMs) * 1000));
}

bool BinaryValues::three_decimals(std::string_view value) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (value.size() != 5 || !digit(value[0]) || value[1] != '.' ||
      !std::all_of(value.begin() + 2, value.end(), digit)) {
    return false;
  }
  // The value in thousandths: units, then the three decimals.
  const int thousandths =
      (value[0] - '0') * 1000 + (value[2] - '0') * 100 + (value[3] - '0') * 10 + (value[4] - '0');
  // Whole units go in a digit of weight 0, the thousandths (times ten, filling base 10 000's four
  // decimal places) in one of weight -1; zero digits are left out.
  const int units = thousandths / 1000;
  const int fraction = thousandths % 1000 * 10;
  const auto digits = static_cast<std::uint16_t>((units != 0) + (fraction != 0));
  put32(8U + 2U * digits);
  put16(digits);
  put16(static_cast<std::uint16_t>(units != 0 ? 0 : -1));  // the first digit's weight
  put16(kNumericPositive);
  put16(kThreeDecimals);
  if (units != 0) put16(static_cast<std::uint16_t>(units));
  if (fraction != 0) put16(static_cast<std::uint16_t>(fraction));
  return true;
}

void BinaryValues::put16(std::uint16_t value) {
  const char bytes[] = {static_cast<char>(value >> 8), static_cast<char>(value)};
  bytes_.append(bytes, sizeof bytes);
}

void BinaryValues::put32(std::uint32_t value) {
  put16(static_cast<std::uint16_t>(value >> 16));
  put16(static_cast<std::uint16_t>(value));
}

void BinaryValues::put64(std::uint64_t value) {
  put32(static_cast<std::uint32_t>(value >> 32));
  put32(static_cast<std::uint32_t>(value));
}

BinaryCopyRows::BinaryCopyRows() {
  bytes_.append(kSignature, sizeof kSignature);
  put32(0);
  put32(0);
}

void BinaryCopyRows::begin_row(std::int16_t fields) {
  put16(static_cast<std::uint16_t>(fields));
}

std::string BinaryCopyRows::finish() && {
  put16(static_cast<std::uint16_t>(kTrailer));
  return std::move(bytes_);
}

// array_send's form: dimensions, a has-NULLs flag, the element type, each dimension's length and
// lower bound, then the elements.
BinaryArray::BinaryArray(Of element, std::size_t count) : element_(element) {
  put32(1);
  put32(0);
  put32(element == Of::varchar ? kVarcharOid : kTimestamptzOid);
  put32(static_cast<std::uint32_t>(count));
  put32(1);
}

CopyIn::CopyIn(pqxx::dbtransaction& transaction, std::string statement)
    : connection_(RawConnection::of(transaction)), statement_(std::move(statement)) {
  try {
    transaction.exec0(statement_);  // the session is in COPY IN from here
  } catch (...) {
    open_ = false;
    throw;
  }
}

CopyIn::~CopyIn() {
  if (!open_) return;
  // The server answers a failed COPY with an error, which aborts the transaction.
  if (PQputCopyEnd(connection_, "abandoned by the client") == 1) {
    (void)first_error(connection_, statement_);
  }
}

void CopyIn::send(std::string_view bytes) {
  for (std::size_t offset = 0; offset < bytes.size(); offset += kChunkBytes) {
    const std::size_t size = std::min(kChunkBytes, bytes.size() - offset);
    if (PQputCopyData(connection_, bytes.data() + offset, static_cast<int>(size)) != 1) {
      open_ = false;
      throw pqxx::broken_connection(PQerrorMessage(connection_));
    }
  }
}

void CopyIn::complete() {
  open_ = false;
  if (PQputCopyEnd(connection_, nullptr) != 1) {
    throw pqxx::broken_connection(PQerrorMessage(connection_));
  }
  throw_if_failed(connection_, first_error(connection_, statement_));
}

std::size_t exec_with_arrays(
    pqxx::dbtransaction& transaction, const std::string& statement,
    std::initializer_list<std::reference_wrapper<const BinaryArray>> arrays) {
  std::vector<Oid> types;
  std::vector<const char*> pointers;
  std::vector<int> lengths;
  const std::vector<int> binary(arrays.size(), 1);
  for (const BinaryArray& array : arrays) {
    types.push_back(array.element() == BinaryArray::Of::varchar ? kVarcharArrayOid
                                                                : kTimestamptzArrayOid);
    pointers.push_back(array.bytes().data());
    lengths.push_back(static_cast<int>(array.bytes().size()));
  }
  PGconn* connection = RawConnection::of(transaction);
  if (PQsendQueryParams(connection, statement.c_str(), static_cast<int>(arrays.size()),
                        types.data(), pointers.data(), lengths.data(), binary.data(), 0) != 1) {
    throw_if_failed(connection, pqxx::sql_error(PQerrorMessage(connection), statement));
  }
  std::size_t rows = 0;
  throw_if_failed(connection, first_error(connection, statement, &rows));
  return rows;
}

}  // namespace tastesync
