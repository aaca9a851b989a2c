// The ClickHouse connector and the week 5 analytics against the real server that
// scripts/test starts. Everything runs in its own database (<CLICKHOUSE_DB>_test), so a
// user's web_logs is left alone.
#include <gtest/gtest.h>

#include <arrow/api.h>

#include "core/config.h"
#include "core/dates.h"
#include "datagen/web_log_generator.h"
#include "modules/clickhouse/web_log_analytics.h"
#include "storage/clickhouse/clickhouse_client.h"
#include "storage/clickhouse/parallel_inserter.h"

namespace datalab::clickhouse {
namespace {

ClickHouseSettings server_settings() {
  auto config = Config::with_defaults();
  config.load_env_file(".env", false);
  config.load_environment();
  return ClickHouseSettings::from(config);
}

// Settings for the test database, created empty on first use.
ClickHouseSettings test_settings() {
  static const ClickHouseSettings settings = [] {
    auto s = server_settings();
    const std::string test_db = s.database + "_test";
    ClickHouseClient(s).execute("DROP DATABASE IF EXISTS " + quote_identifier(test_db));
    ClickHouseClient(s).execute("CREATE DATABASE " + quote_identifier(test_db));
    s.database = test_db;
    return s;
  }();
  return settings;
}

template <typename T>
T ok(arrow::Result<T> result) {
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.MoveValueUnsafe();
}

TEST(ClickHouseClientTest, InsertsArrowBatchesInNativeFormatPlainAndGzipped) {
  ClickHouseClient client(test_settings());
  client.execute("DROP TABLE IF EXISTS types");
  client.execute(
      "CREATE TABLE types (i8 Int8, i64 Int64, u16 UInt16, f Float64, b UInt8, d Date, ts DateTime, s String, "
      "n Nullable(Int32)) ENGINE = MergeTree ORDER BY i64");
  auto schema = arrow::schema({
      arrow::field("i8", arrow::int8(), false), arrow::field("i64", arrow::int64(), false),
      arrow::field("u16", arrow::uint16(), false), arrow::field("f", arrow::float64(), false),
      arrow::field("b", arrow::boolean(), false), arrow::field("d", arrow::date32(), false),
      arrow::field("ts", arrow::timestamp(arrow::TimeUnit::SECOND, "UTC"), false),
      arrow::field("s", arrow::utf8(), false), arrow::field("n", arrow::int32(), true)});
  arrow::Int8Builder i8;
  arrow::Int64Builder i64;
  arrow::UInt16Builder u16;
  arrow::DoubleBuilder f;
  arrow::BooleanBuilder b;
  arrow::Date32Builder d;
  arrow::TimestampBuilder ts(schema->field(6)->type(), arrow::default_memory_pool());
  arrow::StringBuilder s;
  arrow::Int32Builder n;
  ASSERT_TRUE(i8.AppendValues({-5, 7}).ok());
  ASSERT_TRUE(i64.AppendValues({1, 2}).ok());
  ASSERT_TRUE(u16.AppendValues({65535, 0}).ok());
  ASSERT_TRUE(f.AppendValues({1.5, -0.25}).ok());
  ASSERT_TRUE(b.AppendValues(std::vector<bool>{true, false}).ok());
  ASSERT_TRUE(d.AppendValues({*parse_iso_date("2025-06-30"), 0}).ok());
  ASSERT_TRUE(ts.AppendValues({1751241600, 0}).ok());
  ASSERT_TRUE(s.AppendValues({"it's \"quoted\"\n", ""}).ok());
  ASSERT_TRUE(n.Append(42).ok());
  ASSERT_TRUE(n.AppendNull().ok());
  auto batch = arrow::RecordBatch::Make(
      schema, 2,
      {ok(i8.Finish()), ok(i64.Finish()), ok(u16.Finish()), ok(f.Finish()), ok(b.Finish()), ok(d.Finish()),
       ok(ts.Finish()), ok(s.Finish()), ok(n.Finish())});
  client.insert("types", *batch);
  client.insert("types", *batch, BodyCompression::Gzip);

  const auto result = client.select("SELECT i8, u16, f, b, d, ts, s, n FROM types ORDER BY i64 LIMIT 1 BY i64");
  ASSERT_EQ(result.rows.size(), 2u);
  const std::vector<std::optional<std::string>> first = {"-5", "65535", "1.5", "1", "2025-06-30",
                                                         "2025-06-30 00:00:00", "it's \"quoted\"\n", "42"};
  EXPECT_EQ(result.rows[0], first);
  EXPECT_EQ(result.rows[1][7], std::nullopt);
  EXPECT_EQ(client.scalar("SELECT count() FROM types"), "4");
}

TEST(ClickHouseClientTest, ServerErrorsCarryTheCodeAndNeverThePassword) {
  ClickHouseClient client(test_settings());
  try {
    client.select("SELECT no_such_column FROM system.one");
    FAIL() << "expected an error";
  } catch (const ClickHouseError& e) {
    EXPECT_EQ(e.code(), 47);  // UNKNOWN_IDENTIFIER
    EXPECT_EQ(e.exit_code(), 3);
    EXPECT_NE(std::string(e.what()).find("no_such_column"), std::string::npos) << e.what();
  }

  auto unknown_db = test_settings();
  unknown_db.database = "no_such_database";
  try {
    ClickHouseClient(unknown_db).scalar("SELECT 1");
    FAIL() << "expected an error";
  } catch (const ClickHouseError& e) {
    EXPECT_EQ(e.code(), 81);
    EXPECT_NE(std::string(e.what()).find("no_such_database"), std::string::npos) << e.what();
  }

  auto wrong_password = test_settings();
  wrong_password.password = "not-the-password-xyz";
  try {
    ClickHouseClient(wrong_password).scalar("SELECT 1");
    FAIL() << "expected an error";
  } catch (const ClickHouseError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("refused the login"), std::string::npos) << message;
    EXPECT_EQ(message.find("not-the-password-xyz"), std::string::npos) << message;
  }

  auto unreachable = test_settings();
  unreachable.host = "127.0.0.1";
  unreachable.port = "1";
  try {
    ClickHouseClient(unreachable).scalar("SELECT 1");
    FAIL() << "expected an error";
  } catch (const ServiceError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot reach ClickHouse"), std::string::npos) << e.what();
  }
}

TEST(ClickHouseClientTest, StatisticsComeFromTheResponseAndTheQueryLog) {
  ClickHouseClient client(test_settings());
  client.execute("DROP TABLE IF EXISTS numbers_100k");
  client.execute("CREATE TABLE numbers_100k (n UInt64) ENGINE = MergeTree ORDER BY n");
  client.execute("INSERT INTO numbers_100k SELECT number FROM numbers(100000)");
  QueryOptions options;
  options.query_id = new_query_id("stats");
  const auto result = client.select("SELECT n % 10 AS k, count() FROM numbers_100k GROUP BY k", options);
  EXPECT_EQ(result.rows.size(), 10u);
  ASSERT_TRUE(result.response_statistics);
  EXPECT_EQ(result.response_statistics->read_rows, 100000u);
  const auto logged = client.query_log({options.query_id});
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].read_rows, 100000u);
  EXPECT_EQ(logged[0].result_rows, 10u);
  EXPECT_GT(logged[0].read_bytes, 0u);
  EXPECT_GT(logged[0].memory_bytes, 0u);
  EXPECT_GT(logged[0].result_bytes, 0u);
}

TEST(ClickHouseClientTest, ParallelInsertStoresEveryBatchOnce) {
  const auto settings = test_settings();
  ClickHouseClient client(settings);
  recreate_web_logs(client);
  const WebLogGenerator generator(3, *parse_iso_date("2025-06-30"));
  ParallelInsertOptions options;
  options.threads = 3;
  options.compression = BodyCompression::Gzip;
  int64_t reported = 0;
  const auto summary = insert_in_parallel(
      settings, "web_logs", 7, [&](int64_t n) { return generator.batch(n * 1000, 1000); },
      [&](int64_t rows) { reported += rows; }, options);
  EXPECT_EQ(summary.rows, 7000);
  EXPECT_EQ(reported, 7000);
  EXPECT_LT(summary.sent_bytes, summary.encoded_bytes);
  EXPECT_EQ(client.scalar("SELECT count() FROM web_logs"), "7000");
  EXPECT_EQ(client.scalar("SELECT uniqExact(timestamp, user_id, url, response_time, status_code) FROM web_logs"),
            "7000");

  // A failing batch stops the load and surfaces the server's error.
  EXPECT_THROW(insert_in_parallel(
                   settings, "no_such_table", 3, [&](int64_t n) { return generator.batch(n, 10); }, {}, options),
               ClickHouseError);
}

TEST(ClickHouseAnalyticsTest, EveryQueryGivesIdenticalResultsBeforeAndAfterItsOptimization) {
  const auto settings = test_settings();
  ClickHouseClient client(settings);
  recreate_web_logs(client);
  LoadOptions load;
  load.rows = 300'000;
  load.batch_rows = 70'000;  // several parts per partition, so the views see unmerged data
  const WebLogGenerator generator(11, *parse_iso_date("2025-06-30"));
  load_web_logs(settings, generator, load, {});
  ASSERT_TRUE(wait_until_settled(client, {"web_logs"}, std::chrono::seconds(120)));

  const auto features = ServerFeatures::detect(client);
  const auto comparisons = run_analytics(client, features.best_optimization());
  ASSERT_EQ(comparisons.size(), 4u);
  for (const auto& c : comparisons) {
    SCOPED_TRACE(c.query->name);
    EXPECT_TRUE(c.identical);
    EXPECT_FALSE(c.after.result.rows.empty());
    EXPECT_EQ(c.before.result.rows, c.after.result.rows);
    // The raw query reads every row; the optimized one far fewer.
    EXPECT_EQ(c.before.statistics.read_rows, 300'000u);
    EXPECT_LT(c.after.statistics.read_rows, 300'000u / 10);
    EXPECT_GT(c.before.statistics.memory_bytes, 0u);
    EXPECT_EQ(c.after.statistics.result_rows, c.after.result.rows.size());
  }
  // Independent checks of the numbers themselves.
  int64_t per_day_total = 0;
  for (const auto& row : comparisons[0].after.result.rows) per_day_total += std::stoll(*row[1]);
  EXPECT_EQ(per_day_total, 300'000);
  int64_t errors = 0;
  for (const auto& row : comparisons[2].after.result.rows) errors += std::stoll(*row[2]);
  EXPECT_EQ(std::to_string(errors), client.scalar("SELECT count() FROM web_logs WHERE status_code >= 400"));
  EXPECT_EQ(comparisons[3].after.result.rows.size(), 10u);

  // The views keep up with later inserts.
  client.insert("web_logs", *generator.batch(300'000, 1000));
  EXPECT_EQ(client.scalar("SELECT sum(errors) FROM web_logs_errors_per_day"),
            client.scalar("SELECT count() FROM web_logs WHERE status_code >= 400"));

  // A rerun replaces web_logs and everything derived from it.
  recreate_web_logs(client);
  EXPECT_EQ(client.scalar("SELECT count() FROM web_logs"), "0");
  EXPECT_EQ(client.scalar("SELECT count() FROM system.tables WHERE database = currentDatabase() AND "
                          "name LIKE 'web_logs_%'"),
            "0");
}

}  // namespace
}  // namespace datalab::clickhouse
