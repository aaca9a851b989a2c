// datalab's Spark Connect client against the real Spark cluster (services/ctl start spark):
// SQL, Arrow results, Parquet on S3 through S3A, renames, new columns, filters, count, show,
// JDBC appends into the real PostgreSQL, and errors that say what went wrong.
#include <gtest/gtest.h>

#include <random>

#include <arrow/api.h>
#include <fmt/format.h>

#include "core/error.h"
#include "formats/parquet_file.h"
#include "integration/object_store_settings.h"
#include "integration/test_database.h"
#include "storage/spark/spark_dataframe.h"
#include "storage/spark/spark_session.h"

namespace datalab {
namespace {

using spark::Column;

spark::SparkConnectSettings spark_settings() {
  auto config = Config::with_defaults();
  config.load_env_file(".env", false);
  config.load_environment();
  return spark::SparkConnectSettings::from(config);
}

std::string unique_name(const std::string& prefix) {
  std::random_device device;
  return fmt::format("{}_{:08x}", prefix, device());
}

class SparkSessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { session_ = spark::SparkSession::connect(spark_settings()); }
  static void TearDownTestSuite() { session_.reset(); }
  static std::shared_ptr<spark::SparkSession> session_;
};
std::shared_ptr<spark::SparkSession> SparkSessionTest::session_;

TEST_F(SparkSessionTest, ConnectsToTheClusterAndReportsItsVersion) {
  EXPECT_EQ(session_->spark_version().substr(0, 2), "4.");
  EXPECT_EQ(session_->session_id().size(), 36u);
}

TEST_F(SparkSessionTest, SqlResultsArriveAsArrowTables) {
  auto table = session_->sql("SELECT id, id / 2 AS half, concat('p', id) AS name, "
                             "CASE WHEN id % 10 = 0 THEN NULL ELSE id END AS sparse FROM range(1000)")
                   .collect();
  ASSERT_EQ(table->num_rows(), 1000);
  ASSERT_EQ(table->num_columns(), 4);
  EXPECT_EQ(table->schema()->field(0)->type()->id(), arrow::Type::INT64);
  EXPECT_EQ(table->schema()->field(1)->type()->id(), arrow::Type::DOUBLE);
  EXPECT_EQ(table->schema()->field(2)->type()->id(), arrow::Type::STRING);
  EXPECT_EQ(table->column(3)->null_count(), 100);
  int64_t sum = 0;
  for (const auto& chunk : table->column(0)->chunks()) {
    auto ids = std::static_pointer_cast<arrow::Int64Array>(chunk);
    for (int64_t i = 0; i < ids->length(); ++i) sum += ids->Value(i);
  }
  EXPECT_EQ(sum, 999 * 1000 / 2);
}

TEST_F(SparkSessionTest, ReadsParquetFromS3RenamesAddsColumnsAndFilters) {
  auto s3 = test_support::s3_test_settings();
  ASSERT_TRUE(s3) << "no S3 server: run services/ctl start seaweedfs";
  ObjectStore store(*s3, unique_name("spark-test").replace(10, 1, "-"));
  store.ensure_bucket();
  arrow::StringBuilder products, prices;
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(products.Append(fmt::format("Item {}", i)).ok());
    ASSERT_TRUE(prices.Append(i % 5 == 0 ? "" : fmt::format("{}.25", i)).ok());
  }
  auto schema = arrow::schema({arrow::field("Product", arrow::utf8()), arrow::field("Price", arrow::utf8())});
  auto batch = arrow::RecordBatch::Make(schema, 500, {*products.Finish(), *prices.Finish()});
  {
    ParquetFileWriter writer(store.open_output("items.parquet"), schema);
    writer.write(*batch);
    writer.close();
  }
  const std::string path = "s3a://" + store.bucket() + "/items.parquet";

  auto frame = session_->read_parquet(path)
                   .filter(Column::fn("trim", {Column::col("Price")}) != Column::lit(""))
                   .with_columns_renamed({{"Product", "name"}, {"Price", "price"}})
                   .with_column("price", Column::col("price").cast("decimal(12,2)"))
                   .with_column("created_at", Column::fn("current_timestamp"))
                   .with_column("origin", Column::lit("test"));
  EXPECT_EQ(frame.count(), 400);
  auto table = frame.order_by({Column::col("price")}).limit(3).collect();
  ASSERT_EQ(table->num_rows(), 3);
  const auto& fields = table->schema()->fields();
  ASSERT_EQ(fields.size(), 4u) << table->schema()->ToString();
  EXPECT_EQ(fields[0]->ToString(), "name: string");
  EXPECT_EQ(fields[1]->ToString(), "price: decimal128(12, 2)");
  EXPECT_EQ(fields[2]->name(), "created_at");
  ASSERT_EQ(fields[2]->type()->id(), arrow::Type::TIMESTAMP);  // zone: the server's session time zone
  EXPECT_EQ(std::static_pointer_cast<arrow::TimestampType>(fields[2]->type())->unit(), arrow::TimeUnit::MICRO);
  EXPECT_EQ(fields[3]->ToString(), "origin: string not null");
  auto names = std::static_pointer_cast<arrow::StringArray>(table->column(0)->chunk(0));
  EXPECT_EQ(names->GetString(0), "Item 1");
  EXPECT_EQ(std::static_pointer_cast<arrow::Decimal128Array>(table->column(1)->chunk(0))->FormatValue(0), "1.25");

  const auto shown = frame.select({Column::col("name")}).limit(2).show_string(2);
  EXPECT_NE(shown.find("|  name|"), std::string::npos) << shown;
  EXPECT_NE(shown.find("|Item 1|"), std::string::npos) << shown;
  store.remove("items.parquet");
}

TEST_F(SparkSessionTest, AppendsThroughJdbcIntoPostgres) {
  const auto pg = test_support::test_postgres_settings();
  PgConnection db(pg);
  const std::string table = unique_name("spark_jdbc_test");
  db.exec(fmt::format("CREATE TABLE public.{} (id bigint, label text)", table));
  const std::string url = fmt::format("jdbc:postgresql://{}:{}/{}", pg.host, pg.port, pg.database);
  const std::map<std::string, std::string> properties = {
      {"user", pg.user}, {"password", pg.password}, {"driver", "org.postgresql.Driver"}};
  auto rows = session_->sql("SELECT id, concat('row ', id) AS label FROM range(250)");
  rows.write_jdbc(url, "public." + table, properties, spark::SaveMode::Append);
  rows.write_jdbc(url, "public." + table, properties, spark::SaveMode::Append);
  EXPECT_EQ(db.exec(fmt::format("SELECT count(*) FROM public.{}", table)).integer(0, 0), 500);
  EXPECT_EQ(db.exec(fmt::format("SELECT count(*) FROM public.{} WHERE label = 'row 249'", table)).integer(0, 0), 2);
  db.exec(fmt::format("DROP TABLE public.{}", table));
}

TEST_F(SparkSessionTest, ErrorsNameTheProblemAndHideThePassword) {
  try {
    session_->sql("SELECT * FROM no_such_table_anywhere").collect();
    FAIL() << "expected a ServiceError";
  } catch (const ServiceError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_table_anywhere"), std::string::npos) << e.what();
  }
  const auto pg = test_support::test_postgres_settings();
  const std::string wrong_password = "wrong-password-" + unique_name("x");
  try {
    session_->sql("SELECT 1 AS id").write_jdbc(
        fmt::format("jdbc:postgresql://{}:{}/{}", pg.host, pg.port, pg.database), "public.never_written",
        {{"user", pg.user}, {"password", wrong_password}, {"driver", "org.postgresql.Driver"}}, spark::SaveMode::Append);
    FAIL() << "expected a ServiceError";
  } catch (const ServiceError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("JDBC"), std::string::npos) << message;
    EXPECT_EQ(message.find(wrong_password), std::string::npos) << message;
  }
}

TEST(SparkSessionUnreachable, SaysWhereItLookedWithinTheTimeout) {
  auto settings = spark::SparkConnectSettings::parse("sc://127.0.0.1:1");
  settings.connect_timeout_seconds = 2;
  try {
    spark::SparkSession::connect(settings);
    FAIL() << "expected a ServiceError";
  } catch (const ServiceError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot reach Spark Connect at sc://127.0.0.1:1"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace datalab
