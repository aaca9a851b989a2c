// COPY both ways against the real server: CopyIn (rows into PostgreSQL), PostgresCopyReader
// (rows out) and the type table between them.
#include "storage/postgres/copy_in.h"

#include <arrow/util/decimal.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "integration/test_database.h"
#include "storage/postgres/pg_types.h"
#include "storage/postgres/postgres_copy_reader.h"
#include "storage/postgres/staging_table.h"

using namespace datalab;

class CopyInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<PgConnection>(test_support::test_postgres_settings());
    db_->run_script(
        "DROP SCHEMA IF EXISTS copy_test CASCADE; CREATE SCHEMA copy_test;"
        "CREATE TABLE copy_test.everything (b boolean, s smallint, i integer, l bigint, f real, d double precision,"
        " t text, day date, ts timestamp, price numeric(13,2));",
        "setup");
  }
  void TearDown() override { db_->exec("DROP SCHEMA IF EXISTS copy_test CASCADE"); }
  std::unique_ptr<PgConnection> db_;
};

TEST_F(CopyInTest, EveryTypeArrivesAsPostgresReadsIt) {
  arrow::BooleanBuilder b;
  arrow::Int16Builder s;
  arrow::Int32Builder i;
  arrow::Int64Builder l;
  arrow::FloatBuilder f;
  arrow::DoubleBuilder d;
  arrow::StringBuilder t;
  arrow::Date32Builder day;
  arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::MICRO), arrow::default_memory_pool());
  arrow::Decimal128Builder price(arrow::decimal128(13, 2));
  ASSERT_TRUE(b.AppendValues(std::vector<bool>{true, false}).ok());
  ASSERT_TRUE(s.AppendValues({-3, 32767}).ok());
  ASSERT_TRUE(i.AppendValues({-2147483648, 42}).ok());
  ASSERT_TRUE(l.AppendValues({-1, 9007199254740993}).ok());
  ASSERT_TRUE(f.AppendValues({1.5f, -0.25f}).ok());
  ASSERT_TRUE(d.AppendValues({3.141592653589793, -1e300}).ok());
  ASSERT_TRUE(t.Append("O'Reilly; \"quoted\" \\ ünïcode").ok());
  ASSERT_TRUE(t.AppendNull().ok());
  ASSERT_TRUE(day.AppendValues({-1, 19000}).ok());  // 1969-12-31, 2022-01-08
  ASSERT_TRUE(ts.AppendValues({0, 1700000000123456}).ok());
  ASSERT_TRUE(price.Append(arrow::Decimal128(-12345678901LL)).ok());
  ASSERT_TRUE(price.Append(arrow::Decimal128(5)).ok());
  auto schema = arrow::schema({arrow::field("b", arrow::boolean()), arrow::field("s", arrow::int16()),
                               arrow::field("i", arrow::int32()), arrow::field("l", arrow::int64()),
                               arrow::field("f", arrow::float32()), arrow::field("d", arrow::float64()),
                               arrow::field("t", arrow::utf8()), arrow::field("day", arrow::date32()),
                               arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MICRO)),
                               arrow::field("price", arrow::decimal128(13, 2))});
  auto batch = arrow::RecordBatch::Make(
      schema, 2,
      {*b.Finish(), *s.Finish(), *i.Finish(), *l.Finish(), *f.Finish(), *d.Finish(), *t.Finish(), *day.Finish(),
       *ts.Finish(), *price.Finish()});

  CopyIn writer(*db_, "copy_test", "everything", schema);
  writer.write(*batch);
  EXPECT_EQ(writer.finish(), 2);

  const auto r = db_->exec(
      "SELECT b::text, s::text, i::text, l::text, f::text, d::text, t, day::text, ts::text, price::text "
      "FROM copy_test.everything ORDER BY i");
  ASSERT_EQ(r.rows(), 2);
  EXPECT_EQ(r.value(0, 0), "true");
  EXPECT_EQ(r.value(0, 1), "-3");
  EXPECT_EQ(r.value(0, 2), "-2147483648");
  EXPECT_EQ(r.value(0, 3), "-1");
  EXPECT_EQ(r.value(0, 4), "1.5");
  EXPECT_EQ(r.value(0, 5), "3.141592653589793");
  EXPECT_EQ(r.value(0, 6), "O'Reilly; \"quoted\" \\ ünïcode");
  EXPECT_EQ(r.value(0, 7), "1969-12-31");
  EXPECT_EQ(r.value(0, 8), "1970-01-01 00:00:00");
  EXPECT_EQ(r.value(0, 9), "-123456789.01");
  EXPECT_EQ(r.value(1, 3), "9007199254740993");
  EXPECT_TRUE(r.is_null(1, 6));
  EXPECT_EQ(r.value(1, 7), "2022-01-08");
  EXPECT_EQ(r.value(1, 8), "2023-11-14 22:13:20.123456");
  EXPECT_EQ(r.value(1, 9), "0.05");
}

TEST_F(CopyInTest, ServerRejectionIsAClearErrorAndConnectionSurvives) {
  db_->exec("ALTER TABLE copy_test.everything ADD CHECK (i > 0)");
  arrow::Int32Builder i;
  ASSERT_TRUE(i.AppendValues({1, -5}).ok());
  auto schema = arrow::schema({arrow::field("i", arrow::int32())});
  auto batch = arrow::RecordBatch::Make(schema, 2, {*i.Finish()});
  try {
    CopyIn writer(*db_, "copy_test", "everything", schema);
    writer.write(*batch);
    writer.finish();
    FAIL() << "the check constraint must reject the COPY";
  } catch (const ServiceError& e) {
    EXPECT_NE(std::string(e.what()).find("check constraint"), std::string::npos) << e.what();
  }
  EXPECT_EQ(db_->exec("SELECT count(*) FROM copy_test.everything").integer(0, 0), 0) << "nothing half-loaded";
}

namespace datalab {
namespace {

TEST(PostgresCopyReader, DecodesNumericTimestampsDatesAndNulls) {
  PgConnection db(test_support::test_postgres_settings());
  auto schema = arrow::schema({arrow::field("id", arrow::int64()), arrow::field("price", arrow::decimal128(13, 2)),
                               arrow::field("at", arrow::timestamp(arrow::TimeUnit::MICRO)),
                               arrow::field("day", arrow::date32()), arrow::field("name", arrow::utf8())});
  PostgresCopyReader reader(
      db,
      "SELECT * FROM (VALUES (1::bigint, 12345678901.23::numeric(13,2), timestamp '2024-02-29 23:59:59.123456',"
      " date '1999-12-31', 'a'::text), (2, -0.05, timestamp '1970-01-01', date '2000-01-01', NULL),"
      " (3, 0, NULL, NULL, 'ü'), (4, 10000, timestamp '2000-01-01 00:00:00.000001', date '2100-01-01', ''),"
      " (5, NULL, NULL, NULL, NULL)) AS t ORDER BY 1",
      schema, 2);
  int batches = 0;
  std::vector<std::string> prices, times, days, names;
  while (auto batch = reader.next()) {
    ++batches;
    for (int64_t i = 0; i < batch->num_rows(); ++i) {
      prices.push_back(batch->column(1)->IsNull(i) ? "null" : batch->column(1)->GetScalar(i).ValueOrDie()->ToString());
      times.push_back(batch->column(2)->IsNull(i) ? "null" : batch->column(2)->GetScalar(i).ValueOrDie()->ToString());
      days.push_back(batch->column(3)->IsNull(i) ? "null" : batch->column(3)->GetScalar(i).ValueOrDie()->ToString());
      names.push_back(batch->column(4)->IsNull(i) ? "null" : batch->column(4)->GetScalar(i).ValueOrDie()->ToString());
    }
  }
  EXPECT_EQ(batches, 3);
  EXPECT_EQ(reader.rows_read(), 5);
  EXPECT_EQ(prices, (std::vector<std::string>{"12345678901.23", "-0.05", "0.00", "10000.00", "null"}));
  EXPECT_EQ(times, (std::vector<std::string>{"2024-02-29 23:59:59.123456", "1970-01-01 00:00:00.000000", "null",
                                             "2000-01-01 00:00:00.000001", "null"}));
  EXPECT_EQ(days, (std::vector<std::string>{"1999-12-31", "2000-01-01", "null", "2100-01-01", "null"}));
  EXPECT_EQ(names, (std::vector<std::string>{"a", "null", "ü", "", "null"}));
  // The connection is usable again after the COPY.
  EXPECT_EQ(db.exec("SELECT 1").integer(0, 0), 1);
}

std::vector<std::string> decode_prices(PgConnection& db, const std::string& values, int precision = 13) {
  auto schema = arrow::schema({arrow::field("price", arrow::decimal128(precision, 2))});
  PostgresCopyReader reader(db, "SELECT v::numeric FROM (VALUES " + values + ") AS t(v)", schema, 100);
  std::vector<std::string> prices;
  while (auto batch = reader.next()) {
    for (int64_t i = 0; i < batch->num_rows(); ++i) prices.push_back(batch->column(0)->GetScalar(i).ValueOrDie()->ToString());
  }
  return prices;
}

TEST(PostgresCopyReader, NumericRoundsHalfUpWhateverTheLengthOfTheFraction) {
  PgConnection db(test_support::test_postgres_settings());
  EXPECT_EQ(decode_prices(db, "('0.005'), ('-2.675'), ('1.00499999999999999999999999999999999999999999999999'),"
                              " ('0.00000000000000000000000000000000000000000000009'), ('99999999999.994')"),
            (std::vector<std::string>{"0.01", "-2.68", "1.00", "0.00", "99999999999.99"}));
}

TEST(PostgresCopyReader, NumericThatADecimalCannotHoldIsAnErrorNotZero) {
  PgConnection db(test_support::test_postgres_settings());
  for (const char* special : {"Infinity", "-Infinity", "NaN"}) {
    try {
      decode_prices(db, fmt::format("('{}')", special));
      ADD_FAILURE() << special << " was decoded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("numeric ") + special), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("column price"), std::string::npos) << e.what();
    }
  }
  // Too many digits for decimal(13,2), also when the fraction rounds up into the next digit.
  for (const char* big : {"100000000000", "99999999999.995", "1e300"}) {
    try {
      decode_prices(db, fmt::format("('{}')", big));
      ADD_FAILURE() << big << " was decoded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("does not fit decimal128(13, 2)"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(db.exec("SELECT 1").integer(0, 0), 1);  // the connection is usable after the failed COPY
}

// The Arrow schema a query's result columns read as, by the type table.
std::shared_ptr<arrow::Schema> schema_of_query(PgConnection& db, const std::string& query) {
  const PgResult shape = db.exec("SELECT * FROM (" + query + ") AS q LIMIT 0");
  arrow::FieldVector fields;
  for (int c = 0; c < PQnfields(shape.get()); ++c) {
    auto type = arrow_type_of_pg(PQftype(shape.get(), c), PQfmod(shape.get(), c));
    EXPECT_NE(type, nullptr) << PQfname(shape.get(), c);
    fields.push_back(arrow::field(PQfname(shape.get(), c), type));
  }
  return arrow::schema(fields);
}

TEST(PostgresTypeTable, EveryTypeAndEdgeValueComesBackAsWritten) {
  PgConnection db(test_support::test_postgres_settings());
  db.exec("DROP SCHEMA IF EXISTS type_table_test CASCADE");
  db.exec("CREATE SCHEMA type_table_test");
  auto schema = arrow::schema({
      arrow::field("b", arrow::boolean()), arrow::field("s", arrow::int16()), arrow::field("i", arrow::int32()),
      arrow::field("l", arrow::int64()), arrow::field("f", arrow::float32()), arrow::field("d", arrow::float64()),
      arrow::field("t", arrow::utf8()), arrow::field("raw", arrow::binary()), arrow::field("day", arrow::date32()),
      arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MICRO)),
      arrow::field("tz", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")),
      arrow::field("amount", arrow::decimal128(38, 10), /*nullable=*/false)});
  arrow::BooleanBuilder b;
  arrow::Int16Builder s;
  arrow::Int32Builder i;
  arrow::Int64Builder l;
  arrow::FloatBuilder f;
  arrow::DoubleBuilder d;
  arrow::StringBuilder t;
  arrow::BinaryBuilder raw;
  arrow::Date32Builder day;
  arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::MICRO), arrow::default_memory_pool());
  arrow::TimestampBuilder tz(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool());
  arrow::Decimal128Builder amount(arrow::decimal128(38, 10));
  ASSERT_TRUE(b.AppendValues(std::vector<bool>{true, false}).ok() && b.AppendNull().ok());
  ASSERT_TRUE(s.AppendValues({-32768, 32767}).ok() && s.AppendNull().ok());
  ASSERT_TRUE(i.AppendValues({-2147483648, 2147483647}).ok() && i.AppendNull().ok());
  ASSERT_TRUE(l.AppendValues({INT64_MIN, INT64_MAX}).ok() && l.AppendNull().ok());
  ASSERT_TRUE(f.AppendValues({-0.0f, 3.4e38f}).ok() && f.AppendNull().ok());
  ASSERT_TRUE(d.AppendValues({5e-324, -1.7976931348623157e308}).ok() && d.AppendNull().ok());
  ASSERT_TRUE(t.Append("").ok() && t.Append("tab\t \\ \"q\" 😀 ünï").ok() && t.AppendNull().ok());
  ASSERT_TRUE(raw.Append(std::string("\0\xff\x01", 3)).ok() && raw.Append("").ok() && raw.AppendNull().ok());
  ASSERT_TRUE(day.AppendValues({-719162, 2932896}).ok() && day.AppendNull().ok());  // 0001-01-01, 9999-12-31
  ASSERT_TRUE(ts.AppendValues({-62135596800000000LL, 253402300799999999LL}).ok() && ts.AppendNull().ok());
  ASSERT_TRUE(tz.AppendValues({-1, 1700000000123456}).ok() && tz.AppendNull().ok());
  ASSERT_TRUE(amount.Append(arrow::Decimal128("-9999999999999999999999999999.9999999999")).ok());
  ASSERT_TRUE(amount.Append(arrow::Decimal128("0.0000000001")).ok());
  ASSERT_TRUE(amount.Append(arrow::Decimal128(0)).ok());
  auto batch = arrow::RecordBatch::Make(
      schema, 3,
      {*b.Finish(), *s.Finish(), *i.Finish(), *l.Finish(), *f.Finish(), *d.Finish(), *t.Finish(), *raw.Finish(),
       *day.Finish(), *ts.Finish(), *tz.Finish(), *amount.Finish()});

  db.exec("CREATE TABLE type_table_test.t (" + pg_column_definitions(*schema) + ")");
  CopyIn copy(db, "type_table_test", "t", schema);
  copy.write(*batch);
  EXPECT_EQ(copy.finish(), 3);

  const std::string query = "SELECT * FROM type_table_test.t ORDER BY i NULLS LAST";
  const auto read_schema = schema_of_query(db, query);
  ASSERT_EQ(read_schema->num_fields(), schema->num_fields());
  for (int c = 0; c < schema->num_fields(); ++c) {
    EXPECT_TRUE(read_schema->field(c)->type()->Equals(*schema->field(c)->type())) << read_schema->field(c)->ToString();
  }
  PostgresCopyReader reader(db, query, schema);
  auto back = reader.next();
  ASSERT_NE(back, nullptr);
  for (int c = 0; c < schema->num_fields(); ++c) {
    EXPECT_TRUE(back->column(c)->Equals(*batch->column(c))) << schema->field(c)->name() << ": "
                                                            << back->column(c)->ToString();
  }
  EXPECT_EQ(reader.next(), nullptr);
  db.exec("DROP SCHEMA type_table_test CASCADE");
}

TEST(PostgresTypeTable, ATypePostgresCannotHoldIsNamedWithItsColumn) {
  auto schema = arrow::schema({arrow::field("tags", arrow::list(arrow::utf8()))});
  try {
    pg_column_definitions(*schema);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("column 'tags' has Arrow type list<item: string>"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(arrow_type_of_pg(/*numeric without precision*/ 1700, -1), nullptr);
  EXPECT_EQ(arrow_type_of_pg(/*jsonb*/ 3802, -1), nullptr);
}

TEST(StagingTable, MergeInsertsNewRowsAndUpdatesOrKeepsExistingOnes) {
  PgConnection db(test_support::test_postgres_settings());
  db.exec("DROP SCHEMA IF EXISTS staging_test CASCADE");
  db.run_script("CREATE SCHEMA staging_test;"
                "CREATE TABLE staging_test.items (id bigint PRIMARY KEY, name text, qty integer);"
                "INSERT INTO staging_test.items VALUES (1, 'old one', 1), (2, 'old two', 2);",
                "setup");
  const auto stage_rows = [&](bool update_existing) {
    return db.transaction([&] {
      StagingTable stage(db, "items_stage", {{"id", "bigint"}, {"name", "text"}, {"qty", "integer"}});
      CopyIn copy = stage.copy({"id", "name", "qty"}, CopyFormat::text);
      std::string rows;
      append_copy_text_row(rows, {"2", "new\ttwo \\ back", "20"});
      append_copy_text_row(rows, {"3", std::nullopt, "30"});
      copy.write_rows(rows);
      EXPECT_EQ(copy.finish(), 2);
      return stage.merge_into("staging_test", "items", {"id", "name", "qty"}, {"id"}, update_existing);
    });
  };
  EXPECT_EQ(stage_rows(false), 1);  // id 3 inserted, id 2 kept
  EXPECT_EQ(db.exec("SELECT name FROM staging_test.items WHERE id = 2").value(0, 0), "old two");
  EXPECT_EQ(stage_rows(true), 2);  // id 2 updated, id 3 updated to the same values
  const auto r = db.exec("SELECT id, name, qty FROM staging_test.items ORDER BY id");
  ASSERT_EQ(r.rows(), 3);
  EXPECT_EQ(r.value(1, 1), "new\ttwo \\ back");
  EXPECT_EQ(r.integer(1, 2), 20);
  EXPECT_TRUE(r.is_null(2, 1));
  EXPECT_EQ(db.exec("SELECT count(*) FROM pg_tables WHERE tablename = 'items_stage'").integer(0, 0), 0)
      << "the stage is dropped at commit";
  db.exec("DROP SCHEMA staging_test CASCADE");
}

TEST(StagingTable, RefusesToStageOutsideATransaction) {
  PgConnection db(test_support::test_postgres_settings());
  const std::vector<std::pair<std::string, std::string>> columns = {{"id", "bigint"}};
  EXPECT_THROW(StagingTable(db, "loose_stage", columns), Error);
}

}  // namespace
}  // namespace datalab

TEST(PostgresConnection, WrongPasswordErrorDoesNotLeakIt) {
  auto settings = test_support::test_postgres_settings();
  settings.password = "definitely-wrong-Secret-123";
  try {
    PgConnection db(settings);
    FAIL();
  } catch (const ServiceError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
    EXPECT_EQ(message.find("definitely-wrong-Secret-123"), std::string::npos) << message;
  }
}

TEST(PostgresConnection, ScriptErrorNamesTheLine) {
  PgConnection db(test_support::test_postgres_settings());
  try {
    db.run_script("SELECT 1;\n\nSELECT * FROM no_such_table_xyz;", "broken.sql");
    FAIL();
  } catch (const ServiceError& e) {
    EXPECT_NE(std::string(e.what()).find("broken.sql (line 3)"), std::string::npos) << e.what();
  }
}
