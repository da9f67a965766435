#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <pqxx/dbtransaction>
#include <pqxx/except>
#include <string>
#include <string_view>

#include "common/event_time.hpp"

struct pg_conn;  // libpq's connection (libpq-fe.h)

namespace tastesync {

// Values in PostgreSQL's binary wire form (each type's "send" form: PostgreSQL 15 docs, "COPY",
// section "Binary Format", and the types' send functions), so that the server parses no text: a
// timestamp is 8 bytes instead of a 24-character string to take apart
// (docs/bench.md#issue-17-22). Big-endian throughout.
class BinaryValues {
 public:
  // What has been added since the last take().
  std::size_t size() const { return bytes_.size(); }
  std::string take();

 protected:
  void null();
  // text, varchar: the bytes as they are; the server checks their encoding and length as it
  // does for text input.
  void text(std::string_view value);
  // A canonical 8-4-4-4-12 UUID; false (nothing added) for anything else.
  [[nodiscard]] bool uuid(std::string_view canonical);
  // timestamptz, from milliseconds since the Unix epoch.
  void timestamp(EpochMs ms);
  // numeric, from "d.ddd" (three decimals, as SinkEvent::confidence holds it); false (nothing
  // added) for anything else.
  [[nodiscard]] bool three_decimals(std::string_view value);

  void put16(std::uint16_t value);
  void put32(std::uint32_t value);
  void put64(std::uint64_t value);

  std::string bytes_;
};

// Rows for COPY ... FROM STDIN (FORMAT binary): begin_row(), then each field in the column order
// of the COPY statement.
class BinaryCopyRows : public BinaryValues {
 public:
  BinaryCopyRows();

  void begin_row(std::int16_t fields);
  using BinaryValues::null;
  using BinaryValues::text;
  using BinaryValues::three_decimals;
  using BinaryValues::timestamp;
  using BinaryValues::uuid;

  // What is left with the format's trailer; the object is spent.
  std::string finish() &&;
};

// A one-dimensional array without NULLs, for a statement parameter: `count` elements of one type,
// added with the one of text() and timestamp() that fits it.
class BinaryArray : public BinaryValues {
 public:
  enum class Of { varchar, timestamptz };
  BinaryArray(Of element, std::size_t count);

  using BinaryValues::text;
  using BinaryValues::timestamp;

  Of element() const { return element_; }
  const std::string& bytes() const { return bytes_; }

 private:
  Of element_;
};

// One COPY ... FROM STDIN in `transaction`'s session, fed with bytes in pieces so that the server
// stores the first rows while the next are encoded. libpqxx 6's stream_to writes text only, so
// this goes through libpq's own COPY calls. Throws as libpqxx does: pqxx::broken_connection when
// the connection is gone, pqxx::sql_error (with the server's SQLSTATE) when the server refuses the
// statement or the rows. Left without complete(), it ends the COPY as failed, so the transaction
// is left to roll back.
class CopyIn {
 public:
  CopyIn(pqxx::dbtransaction& transaction, std::string statement);
  ~CopyIn();
  CopyIn(const CopyIn&) = delete;
  CopyIn& operator=(const CopyIn&) = delete;

  void send(std::string_view bytes);
  void complete();

 private:
  pg_conn* connection_;
  std::string statement_;
  bool open_ = true;
};

// Runs `statement` in `transaction` with each array as a parameter ($1, $2, ...) in binary form,
// where libpqxx 6 would send text for the server to parse. The number of rows it returned. Throws
// as CopyIn does.
std::size_t exec_with_arrays(
    pqxx::dbtransaction& transaction, const std::string& statement,
    std::initializer_list<std::reference_wrapper<const BinaryArray>> arrays);

}  // namespace tastesync
