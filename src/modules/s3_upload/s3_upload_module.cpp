#include "modules/s3_upload/s3_upload_module.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/stopwatch.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/results_file.h"
#include "formats/parquet_file.h"
#include "modules/s3_upload/s3_upload_sql.h"
#include "storage/iceberg/iceberg_table.h"
#include "storage/iceberg/sql_catalog.h"
#include "storage/objectstore/object_store.h"
#include "storage/postgres/advisory_lock.h"
#include "storage/postgres/postgres_copy_reader.h"

namespace datalab::s3_upload {

namespace {

using Clock = std::chrono::steady_clock;
using BatchPtr = std::shared_ptr<arrow::RecordBatch>;

// A small bounded queue between the PostgreSQL reader and a Parquet writer: reading,
// encoding and uploading overlap, and at most `capacity` batches wait in memory.
class BatchQueue {
 public:
  explicit BatchQueue(std::size_t capacity) : capacity_(capacity) {}
  void push(BatchPtr batch) {  // nullptr = end of data
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_ || aborted_; });
    if (aborted_) return;
    items_.push_back(std::move(batch));
    not_empty_.notify_one();
  }
  // The next batch, nullptr at the end of data; throws when the reader failed, so a writer
  // never finishes (and publishes) a file from part of the rows.
  BatchPtr pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !items_.empty() || aborted_; });
    if (aborted_) throw Error("export stopped: reading products failed");
    auto batch = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return batch;
  }
  void abort() {
    std::lock_guard lock(mutex_);
    aborted_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  std::size_t capacity_;
  std::deque<BatchPtr> items_;
  bool aborted_ = false;
  std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
};

std::shared_ptr<arrow::Schema> products_schema() {
  return iceberg::with_field_ids(arrow::Schema({
      arrow::field("id", arrow::int64()),
      arrow::field("name", arrow::utf8()),
      arrow::field("price", arrow::decimal128(13, 2)),
      arrow::field("created_at", arrow::timestamp(arrow::TimeUnit::MICRO)),
  }));
}

struct WrittenObject {
  std::string kind, key, uri;
  int64_t rows = 0, bytes = 0;
  std::vector<iceberg::ColumnStats> columns;  // from the written file's footer
};

struct ExportResult {
  int64_t rows = 0;
  double seconds = 0;
  std::vector<WrittenObject> objects;
};

// Streams the products table once and writes every target file from the same batches,
// each target in its own thread.
ExportResult export_products(PgConnection& db, ObjectStore& store, const std::vector<WrittenObject>& targets,
                             int64_t batch_rows, int64_t expected_rows) {
  const auto start = Clock::now();
  const auto schema = products_schema();
  std::vector<std::unique_ptr<BatchQueue>> queues;
  std::vector<std::thread> writers;
  std::vector<std::exception_ptr> errors(targets.size());
  std::vector<std::vector<iceberg::ColumnStats>> columns(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) queues.push_back(std::make_unique<BatchQueue>(4));
  for (std::size_t i = 0; i < targets.size(); ++i) {
    writers.emplace_back([&, i] {
      try {
        ParquetFileWriter writer(store.open_output(targets[i].key), schema);
        while (auto batch = queues[i]->pop()) writer.write(*batch);
        writer.close();
        columns[i] = iceberg::column_stats(*writer.metadata());
      } catch (...) {
        errors[i] = std::current_exception();
        queues[i]->abort();
      }
    });
  }
  ExportResult result;
  std::exception_ptr read_error;
  try {
    ProgressBar progress("export products", static_cast<uint64_t>(expected_rows));
    PostgresCopyReader reader(db, std::string(sql::export_products), schema, batch_rows);
    while (auto batch = reader.next()) {
      progress.advance(static_cast<uint64_t>(batch->num_rows()));
      for (auto& q : queues) q->push(batch);
    }
    result.rows = reader.rows_read();
    progress.finish();
    for (auto& q : queues) q->push(nullptr);
  } catch (...) {
    read_error = std::current_exception();
    for (auto& q : queues) q->abort();
  }
  for (auto& w : writers) w.join();
  if (read_error) std::rethrow_exception(read_error);
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  result.seconds = seconds_since(start);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    auto target = targets[i];
    target.rows = result.rows;
    target.columns = std::move(columns[i]);
    target.bytes = store.size(target.key);
    target.uri = store.uri(target.key);
    result.objects.push_back(std::move(target));
  }
  return result;
}

iceberg::WriteMode parse_mode(const std::string& mode) {
  if (mode == "append") return iceberg::WriteMode::Append;
  if (mode == "overwrite") return iceberg::WriteMode::Overwrite;
  throw ConfigError(fmt::format("--mode must be append or overwrite, got '{}'", mode));
}

}  // namespace

void S3UploadModule::add_run_flags(CLI::App& command) {
  command.add_option("--products", options_.products, "products to generate")->capture_default_str();
  command.add_option("--orders", options_.orders, "orders to generate (1-3 entries each)")->capture_default_str();
  command.add_option("--seed", options_.seed, "random seed: the same seed gives the same data")->capture_default_str();
  command.add_option("--mode", options_.mode, "Iceberg write: append (a new snapshot per run) or overwrite")
      ->capture_default_str();
  command.add_option("--batch-rows", options_.batch_rows, "rows per Arrow batch streamed from PostgreSQL")
      ->capture_default_str();
  command.add_flag("!--no-generate", options_.generate, "export the existing PostgreSQL tables without regenerating");
  command.add_flag("!--no-iceberg", options_.iceberg, "write products.parquet only");
  command.add_option("--results", options_.results, "results file (JSON) describing the objects written")
      ->capture_default_str();
}

void S3UploadModule::run(AppContext& context) {
  const auto mode = parse_mode(options_.mode);
  if (options_.products < 1 || options_.orders < 0) throw ConfigError("--products must be >= 1 and --orders >= 0");
  const auto& config = context.config;
  Report report(context.format);
  PgConnection db(PostgresSettings::from(config));
  ObjectStore store(ObjectStoreSettings::from(config), config.value("S3_BUCKET"));
  const std::string ns = config.value("S3_NAMESPACE");
  const std::string table_name = config.value("S3_TABLE");
  const std::string catalog_name = config.value("S3_CATALOG");
  report.note(fmt::format("s3_upload: PostgreSQL {} -> object store {}, bucket {}", db.settings().describe(),
                          store.settings().describe(), store.bucket()));

  // Runs on one database are serialised: they write the same objects and table, and each
  // aborts the unfinished uploads it finds, which must be an earlier run's, never a live one's.
  const AdvisoryLock run_lock(db, "datalab run s3_upload", [&] {
    report.note("s3_upload: another `datalab run s3_upload` is running on this database; waiting for it to finish");
  });
  // Fail fast on the object store (credentials, endpoint) before any work.
  const bool created_bucket = store.ensure_bucket();
  const std::string warehouse = fmt::format("iceberg_warehouse/{}/{}", ns, table_name);
  // A run that was killed while uploading left its multipart uploads behind: abort them.
  for (const auto& prefix : {std::string("products.parquet"), warehouse + "/"}) {
    for (const auto& upload : store.abort_unfinished_uploads(prefix)) {
      report.note(fmt::format("aborted an unfinished upload of {} left by an earlier run (started {})", upload.key,
                              upload.initiated));
    }
  }

  if (options_.generate) {
    const auto start = Clock::now();
    db.run_script(sql::create_tables, "create_tables.sql");
    db.transaction([&] {
      db.exec(sql::generate_products, {std::to_string(options_.products), std::to_string(options_.seed)});
      db.exec(sql::generate_orders, {std::to_string(options_.orders), std::to_string(options_.seed)});
      db.exec(sql::generate_order_entries, {std::to_string(options_.seed), std::to_string(options_.products)});
    });
    db.exec("ANALYZE s3_upload.products");
    auto counts = db.exec(sql::table_counts).to_table();
    report.table(fmt::format("generated in PostgreSQL ({:.2f} s, seed {})", seconds_since(start), options_.seed),
                 counts);
  }
  // For the progress bar only: the planner's row estimate (exact after ANALYZE) costs no scan.
  const int64_t expected = db.exec(
      "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 's3_upload.products'::regclass").integer(0, 0);

  std::vector<WrittenObject> targets{{"parquet", "products.parquet", "", 0, 0}};
  std::unique_ptr<iceberg::SqlCatalog> catalog;
  std::unique_ptr<iceberg::IcebergTable> table;
  if (options_.iceberg) {
    catalog = std::make_unique<iceberg::SqlCatalog>(db, catalog_name);
    table = std::make_unique<iceberg::IcebergTable>(store, *catalog, ns, table_name, warehouse);
    table->check_schema(*products_schema());
    targets.push_back({"iceberg data file", table->new_data_file_key(), "", 0, 0});
  }

  ExportResult exported;
  try {
    exported = export_products(db, store, targets, options_.batch_rows, expected);
  } catch (...) {
    // The Iceberg data file may have been finished by its writer: no snapshot will name it.
    if (table) table->discard({targets[1].key});
    throw;
  }
  nlohmann::json results = {
      {"module", "s3_upload"},
      {"bucket", store.bucket()},
      {"object_store", store.settings().describe()},
      {"bucket_created", created_bucket},
      {"rows", exported.rows},
      {"export_seconds", exported.seconds},
  };

  if (table) {
    // A commit that fails deletes the data file itself (and whatever else it wrote).
    const auto commit = table->commit(
        *products_schema(), {{targets[1].key, exported.rows, exported.objects[1].bytes, exported.objects[1].columns}},
        mode);
    exported.objects.push_back({"iceberg manifest", store.key_of(commit.manifest), commit.manifest, exported.rows,
                                store.size(store.key_of(commit.manifest))});
    exported.objects.push_back({"iceberg manifest list", store.key_of(commit.manifest_list), commit.manifest_list, 0,
                                store.size(store.key_of(commit.manifest_list))});
    exported.objects.push_back({"iceberg metadata", store.key_of(commit.metadata_location), commit.metadata_location,
                                0, store.size(store.key_of(commit.metadata_location))});
    results["iceberg"] = {{"table", table->identifier()},
                          {"catalog", catalog_name},
                          {"mode", options_.mode},
                          {"created_table", commit.created_table},
                          {"snapshot_id", commit.snapshot_id},
                          {"sequence_number", commit.sequence_number},
                          {"snapshots", commit.snapshot_count},
                          {"total_records", commit.total_records},
                          {"metadata_location", commit.metadata_location},
                          {"previous_metadata_location", commit.previous_metadata_location},
                          {"commit_attempts", commit.attempts}};
    report.summary("Iceberg table " + table->identifier(),
                   {{"catalog", catalog_name + " (PostgreSQL, pyiceberg SQL catalog layout)"},
                    {"mode", options_.mode},
                    {"snapshot id", std::to_string(commit.snapshot_id)},
                    {"snapshots", std::to_string(commit.snapshot_count)},
                    {"total records", std::to_string(commit.total_records)},
                    {"metadata", commit.metadata_location}});
  }

  ResultTable objects{{"kind", "object", "rows", "bytes"},
                      {ValueKind::Text, ValueKind::Text, ValueKind::Number, ValueKind::Number}, {}};
  results["objects"] = nlohmann::json::array();
  for (const auto& o : exported.objects) {
    objects.add_row({o.kind, o.uri, o.rows ? std::optional<std::string>(std::to_string(o.rows)) : std::nullopt,
                     std::to_string(o.bytes)});
    results["objects"].push_back({{"kind", o.kind}, {"key", o.key}, {"uri", o.uri}, {"rows", o.rows}, {"bytes", o.bytes}});
  }
  report.table(fmt::format("objects written ({} rows in {:.2f} s, {} rows/s)", with_thousands(exported.rows),
                           exported.seconds, human_rate(exported.rows / std::max(exported.seconds, 1e-9))),
               objects);

  write_results_file(options_.results, results);
  if (!options_.results.empty()) report.note(fmt::format("results file: {}", options_.results));
  report.finish();
}

ModuleFootprint S3UploadModule::footprint(const Config& config) const {
  const std::string bucket = config.value("S3_BUCKET");
  const std::string ns = config.value("S3_NAMESPACE"), table = config.value("S3_TABLE");
  return {{"s3_upload"},
          {},
          {{bucket, "products.parquet"}, {bucket, fmt::format("iceberg_warehouse/{}/{}/", ns, table)}},
          {},
          {{config.value("S3_CATALOG"), ns, table}}};
}

std::unique_ptr<Module> make_module() { return std::make_unique<S3UploadModule>(); }

}  // namespace datalab::s3_upload
