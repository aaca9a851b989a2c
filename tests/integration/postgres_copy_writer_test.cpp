#include "storage/postgres/postgres_copy_writer.h"

#include <arrow/util/decimal.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "integration/test_database.h"

using namespace datalab;

class PostgresCopyWriterTest : public ::testing::Test {
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

TEST_F(PostgresCopyWriterTest, EveryTypeArrivesAsPostgresReadsIt) {
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

  PostgresCopyWriter writer(*db_, "copy_test", "everything", schema);
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

TEST_F(PostgresCopyWriterTest, ServerRejectionIsAClearErrorAndConnectionSurvives) {
  db_->exec("ALTER TABLE copy_test.everything ADD CHECK (i > 0)");
  arrow::Int32Builder i;
  ASSERT_TRUE(i.AppendValues({1, -5}).ok());
  auto schema = arrow::schema({arrow::field("i", arrow::int32())});
  auto batch = arrow::RecordBatch::Make(schema, 2, {*i.Finish()});
  try {
    PostgresCopyWriter writer(*db_, "copy_test", "everything", schema);
    writer.write(*batch);
    writer.finish();
    FAIL() << "the check constraint must reject the COPY";
  } catch (const ServiceError& e) {
    EXPECT_NE(std::string(e.what()).find("check constraint"), std::string::npos) << e.what();
  }
  EXPECT_EQ(db_->exec("SELECT count(*) FROM copy_test.everything").integer(0, 0), 0) << "nothing half-loaded";
}

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
