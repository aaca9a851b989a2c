// PostgreSQL errors keep their SQLSTATE on every path: a statement, a script, a COPY from
// rows the caller encoded and of Arrow batches (CopyIn) and a COPY out (PostgresCopyReader).
#include <arrow/api.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "integration/test_database.h"
#include "storage/postgres/copy_in.h"
#include "storage/postgres/postgres_copy_reader.h"

using namespace datalab;

class PostgresErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<PgConnection>(test_support::test_postgres_settings());
    db_->run_script(
        "DROP SCHEMA IF EXISTS error_test CASCADE; CREATE SCHEMA error_test;"
        "CREATE TABLE error_test.items (id integer PRIMARY KEY, quantity integer NOT NULL CHECK (quantity >= 0));"
        "INSERT INTO error_test.items VALUES (1, 5);",
        "setup");
  }
  void TearDown() override { db_->exec("DROP SCHEMA IF EXISTS error_test CASCADE"); }

  // Runs fn, which must throw PostgresError; returns it.
  template <typename Fn>
  PostgresError expect_postgres_error(Fn&& fn) {
    try {
      fn();
    } catch (const PostgresError& e) {
      return e;
    }
    ADD_FAILURE() << "no PostgresError";
    return PostgresError("", "", "");
  }

  std::unique_ptr<PgConnection> db_;
};

TEST_F(PostgresErrorTest, AFailedStatementCarriesItsSqlstate) {
  const auto duplicate = expect_postgres_error([&] { db_->exec("INSERT INTO error_test.items VALUES (1, 1)"); });
  EXPECT_EQ(duplicate.sqlstate(), "23505");
  EXPECT_TRUE(duplicate.is_data_error());
  EXPECT_EQ(duplicate.exit_code(), 3);  // a ServiceError for main()
  EXPECT_NE(std::string(duplicate.what()).find("PostgreSQL error in `INSERT INTO error_test.items"), std::string::npos);

  const auto bad_value = expect_postgres_error(
      [&] { db_->exec("INSERT INTO error_test.items VALUES ($1, $2)", {"2", "not a number"}); });
  EXPECT_EQ(bad_value.sqlstate(), "22P02");
  EXPECT_TRUE(bad_value.is_data_error());
  EXPECT_NE(bad_value.server_message().find("invalid input syntax for type integer"), std::string::npos);
  EXPECT_EQ(bad_value.server_message().find("ERROR"), std::string::npos);

  const auto missing = expect_postgres_error([&] { db_->exec("SELECT * FROM error_test.no_such_table"); });
  EXPECT_EQ(missing.sqlstate(), "42P01");
  EXPECT_FALSE(missing.is_data_error());
}

TEST_F(PostgresErrorTest, AFailedScriptStatementKeepsItsSqlstate) {
  const auto e = expect_postgres_error(
      [&] { db_->run_script("SELECT 1;\nINSERT INTO error_test.items VALUES (3, -1);", "check.sql"); });
  EXPECT_EQ(e.sqlstate(), "23514");  // check_violation
  EXPECT_NE(std::string(e.what()).find("check.sql (line 2)"), std::string::npos);
}

TEST_F(PostgresErrorTest, AFailedCopyOfEncodedRowsCarriesItsSqlstate) {
  const auto duplicate = expect_postgres_error([&] {
    CopyIn copy(*db_, "error_test", "items", {}, {CopyFormat::text});
    copy.write_rows("2\t1\n1\t1\n");
    copy.finish();
  });
  EXPECT_EQ(duplicate.sqlstate(), "23505");
  const auto null_value = expect_postgres_error([&] {
    CopyIn copy(*db_, "error_test", "items", {}, {CopyFormat::text});
    copy.write_rows("4\t\\N\n");
    copy.finish();
  });
  EXPECT_EQ(null_value.sqlstate(), "23502");  // not_null_violation
  // The connection is usable after a refused COPY.
  EXPECT_EQ(db_->exec("SELECT count(*) FROM error_test.items").integer(0, 0), 1);
}

TEST_F(PostgresErrorTest, AFailedCopyOfArrowBatchesCarriesItsSqlstate) {
  arrow::Int32Builder id, quantity;
  ASSERT_TRUE(id.AppendValues({7, 8}).ok());
  ASSERT_TRUE(quantity.AppendValues({1, -2}).ok());
  auto schema = arrow::schema({arrow::field("id", arrow::int32()), arrow::field("quantity", arrow::int32())});
  auto batch = arrow::RecordBatch::Make(schema, 2, {*id.Finish(), *quantity.Finish()});
  const auto e = expect_postgres_error([&] {
    CopyIn writer(*db_, "error_test", "items", schema);
    writer.write(*batch);
    writer.finish();
  });
  EXPECT_EQ(e.sqlstate(), "23514");
  EXPECT_TRUE(e.is_data_error());
  EXPECT_NE(std::string(e.what()).find("COPY into \"error_test\".\"items\" failed"), std::string::npos);
}

TEST_F(PostgresErrorTest, ACopyOutFailingPartWayCarriesItsSqlstate) {
  auto schema = arrow::schema({arrow::field("x", arrow::int32())});
  const auto e = expect_postgres_error([&] {
    PostgresCopyReader reader(*db_, "SELECT 10 / (2 - n) AS x FROM generate_series(1, 3) AS n", schema);
    while (reader.next()) {
    }
  });
  EXPECT_EQ(e.sqlstate(), "22012");  // division_by_zero
  EXPECT_NE(std::string(e.what()).find("COPY from PostgreSQL failed"), std::string::npos);
}
