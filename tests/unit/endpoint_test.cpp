// `datalab copy` ends as a user types them: URLs with percent-encoding, settings filling
// the parts left out, malformed URLs told apart, passwords never shown.
#include "transfer/endpoint.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "transfer/copy_run.h"

using namespace datalab;
using namespace datalab::transfer;

namespace {

Config defaults() { return Config::with_defaults(); }

std::string config_error(const std::string& text) {
  try {
    parse_endpoint(text, defaults());
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << text << " was accepted";
  return "";
}

}  // namespace

TEST(Endpoint, PostgresUrlDecodesEveryPart) {
  const auto e = parse_endpoint("postgres://us%40er:p%40ss%2Fw%3Fd@db.example:6543/sales?table=public.orders",
                                defaults());
  EXPECT_EQ(e.kind, EndpointKind::postgres);
  EXPECT_EQ(e.user, "us@er");
  EXPECT_EQ(e.password, "p@ss/w?d");
  EXPECT_EQ(e.host, "db.example");
  EXPECT_EQ(e.port, "6543");
  EXPECT_EQ(e.database, "sales");
  EXPECT_EQ(e.table, "public.orders");
  EXPECT_EQ(e.masked.find("p%40ss"), std::string::npos) << e.masked;
}

TEST(Endpoint, PartsLeftOutComeFromTheSettings) {
  const auto e = parse_endpoint("postgres:///?query=SELECT%201%20AS%20x", defaults());
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, "10452");
  EXPECT_EQ(e.database, "it_one");
  EXPECT_EQ(e.query, "SELECT 1 AS x");
}

TEST(Endpoint, DatabaseUrlFillsInBeforeTheSettings) {
  Config config = defaults();
  config.set("DATABASE_URL", "postgresql://alice:s3cret@warehouse:5433/dw", SettingSource::Environment);
  const auto e = parse_endpoint("postgres:///?table=t", config);
  EXPECT_EQ(e.user, "alice");
  EXPECT_EQ(e.password, "s3cret");
  EXPECT_EQ(e.host, "warehouse");
  EXPECT_EQ(e.port, "5433");
  EXPECT_EQ(e.database, "dw");
  const auto own = parse_endpoint("postgres://bob@other/x?table=t", config);
  EXPECT_EQ(own.user, "bob");
  EXPECT_EQ(own.host, "other");
  EXPECT_EQ(own.database, "x");
}

TEST(Endpoint, MalformedUrlsSayWhereAndNeverShowThePassword) {
  const auto at = config_error("postgres://u:p@ss@host/db?table=t");
  EXPECT_NE(at.find("raw '@'"), std::string::npos) << at;
  EXPECT_EQ(at.find("ss@"), std::string::npos) << at;
  const auto question = config_error("postgres://u:pa?ss@host/db?table=t");
  EXPECT_NE(question.find("raw '/' or '?'"), std::string::npos) << question;
  EXPECT_EQ(question.find("pa?ss"), std::string::npos) << question;
  EXPECT_NE(config_error("postgres://u:p@host:99999/db").find("port '99999'"), std::string::npos);
  EXPECT_NE(config_error("postgres://u:p%zz@host/db").find("two hex digits"), std::string::npos);
  EXPECT_NE(config_error("mysql://host/db").find("unknown kind 'mysql://'"), std::string::npos);
  EXPECT_NE(config_error("postgres://host/db?table=a&query=SELECT%201").find("not both"), std::string::npos);
}

TEST(Endpoint, FilesTellTheirFormatFromTheName) {
  const auto s3 = parse_endpoint("s3://lake/raw/orders.parquet", defaults());
  EXPECT_TRUE(s3.s3);
  EXPECT_EQ(s3.bucket, "lake");
  EXPECT_EQ(s3.key, "raw/orders.parquet");
  EXPECT_EQ(s3.format, FileFormat::parquet);
  EXPECT_EQ(parse_endpoint("data/*.csv", defaults()).format, FileFormat::csv);
  EXPECT_EQ(parse_endpoint("file:///tmp/x.jsonl", defaults()).location, "/tmp/x.jsonl");
  EXPECT_FALSE(parse_endpoint("s3://lake/raw/", defaults()).format.has_value());
  EXPECT_NE(config_error("notes.txt").find("cannot tell the file format"), std::string::npos);
}

TEST(Endpoint, ClickHousePathNamesDatabaseAndTable) {
  const auto e = parse_endpoint("clickhouse://default:pw@ch:8123/analytics.events", defaults());
  EXPECT_EQ(e.database, "analytics");
  EXPECT_EQ(e.table, "events");
  EXPECT_EQ(e.port, "8123");
}

TEST(MaskSecrets, AnyUrlPasswordIsMaskedWhole) {
  EXPECT_EQ(mask_secrets("copy postgres://u:p@ss@h/db done"), "copy postgres://u:********@h/db done");
  EXPECT_EQ(mask_secrets("s3://bucket/key.parquet"), "s3://bucket/key.parquet");
  EXPECT_EQ(mask_secrets("postgres://user@host/db"), "postgres://user@host/db");
}

TEST(CopyCast, TypeNamesAUserWrites) {
  EXPECT_TRUE(parse_arrow_type("decimal(12,2)")->Equals(*arrow::decimal128(12, 2)));
  EXPECT_TRUE(parse_arrow_type("timestamptz")->Equals(*arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")));
  EXPECT_TRUE(parse_arrow_type("text")->Equals(*arrow::utf8()));
  EXPECT_THROW(parse_arrow_type("decimal(40,2)"), ConfigError);
  EXPECT_THROW(parse_arrow_type("varchar"), ConfigError);
}
