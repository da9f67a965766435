#include "sinks/postgres/binary_format.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "db/postgres.hpp"
#include "tests/support/postgres_test_support.hpp"

namespace tastesync::testing {
namespace {

// Against a real server: what the binary form carries must read back as the same text COPY would
// have stored.
class BinaryFormatTest : public PostgresSinkTest {
 protected:
  void SetUp() override {
    PostgresSinkTest::SetUp();
    connection_ = connect_postgres(dsn(), "binary-format-test");
    pqxx::nontransaction(*connection_)
        .exec0(
            "CREATE TABLE values_table (id uuid, name text, short_name varchar(8),"
            " confidence numeric(4, 3), at timestamptz, note text)");
  }

  std::vector<std::vector<std::string>> select_rows(const std::string& select) {
    std::vector<std::vector<std::string>> out;
    for (const auto& row : pqxx::nontransaction(*connection_).exec(select)) {
      std::vector<std::string> fields;
      for (const auto& field : row) fields.push_back(field.is_null() ? "NULL" : field.c_str());
      out.push_back(std::move(fields));
    }
    return out;
  }

  std::unique_ptr<pqxx::connection> connection_;
};

constexpr const char* kCopyValues =
    "COPY values_table (id, name, short_name, confidence, at, note) FROM STDIN (FORMAT binary)";
constexpr const char* kSelectValues =
    "SELECT id::text, name, short_name, confidence::text,"
    " to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), note"
    " FROM values_table ORDER BY confidence";

struct Row {
  std::string id;
  std::string name;
  std::string short_name;
  std::string confidence;
  const char* at;
};

void add(BinaryCopyRows& rows, const Row& row) {
  rows.begin_row(6);
  ASSERT_TRUE(rows.uuid(row.id));
  rows.text(row.name);
  rows.text(row.short_name);
  ASSERT_TRUE(rows.three_decimals(row.confidence));
  rows.timestamp(at(row.at));
  rows.null();
}

TEST_F(BinaryFormatTest, EveryValueReadsBackAsItsTextForm) {
  const std::vector<Row> input = {
      {"BC0C82D4-D881-5FE0-A68C-3ED7C3562715", "tab\there \\ \"q\"\nline", "Tisch 3", "0.000",
       "1999-12-31T23:59:59.999Z"},
      {"00000000-0000-0000-0000-000000000000", "손님 😀", "짧은", "0.005",
       "2000-01-01T00:00:00.000Z"},
      {"ffffffff-ffff-ffff-ffff-ffffffffffff", "", "exactly8", "0.950", "2026-11-15T11:59:58.123Z"},
      {"10ef298c-1c10-55df-9149-b492e3cf5787", "x", "y", "1.000", "1970-01-01T00:00:00.001Z"},
  };
  BinaryCopyRows rows;
  for (const Row& row : input) add(rows, row);
  const std::string bytes = std::move(rows).finish();
  pqxx::work work(*connection_);
  {
    CopyIn copy(work, kCopyValues);
    // In 7-byte pieces: the pieces of a COPY need not end where its rows or values do.
    constexpr std::size_t kPiece = 7;
    for (std::size_t offset = 0; offset < bytes.size(); offset += kPiece) {
      copy.send(std::string_view(bytes).substr(offset, kPiece));
    }
    copy.complete();
  }
  work.commit();

  const std::vector<std::vector<std::string>> expected = {
      {"bc0c82d4-d881-5fe0-a68c-3ed7c3562715", "tab\there \\ \"q\"\nline", "Tisch 3", "0.000",
       "1999-12-31T23:59:59.999Z", "NULL"},
      {"00000000-0000-0000-0000-000000000000", "손님 😀", "짧은", "0.005",
       "2000-01-01T00:00:00.000Z", "NULL"},
      {"ffffffff-ffff-ffff-ffff-ffffffffffff", "", "exactly8", "0.950", "2026-11-15T11:59:58.123Z",
       "NULL"},
      {"10ef298c-1c10-55df-9149-b492e3cf5787", "x", "y", "1.000", "1970-01-01T00:00:00.001Z",
       "NULL"},
  };
  EXPECT_EQ(select_rows(kSelectValues), expected);
}

TEST_F(BinaryFormatTest, ValuesItCannotCarryAddNothing) {
  BinaryCopyRows rows;
  const std::size_t before = rows.size();
  for (const char* decimal : {"1.5", ".950", "0,950", "10.00", "0.95a", "", "-0.10"}) {
    EXPECT_FALSE(rows.three_decimals(decimal)) << decimal;
  }
  for (const char* id :
       {"bc0c82d4d8815fe0a68c3ed7c3562715", "{bc0c82d4-d881-5fe0-a68c-3ed7c3562715}",
        "bc0c82d4-d881-5fe0-a68c-3ed7c356271g", ""}) {
    EXPECT_FALSE(rows.uuid(id)) << id;
  }
  EXPECT_EQ(rows.size(), before);
}

TEST_F(BinaryFormatTest, ARowTheServerRefusesThrowsItsSqlstateAndTheConnectionGoesOn) {
  {
    pqxx::work work(*connection_);
    CopyIn copy(work, kCopyValues);
    BinaryCopyRows rows;
    add(rows, {"10ef298c-1c10-55df-9149-b492e3cf5787", "x", "nine char", "0.500",
               "2026-11-15T11:59:58.123Z"});
    copy.send(std::move(rows).finish());
    try {
      copy.complete();
      FAIL() << "a value too long for varchar(8) was accepted";
    } catch (const pqxx::sql_error& error) {
      EXPECT_EQ(error.sqlstate(), "22001");
      EXPECT_NE(std::string(error.what()).find("character varying(8)"), std::string::npos)
          << error.what();
    }
  }
  EXPECT_EQ(select_rows("SELECT count(*) FROM values_table"),
            (std::vector<std::vector<std::string>>{{"0"}}));
}

TEST_F(BinaryFormatTest, ACopyLeftUnfinishedStoresNothingAndTheConnectionGoesOn) {
  {
    pqxx::work work(*connection_);
    CopyIn copy(work, kCopyValues);
    BinaryCopyRows rows;
    add(rows,
        {"10ef298c-1c10-55df-9149-b492e3cf5787", "x", "y", "0.500", "2026-11-15T11:59:58.123Z"});
    copy.send(rows.take());
  }  // neither complete() nor commit()
  EXPECT_EQ(select_rows("SELECT count(*) FROM values_table"),
            (std::vector<std::vector<std::string>>{{"0"}}));
}

TEST_F(BinaryFormatTest, AStatementTheServerRefusesThrowsBeforeAnyCopy) {
  pqxx::work work(*connection_);
  try {
    CopyIn copy(work, "COPY no_such_table (id) FROM STDIN (FORMAT binary)");
    FAIL() << "a COPY into a missing table started";
  } catch (const pqxx::sql_error& error) {
    EXPECT_EQ(error.sqlstate(), "42P01");
  }
}

TEST_F(BinaryFormatTest, ArraysAreParametersOfTheirTypes) {
  BinaryArray names(BinaryArray::Of::varchar, 3);
  BinaryArray times(BinaryArray::Of::timestamptz, 3);
  for (const char* name : {"a", "손님", "b"}) names.text(name);
  for (const char* time :
       {"2026-11-15T11:59:58.123Z", "1999-12-31T23:59:59.999Z", "2027-01-01T00:00:00.000Z"}) {
    times.timestamp(at(time));
  }
  pqxx::work work(*connection_);
  const std::size_t returned = exec_with_arrays(
      work,
      "INSERT INTO values_table (name, at) SELECT * FROM unnest($1::varchar[], $2::timestamptz[])"
      " RETURNING 1",
      {names, times});
  work.commit();

  EXPECT_EQ(returned, 3U);
  const std::vector<std::vector<std::string>> expected = {
      {"a", "2026-11-15T11:59:58.123Z"},
      {"b", "2027-01-01T00:00:00.000Z"},
      {"손님", "1999-12-31T23:59:59.999Z"},
  };
  EXPECT_EQ(
      select_rows(
          "SELECT name, to_char(at AT TIME ZONE 'UTC', "
          "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM values_table ORDER BY name COLLATE \"C\""),
      expected);
}

TEST_F(BinaryFormatTest, AnEmptyArrayIsAnArrayOfNothing) {
  const BinaryArray names(BinaryArray::Of::varchar, 0);
  pqxx::work work(*connection_);
  EXPECT_EQ(exec_with_arrays(work, "SELECT * FROM unnest($1::varchar[])", {names}), 0U);
}

TEST_F(BinaryFormatTest, ALostConnectionThrowsBrokenConnection) {
  pqxx::work work(*connection_);
  pqxx::nontransaction(*connect_postgres(dsn(), "terminator"))
      .exec(
          "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
          " WHERE application_name = 'binary-format-test'");  // waits for it to end
  BinaryArray names(BinaryArray::Of::varchar, 1);
  names.text("a");
  EXPECT_THROW(exec_with_arrays(work, "SELECT * FROM unnest($1::varchar[])", {names}),
               pqxx::broken_connection);
}

}  // namespace
}  // namespace tastesync::testing
