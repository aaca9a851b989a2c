#pragma once
// Week 9: delivery files (Parquet in bucket `delivery`) loaded into PostgreSQL one at a
// time, moved to processed/ with a UTC timestamp prefix, and checked afterwards. The HTTP
// service (src/server/) and `datalab run airflow_pipeline` both run on this class.
//
// Safety: an upload holds a PostgreSQL advisory lock (session level) from choosing the
// file until it has been moved, so two concurrent uploads never take the same file; the
// rows and the upload record commit in one transaction, and the unique key
// (source_file, source_row) makes a reload after a crash between commit and move insert
// nothing new.
//
// A file that cannot be loaded because of what it holds (not Parquet, a column missing or
// of the wrong type, rows the table refuses) is the sender's problem, not the service's:
// it is moved to rejected/ (same timestamp prefix) next to "<key>.reason.txt" with the
// reason, and the next upload goes on with the next file. Failures of PostgreSQL or the
// object store are errors and leave the file where it is.
#include <cstdint>
#include <memory>
#include <optional>
#include <chrono>
#include <string>
#include <vector>

#include <arrow/api.h>

#include "core/config.h"
#include "storage/objectstore/object_store.h"
#include "storage/postgres/postgres_settings.h"

namespace datalab {
class PgConnection;
}

namespace datalab::airflow_pipeline {

inline constexpr const char* kProcessedFolder = "processed";
inline constexpr const char* kRejectedFolder = "rejected";
// Where a handled file goes: "<folder>/<UTC yyyymmddThhmmssZ>_<name>" (the name without folders).
std::string timestamped_key(const std::string& folder, const std::string& key, std::chrono::system_clock::time_point time);
// Files larger than this are rejected unread (delivery files are a few kilobytes).
inline constexpr int64_t kMaxDeliveryFileBytes = 256LL * 1024 * 1024;

struct SeedResult {
  std::vector<std::string> written;  // keys written at the bucket root
  std::vector<std::string> skipped;  // already at the root or already processed
};

struct UploadResult {
  bool loaded = false;    // false: nothing loaded (nothing at the bucket root, or rejected)
  bool rejected = false;  // the first file at the root could not be loaded: moved to rejected/
  std::string source_file;
  std::string rejected_key;  // rejected/<timestamp>_<name>; its reason is in <rejected_key>.reason.txt
  std::string reason;        // why the file was rejected
  std::string processed_key;
  int64_t file_rows = 0;
  int64_t rows_inserted = 0;  // < file_rows only when the file had been (partly) loaded before
  double seconds = 0;
};

struct CheckResult {
  bool found = false;  // false: no processed file yet
  std::string processed_key;
  std::string source_file;
  bool valid = false;
  int64_t expected_rows = 0;
  int64_t actual_rows = 0;
  int64_t check_id = 0;
  std::string checked_at;
};

class DeliveryPipeline {
 public:
  DeliveryPipeline(PostgresSettings postgres, ObjectStoreSettings store, std::string bucket = "delivery");
  static DeliveryPipeline from(const Config& config);

  // Creates the tables and the bucket.
  void setup();
  // Writes the five fixture files as Parquet at the bucket root unless already there or processed.
  SeedResult seed_files();
  // Loads the first Parquet file at the bucket root, then moves it to processed/; a file that
  // cannot be loaded because of its content is moved to rejected/ instead (result.rejected).
  UploadResult upload();
  // Compares the newest processed file's rows with the rows loaded from it; records the check.
  CheckResult validate_last_upload();

  ObjectStore& store() { return *store_; }
  const PostgresSettings& postgres() const { return postgres_; }

 private:
  // Loads one file in one transaction (rows and upload record); throws RejectedFile (an
  // Error) when the file's content cannot be loaded.
  void load_file(PgConnection& db, const ObjectInfo& file, UploadResult& result);

  PostgresSettings postgres_;
  std::unique_ptr<ObjectStore> store_;
};

// The Arrow schema of a delivery file.
std::shared_ptr<arrow::Schema> delivery_schema();
// Parses delivery CSV text (header delivery_id,item_type,quantity,price_per_unit,manufacture_datetime).
std::shared_ptr<arrow::Table> parse_delivery_csv(const std::string& text, const std::string& origin);
// "processed/20250102T030405Z_delivery_1.parquet" -> "delivery_1.parquet".
std::string source_name_of(const std::string& processed_key);
// The embedded fixture files: (name without extension, CSV text).
std::vector<std::pair<std::string, std::string>> fixture_files();

}  // namespace datalab::airflow_pipeline
