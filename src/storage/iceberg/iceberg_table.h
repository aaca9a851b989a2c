#pragma once
// Writes to an Iceberg table (format v2, unpartitioned, Parquet data files) on an object
// store, registered in a Catalog. Per commit: one manifest (Avro, manifest.h) listing the
// new data files, a manifest list with the snapshot's manifests and a new metadata JSON
// (table_metadata.h), built by a SnapshotProducer; then the catalog pointer is swapped with
// compare-and-swap. A lost race is retried on top of the winner's metadata. A commit that
// gives up (or fails) deletes every file it wrote and the data files it was given: none of
// them is named by a visible snapshot.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/type.h>
#include <nlohmann/json.hpp>

#include "storage/iceberg/catalog.h"
#include "storage/iceberg/column_stats.h"
#include "storage/iceberg/snapshot_producer.h"
#include "storage/iceberg/table_metadata.h"
#include "storage/objectstore/object_store.h"

namespace datalab::iceberg {

struct DataFile {
  std::string key;  // object key in the store
  int64_t record_count = 0;
  int64_t size = 0;
  std::vector<ColumnStats> columns;  // metrics for readers' file pruning (empty: none)
};

struct CommitResult {
  bool created_table = false;
  int64_t snapshot_id = 0;
  int64_t sequence_number = 0;
  int snapshot_count = 0;
  int64_t total_records = 0;
  int attempts = 1;
  std::string metadata_location, previous_metadata_location, manifest_list, manifest;
};

// Iceberg type name of an Arrow type ("long", "decimal(13, 2)", "timestamp", ...).
std::string iceberg_type_name(const arrow::DataType& type);
// The Arrow type of an Iceberg primitive type ("long", "decimal(13, 2)", "timestamptz", ...);
// a ConfigError naming `column` for a type datalab does not read (nested, uuid, fixed, ...).
std::shared_ptr<arrow::DataType> arrow_type_of_iceberg(const nlohmann::json& type, const std::string& column);
// The Iceberg schema JSON for an Arrow schema (field ids 1..n, optional fields).
nlohmann::json iceberg_schema_json(const arrow::Schema& schema, int schema_id = 0);
// The Arrow schema with each field's Iceberg id as Parquet field_id metadata.
std::shared_ptr<arrow::Schema> with_field_ids(const arrow::Schema& schema);

// What a reader of a table's current snapshot needs: its columns and its live data files.
struct TableScan {
  std::shared_ptr<arrow::Schema> schema;  // the current schema, fields in order
  std::vector<DataFile> files;            // Parquet data files (no metrics)
  std::optional<int64_t> snapshot_id;     // none: a table without a snapshot (no files)
};

class IcebergTable {
 public:
  // location_key: the table folder in the store, e.g. "iceberg_warehouse/main/products".
  IcebergTable(ObjectStore& store, Catalog& catalog, std::string ns, std::string name, std::string location_key);

  std::string identifier() const { return ns_ + "." + name_; }
  // Checks that an existing table has the same columns (names and types); throws otherwise.
  void check_schema(const arrow::Schema& schema);
  // A fresh key for a data file under <location>/data/.
  std::string new_data_file_key() const;
  // The current snapshot's schema and data files. A missing table, data files that are not
  // Parquet and row-level delete files (which datalab does not apply) are ConfigErrors.
  TableScan scan();
  // Commits the data files as a new snapshot (append, or overwrite replacing every file).
  // When it throws, the data files are deleted along with everything the commit wrote.
  // `properties` join the snapshot's summary (a copy's watermark commits with its rows).
  CommitResult commit(const arrow::Schema& schema, const std::vector<DataFile>& files, WriteMode mode,
                      const std::map<std::string, std::string>& properties = {});
  // A summary property of the current snapshot or of its nearest ancestor that has one
  // (none: no table, or no snapshot of its history has it).
  std::optional<std::string> summary_property(const std::string& key);
  // Deletes data files that will not be committed (a write that failed); never throws.
  void discard(const std::vector<std::string>& data_file_keys) noexcept;

 private:
  TableMetadata read_metadata(const std::string& location);
  CommitResult try_commit(const arrow::Schema& schema, const std::vector<DataFile>& files, WriteMode mode,
                          const std::map<std::string, std::string>& properties, std::vector<std::string>& written);
  ObjectStore& store_;
  Catalog& catalog_;
  std::string ns_, name_, location_key_;
};

}  // namespace datalab::iceberg
