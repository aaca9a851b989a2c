#include "modules/spark_upload/spark_upload_module.h"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/stopwatch.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/results_file.h"
#include "datagen/product_generator.h"
#include "modules/spark_upload/product_landing.h"
#include "modules/spark_upload/product_load.h"
#include "modules/spark_upload/spark_upload_sql.h"
#include "storage/objectstore/object_store.h"
#include "storage/spark/spark_session.h"

namespace datalab::spark_upload {

namespace {

using Clock = std::chrono::steady_clock;

// What Spark reads for an object store URI: S3 through Hadoop's S3A connector.
std::string spark_path(const std::string& uri) {
  if (uri.rfind("s3://", 0) == 0) return "s3a://" + uri.substr(5);
  return uri;
}

}  // namespace

void SparkUploadModule::add_run_flags(CLI::App& command) {
  command.add_option("--engine", options_.engine, "native (datalab itself) or spark (Spark Connect at SPARK_CONNECT_URL)")
      ->check(CLI::IsMember({"native", "spark"}))
      ->capture_default_str();
  command.add_option("--input", options_.input, "products CSV with Product and Price columns (default: generate one)");
  command.add_option("--rows", options_.rows, "products to generate when no --input is given")->capture_default_str();
  command.add_option("--bad-rows", options_.bad_rows, "generated rows made invalid on purpose")->capture_default_str();
  command.add_option("--seed", options_.seed, "random seed: the same seed gives the same products")
      ->capture_default_str();
  command.add_option("--show", options_.show, "rows written (and rejected) to show")->capture_default_str();
  command.add_option("--spark-partitions", options_.spark_partitions, "Spark engine: repartition into N JDBC writers (0: one per Parquet row group)")
      ->capture_default_str();
  command.add_option("--results", options_.results, "results file (JSON) with counts and timings")
      ->capture_default_str();
}

void SparkUploadModule::run(AppContext& context) {
  if (options_.show < 0 || options_.spark_partitions < 0) throw ConfigError("--show and --spark-partitions must be >= 0");
  const auto& config = context.config;
  const auto total_start = Clock::now();
  Report report(context.format);
  nlohmann::json results = {{"module", "spark_upload"}, {"engine", options_.engine}};

  // Everything that can be unreachable is checked before anything is written.
  PgConnection db(PostgresSettings::from(config));
  ObjectStore store(ObjectStoreSettings::from(config), config.value("SPARK_BUCKET"));
  std::shared_ptr<spark::SparkSession> session;
  double connect_seconds = 0;
  if (options_.engine == "spark") {
    const auto start = Clock::now();
    session = spark::SparkSession::connect(spark::SparkConnectSettings::from(config));
    connect_seconds = seconds_since(start);
    results["spark_version"] = session->spark_version();
    results["spark_connect_seconds"] = connect_seconds;
  }
  report.note(fmt::format("spark_upload ({} engine): PostgreSQL {}, object store {}, bucket {}{}", options_.engine,
                          db.settings().describe(), store.settings().describe(), store.bucket(),
                          session ? fmt::format(", Spark {} at {}", session->spark_version(), session->settings().describe())
                                  : ""));
  store.ensure_bucket();
  db.run_script(sql::create_tables, "create_tables.sql");

  std::string input = options_.input;
  if (input.empty()) {
    input = ".state/spark_upload/products.csv";
    const auto stats = write_products_csv(input, options_.rows, options_.seed, options_.bad_rows);
    report.note(fmt::format("generated {} ({} rows, {} invalid on purpose, seed {})", input,
                            with_thousands(stats.rows), stats.bad_rows, options_.seed));
  }

  // Stage 1: CSV -> products.parquet (text as received).
  const auto landing = land_products_csv(input, store, "products.parquet");
  const std::string source = landing.uri;
  report.summary("landed", {{"input", input},
                            {"object", landing.uri},
                            {"rows", with_thousands(landing.rows)},
                            {"malformed CSV lines", std::to_string(landing.malformed.size())},
                            {"bytes", with_thousands(landing.bytes)},
                            {"seconds", fmt::format("{:.2f}", landing.seconds)}});

  // Stage 2: check, rename, add created_at, append to PostgreSQL.
  LoadResult load;
  if (session) {
    load = load_with_spark(*session, db, landing, source, {spark_path(landing.uri), options_.spark_partitions});
  } else {
    load = load_natively(db, store, landing, source);
  }

  report.table(fmt::format("{} rows loaded into spark_upload.products, {} rejected ({} engine, {:.2f} s, {} rows/s)",
                           with_thousands(load.loaded), with_thousands(load.rejected), options_.engine, load.seconds,
                           human_rate(landing.rows / std::max(load.seconds, 1e-9))),
               db.exec(sql::load_counts, {source}).to_table());
  if (options_.show > 0) {
    report.table("rows written (first " + std::to_string(options_.show) + ")",
                 db.exec(sql::loaded_rows, {source, std::to_string(options_.show)}).to_table());
    if (load.rejected > 0) {
      report.table("rejected rows (first " + std::to_string(options_.show) + ", all in spark_upload.products_rejected)",
                   db.exec(sql::rejected_rows, {source, std::to_string(options_.show)}).to_table());
    }
  }

  results["input"] = input;
  results["object"] = landing.uri;
  results["rows"] = landing.rows;
  results["loaded"] = load.loaded;
  results["rejected"] = load.rejected;
  results["landing_seconds"] = landing.seconds;
  results["load_seconds"] = load.seconds;
  if (session) results["load_commit_seconds"] = load.commit_seconds;
  results["total_seconds"] = seconds_since(total_start);
  write_results_file(options_.results, results);
  report.finish();
  if (load.rejected > 0) {
    throw RejectedRows(fmt::format("{} rows rejected (reasons above; kept in spark_upload.products_rejected)", load.rejected),
                       load.rejected);
  }
}

ModuleFootprint SparkUploadModule::footprint(const Config& config) const {
  return {{"spark_upload"}, {}, {{config.value("SPARK_BUCKET"), "products.parquet"}}, {}, {}};
}

std::unique_ptr<Module> make_module() { return std::make_unique<SparkUploadModule>(); }

}  // namespace datalab::spark_upload
