// The Spark engine of spark_upload: the same rules as product_rules.h written as a Spark
// expression, run on the cluster through Spark Connect. Spark appends the accepted and the
// rejected rows through its JDBC writer into two staging tables of this load; datalab then
// moves them into spark_upload.products / products_rejected in one transaction (Spark's JDBC
// writer commits per partition, so writing the target directly could leave half a load).
#include <chrono>

#include <fmt/format.h>

#include "core/error.h"
#include "core/uuid.h"
#include "core/stopwatch.h"
#include "modules/spark_upload/product_load.h"
#include "modules/spark_upload/product_rules.h"
#include "modules/spark_upload/rejected_rows_writer.h"
#include "modules/spark_upload/spark_upload_sql.h"
#include "storage/spark/spark_dataframe.h"

namespace datalab::spark_upload {

namespace {

using spark::Column;

// CASE WHEN ... END over Product and Price: the first rule a row breaks, NULL when it breaks none.
Column reject_reason() {
  const Column product = Column::col("Product"), price = Column::col("Price");
  const Column trimmed = Column::fn("trim", {price});
  const Column cents = trimmed.try_cast("decimal(12,2)");
  return Column::fn("when", {
      product.is_null() || Column::fn("trim", {product}) == Column::lit(""), Column::lit(kMissingName),
      price.is_null() || trimmed == Column::lit(""), Column::lit(kMissingPrice),
      !Column::fn("rlike", {trimmed, Column::lit(kPricePattern)}), Column::lit(kPriceNotNumber),
      cents.is_null(), Column::lit(kPriceOutOfRange),
      cents < Column::lit(int64_t{0}), Column::lit(kNegativePrice)});
}

// Drops the load's staging tables when the load fails half way.
class StagingTables {
 public:
  StagingTables(PgConnection& db, std::string products, std::string rejected)
      : db_(db), products_(std::move(products)), rejected_(std::move(rejected)) {
    db_.exec(fmt::format("CREATE UNLOGGED TABLE spark_upload.{} (name text, price numeric(12, 2), created_at timestamptz)",
                         quote_identifier(products_)));
    db_.exec(fmt::format("CREATE UNLOGGED TABLE spark_upload.{} (product text, price text, reason text)",
                         quote_identifier(rejected_)));
  }
  ~StagingTables() {
    try {
      drop();
    } catch (...) {
    }
  }
  void drop() {
    if (dropped_) return;
    db_.exec(fmt::format("DROP TABLE IF EXISTS spark_upload.{}, spark_upload.{}", quote_identifier(products_),
                         quote_identifier(rejected_)));
    dropped_ = true;
  }
  std::string products() const { return "spark_upload." + products_; }
  std::string rejected() const { return "spark_upload." + rejected_; }

 private:
  PgConnection& db_;
  std::string products_, rejected_;
  bool dropped_ = false;
};

}  // namespace

LoadResult load_with_spark(spark::SparkSession& session, PgConnection& db, const LandingResult& landing,
                           const std::string& source, const SparkLoadOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const auto& pg = db.settings();
  const std::string jdbc_url =
      fmt::format("jdbc:postgresql://{}:{}/{}?reWriteBatchedInserts=true", pg.host, pg.port, pg.database);
  const std::map<std::string, std::string> jdbc = {{"user", pg.user},
                                                   {"password", pg.password},
                                                   {"driver", "org.postgresql.Driver"},
                                                   {"batchsize", "10000"}};

  const std::string suffix = random_uuid().substr(0, 8);
  StagingTables staging(db, "products_load_" + suffix, "products_rejected_load_" + suffix);

  auto checked = session.read_parquet(options.parquet_path).with_column("reject_reason", reject_reason());
  auto accepted = checked.filter(Column::col("reject_reason").is_null())
                      .with_columns_renamed({{"Product", "name"}, {"Price", "price"}})
                      .with_column("price", Column::fn("trim", {Column::col("price")}).cast("decimal(12,2)"))
                      .with_column("created_at", Column::fn("current_timestamp"))
                      .select({Column::col("name"), Column::col("price"), Column::col("created_at")});
  if (options.partitions > 0) accepted = accepted.repartition(options.partitions);
  accepted.write_jdbc(jdbc_url, staging.products(), jdbc, spark::SaveMode::Append);
  // A second pass over the file for the rejected rows only when some rows were not accepted.
  const int64_t staged = db.exec(fmt::format("SELECT count(*) FROM {}", staging.products())).integer(0, 0);
  if (staged != landing.rows) {
    checked.filter(Column::col("reject_reason").is_not_null())
        .select({Column::col("Product").alias("product"), Column::col("Price").alias("price"),
                 Column::col("reject_reason").alias("reason")})
        .write_jdbc(jdbc_url, staging.rejected(), jdbc, spark::SaveMode::Append);
  }

  LoadResult result;
  const auto commit_start = std::chrono::steady_clock::now();
  db.transaction([&] {
    db.exec(sql::clear_source, {source});
    result.loaded = db.exec(fmt::format("INSERT INTO spark_upload.products (name, price, created_at, source) "
                                        "SELECT name, price, created_at, $1 FROM {}",
                                        staging.products()),
                            {source})
                        .affected();
    result.rejected = db.exec(fmt::format("INSERT INTO spark_upload.products_rejected (source, product, price, reason) "
                                          "SELECT $1, product, price, reason FROM {}",
                                          staging.rejected()),
                              {source})
                          .affected();
    if (result.loaded + result.rejected != landing.rows) {  // checked before anything becomes visible
      throw Error(fmt::format("Spark load of {} accounted for {} loaded + {} rejected rows, but the file has {} rows",
                              landing.uri, result.loaded, result.rejected, landing.rows));
    }
    write_rejected_rows(db, source, landing.malformed);
    result.rejected += static_cast<int64_t>(landing.malformed.size());
  });
  staging.drop();
  result.commit_seconds = seconds_since(commit_start);
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace datalab::spark_upload
