#include "modules/airflow_pipeline/delivery_pipeline.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include <arrow/csv/api.h>
#include <arrow/io/memory.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>
#include <spdlog/spdlog.h>

#include "core/stopwatch.h"
#include "core/arrow_status.h"
#include "core/error.h"
#include "formats/parquet_file.h"
#include "modules/airflow_pipeline/airflow_pipeline_fixtures.h"
#include "modules/airflow_pipeline/airflow_pipeline_sql.h"
#include "storage/postgres/advisory_lock.h"
#include "storage/postgres/postgres_connection.h"
#include "storage/postgres/staging_table.h"

namespace datalab::airflow_pipeline {

std::string timestamped_key(const std::string& folder, const std::string& key, std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  const auto slash = key.rfind('/');
  return folder + "/" + stamp + "_" + (slash == std::string::npos ? key : key.substr(slash + 1));
}

namespace {

// Advisory lock key of the upload critical section (any constant unique to this module).
constexpr const char* kUploadLockKey = "datalab delivery upload";

const std::vector<std::string> kColumns = {"delivery_id", "item_type", "quantity", "price_per_unit",
                                           "manufacture_datetime"};

bool is_delivery_file(const std::string& key) {
  return key.find('/') == std::string::npos && key.size() > 8 && key.ends_with(".parquet");
}

}  // namespace

std::shared_ptr<arrow::Schema> delivery_schema() {
  return arrow::schema({
      arrow::field("delivery_id", arrow::utf8(), false),
      arrow::field("item_type", arrow::utf8(), false),
      arrow::field("quantity", arrow::int32(), false),
      arrow::field("price_per_unit", arrow::decimal128(12, 2), false),
      arrow::field("manufacture_datetime", arrow::timestamp(arrow::TimeUnit::MICRO), false),
  });
}

std::shared_ptr<arrow::Table> parse_delivery_csv(const std::string& text, const std::string& origin) {
  auto input = std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(text));
  auto convert = arrow::csv::ConvertOptions::Defaults();
  const auto schema = delivery_schema();  // kept alive: fields() is a reference into it
  for (const auto& field : schema->fields()) convert.column_types[field->name()] = field->type();
  convert.include_columns = kColumns;
  auto reader = unwrap_arrow(arrow::csv::TableReader::Make(arrow::io::default_io_context(), input,
                                                     arrow::csv::ReadOptions::Defaults(),
                                                     arrow::csv::ParseOptions::Defaults(), convert),
                       fmt::format("cannot read delivery CSV {}", origin));
  auto table = unwrap_arrow(reader->Read(), fmt::format("cannot parse delivery CSV {}", origin));
  // Same field order and types as delivery_schema(), non-null as declared.
  return unwrap_arrow(table->CombineChunks(), "cannot combine CSV chunks")->ReplaceSchemaMetadata(nullptr);
}

std::string source_name_of(const std::string& processed_key) {  // the inverse of timestamped_key
  auto name = processed_key.substr(processed_key.rfind('/') == std::string::npos ? 0 : processed_key.rfind('/') + 1);
  const auto underscore = name.find('_');
  // "<yyyymmddThhmmssZ>_<name>": the prefix is 16 characters.
  if (underscore == 16 && name[8] == 'T' && name[15] == 'Z') return name.substr(17);
  return name;
}

std::vector<std::pair<std::string, std::string>> fixture_files() {
  return {{"delivery_1", std::string(fixtures::delivery_1)},
          {"delivery_2", std::string(fixtures::delivery_2)},
          {"delivery_3", std::string(fixtures::delivery_3)},
          {"delivery_4", std::string(fixtures::delivery_4)},
          {"delivery_5", std::string(fixtures::delivery_5)}};
}

DeliveryPipeline::DeliveryPipeline(PostgresSettings postgres, ObjectStoreSettings store, std::string bucket)
    : postgres_(std::move(postgres)), store_(std::make_unique<ObjectStore>(std::move(store), std::move(bucket))) {}

DeliveryPipeline DeliveryPipeline::from(const Config& config) {
  return DeliveryPipeline(PostgresSettings::from(config), ObjectStoreSettings::from(config),
                          config.value("DELIVERY_BUCKET"));
}

void DeliveryPipeline::setup() {
  PgConnection db(postgres_);
  db.run_script(sql::create_tables, "create_tables.sql");
  store_->ensure_bucket();
}

SeedResult DeliveryPipeline::seed_files() {
  SeedResult result;
  std::vector<std::string> processed_names;
  for (const auto& object : store_->list(kProcessedFolder)) processed_names.push_back(source_name_of(object.key));
  for (const auto& object : store_->list(kRejectedFolder)) processed_names.push_back(source_name_of(object.key));
  for (const auto& [stem, csv] : fixture_files()) {
    const std::string key = stem + ".parquet";
    if (store_->exists(key) ||
        std::find(processed_names.begin(), processed_names.end(), key) != processed_names.end()) {
      result.skipped.push_back(key);
      continue;
    }
    auto table = parse_delivery_csv(csv, stem + ".csv");
    // An S3 object appears only when its upload completes: an upload never sees half a file.
    ParquetFileWriter writer(store_->open_output(key), delivery_schema());
    arrow::TableBatchReader batches(*table);
    std::shared_ptr<arrow::RecordBatch> batch;
    while (true) {
      check_arrow(batches.ReadNext(&batch), "cannot read fixture batches");
      if (!batch) break;
      writer.write(*batch);
    }
    writer.close();
    result.written.push_back(key);
  }
  return result;
}

namespace {

// What identifies a delivery file's content: FNV-1a over its Parquet footer (row groups,
// sizes, statistics) and its size. Not a security hash: it tells a retry of the same file
// from a different file that reuses the name.
std::string file_fingerprint(parquet::arrow::FileReader& parquet, int64_t file_size) {
  const std::string footer = parquet.parquet_reader()->metadata()->SerializeToString();
  uint64_t hash = 0xcbf29ce484222325ULL;
  auto mix = [&](unsigned char byte) { hash = (hash ^ byte) * 0x100000001b3ULL; };
  for (const char c : footer) mix(static_cast<unsigned char>(c));
  for (int shift = 0; shift < 64; shift += 8) mix(static_cast<unsigned char>(file_size >> shift));
  return fmt::format("{:016x}", hash);
}

}  // namespace

namespace {

// A file that cannot be loaded because of what it holds: the sender's problem (rejected/).
// It never leaves upload(), which moves the file aside and reports it rejected.
class RejectedFile : public Error {
 public:
  explicit RejectedFile(const std::string& reason) : Error(reason) {}
};

// The Arrow types accepted for each delivery column (each one is staged as the type table says and
// cast to the table's type), and how the requirement reads in a rejection.
std::optional<std::string> column_type_problem(const std::string& name, const arrow::DataType& type) {
  using arrow::Type;
  const auto id = type.id();
  auto one_of = [&](std::initializer_list<Type::type> ids) { return std::find(ids.begin(), ids.end(), id) != ids.end(); };
  const char* expected = nullptr;
  if (name == "delivery_id" || name == "item_type") {
    if (!one_of({Type::STRING, Type::LARGE_STRING})) expected = "a string";
  } else if (name == "quantity") {
    if (!one_of({Type::INT16, Type::INT32, Type::INT64})) expected = "an integer (int16, int32 or int64)";
  } else if (name == "price_per_unit") {
    if (!one_of({Type::DECIMAL128, Type::DOUBLE, Type::FLOAT, Type::INT16, Type::INT32, Type::INT64})) {
      expected = "a decimal or a number";
    }
  } else if (name == "manufacture_datetime") {
    if (!one_of({Type::TIMESTAMP, Type::DATE32})) expected = "a timestamp";
  }
  if (!expected) return std::nullopt;
  return fmt::format("column '{}' has type {}, expected {}", name, type.ToString(), expected);
}

// Runs one statement of the load. PostgreSQL refusing the rows (SQLSTATE class 22, data
// exception, or 23, integrity constraint violation: a null, a negative quantity, a value out
// of range) is the file's fault; any other failure is the service's.
long long exec_load_statement(PgConnection& db, const std::string& sql, const std::vector<std::string>& params) {
  try {
    return db.exec(sql, PgParams(params.begin(), params.end())).affected();
  } catch (const PostgresError& e) {
    if (e.is_data_error()) {
      throw RejectedFile(fmt::format("its rows do not fit table bakery_deliveries: {}", e.server_message()));
    }
    throw PostgresError(fmt::format("PostgreSQL error while loading a delivery file: {}", e.server_message()),
                        e.sqlstate(), e.server_message());
  }
}

}  // namespace

UploadResult DeliveryPipeline::upload() {
  const auto start = std::chrono::steady_clock::now();
  PgConnection db(postgres_);
  const AdvisoryLock lock(db, kUploadLockKey);
  UploadResult result;
  std::optional<ObjectInfo> file;
  for (const auto& object : store_->list("", /*recursive=*/false)) {
    if (is_delivery_file(object.key)) {
      file = object;
      break;
    }
  }
  if (!file) return result;
  const std::string key = file->key;
  result.source_file = key;
  try {
    load_file(db, *file, result);
  } catch (const RejectedFile& e) {
    // Moved aside with its reason (the sidecar first, so a moved file always has one).
    const auto now = std::chrono::system_clock::now();
    const std::string target = timestamped_key(kRejectedFolder, key, now);
    result.reason = e.what();
    store_->write_bytes(target + ".reason.txt", fmt::format("{}: {}\n", key, result.reason));
    store_->move(key, target);
    result.rejected_key = target;
    result.rejected = true;
    result.file_rows = result.rows_inserted = 0;
    result.seconds = seconds_since(start);
    spdlog::warn("upload: {} rejected -> {}: {}", key, result.rejected_key, result.reason);
    return result;
  }
  // Committed: a crash from here on leaves the file at the root, and the retry inserts nothing.
  result.processed_key = timestamped_key(kProcessedFolder, key, std::chrono::system_clock::now());
  store_->move(key, result.processed_key);
  result.loaded = true;
  result.seconds = seconds_since(start);
  spdlog::info("upload: {} -> {} ({} rows in the file, {} inserted, {:.3f} s)", key, result.processed_key,
               result.file_rows, result.rows_inserted, result.seconds);
  return result;
}

void DeliveryPipeline::load_file(PgConnection& db, const ObjectInfo& file, UploadResult& result) {
  const std::string& key = file.key;
  if (file.size > kMaxDeliveryFileBytes) {
    throw RejectedFile(fmt::format("the file has {} bytes, more than the limit of {}", file.size, kMaxDeliveryFileBytes));
  }
  // Read whole first: a failure of the object store (ServiceError) is told apart from a file
  // that is not what it should be (every Arrow/Parquet error below is about the content).
  auto content = std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(store_->read_bytes(key)));
  auto parquet = unwrap_arrow<RejectedFile>(parquet::arrow::OpenFile(content, arrow::default_memory_pool()),
                                            "it is not a readable Parquet file");
  result.file_rows = parquet->parquet_reader()->metadata()->num_rows();
  const std::string fingerprint = file_fingerprint(*parquet, file.size);
  std::shared_ptr<arrow::Schema> file_schema;
  check_arrow<RejectedFile>(parquet->GetSchema(&file_schema), "its schema cannot be read");
  std::vector<int> indices;
  for (const auto& name : kColumns) {
    const auto matches = file_schema->GetAllFieldIndices(name);
    if (matches.empty()) {
      throw RejectedFile(fmt::format("it has no column '{}' (a delivery file has columns {})", name,
                                     fmt::join(kColumns, ", ")));
    }
    if (matches.size() > 1) throw RejectedFile(fmt::format("it has {} columns named '{}'", matches.size(), name));
    if (auto problem = column_type_problem(name, *file_schema->field(matches[0])->type())) throw RejectedFile(*problem);
    indices.push_back(matches[0]);
  }
  for (const auto& field : file_schema->fields()) {
    if (field->type()->num_fields() > 0) {  // nested: leaf column indices would not be field indices
      throw RejectedFile(fmt::format("column '{}' has nested type {}, delivery files are flat", field->name(),
                                     field->type()->ToString()));
    }
  }
  std::vector<int> row_groups(parquet->num_row_groups());
  for (int i = 0; i < parquet->num_row_groups(); ++i) row_groups[i] = i;
  // Flat schema: the leaf column indices are the field indices.
  auto reader = unwrap_arrow<RejectedFile>(parquet->GetRecordBatchReader(row_groups, indices),
                                           "its rows cannot be read");
  auto stage_fields = reader->schema()->fields();
  stage_fields.push_back(arrow::field("source_row", arrow::int64(), false));
  auto stage_schema = arrow::schema(stage_fields);

  result.rows_inserted = db.transaction([&] {
    StagingTable stage(db, "delivery_stage", *stage_schema);
    CopyIn writer = stage.copy(stage_schema);
    int64_t row = 0;
    while (true) {
      auto batch = unwrap_arrow<RejectedFile>(reader->Next(), "its rows cannot be read");
      if (!batch) break;
      // Checks the data (offsets, UTF-8 of the strings) before it goes to PostgreSQL.
      check_arrow<RejectedFile>(batch->ValidateFull(), fmt::format("rows {}-{} are malformed", row + 1,
                                                                   row + batch->num_rows()));
      arrow::Int64Builder positions;
      check_arrow(positions.Reserve(batch->num_rows()), "out of memory");
      for (int64_t i = 0; i < batch->num_rows(); ++i) positions.UnsafeAppend(++row);
      auto column = unwrap_arrow(positions.Finish(), "cannot build row positions");
      auto staged = unwrap_arrow(batch->AddColumn(batch->num_columns(), stage_fields.back(), column),
                           "cannot add row positions");
      writer.write(*staged);
    }
    writer.finish();
    const long long inserted = exec_load_statement(db, std::string(sql::insert_staged), {key, fingerprint});
    db.exec(sql::record_upload, {key, fingerprint, std::to_string(result.file_rows), std::to_string(inserted)});
    return static_cast<int64_t>(inserted);
  });
}

CheckResult DeliveryPipeline::validate_last_upload() {
  CheckResult result;
  auto processed = store_->list(kProcessedFolder);
  std::erase_if(processed, [](const ObjectInfo& o) { return !o.key.ends_with(".parquet"); });
  if (processed.empty()) return result;
  // Keys start with the UTC timestamp of the move: the last key is the newest file.
  const auto& newest = processed.back();
  result.found = true;
  result.processed_key = newest.key;
  result.source_file = source_name_of(newest.key);
  auto parquet = unwrap_arrow(parquet::arrow::OpenFile(store_->open_input(newest.key), arrow::default_memory_pool()),
                        fmt::format("'{}' is not a Parquet file", newest.key));
  result.expected_rows = parquet->parquet_reader()->metadata()->num_rows();
  PgConnection db(postgres_);
  result.actual_rows = db.exec("SELECT count(*) FROM airflow_pipeline.bakery_deliveries "
                               "WHERE source_file = $1 AND source_fingerprint = $2",
                               {result.source_file, file_fingerprint(*parquet, newest.size)})
                           .integer(0, 0);
  result.valid = result.expected_rows == result.actual_rows;
  auto recorded = db.exec(sql::record_check, {result.processed_key, result.source_file, result.valid ? "true" : "false",
                                              std::to_string(result.expected_rows),
                                              std::to_string(result.actual_rows)});
  result.check_id = recorded.integer(0, 0);
  result.checked_at = std::string(recorded.value(0, 1));
  return result;
}

}  // namespace datalab::airflow_pipeline
