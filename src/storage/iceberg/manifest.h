#pragma once
// Iceberg manifests and manifest lists (format v2, unpartitioned data files) as Avro bytes,
// with the spec's schemas and field ids, and their readers. No I/O: callers store the bytes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/iceberg/column_stats.h"

namespace datalab::iceberg {

enum class EntryStatus : int32_t { Existing = 0, Added = 1, Deleted = 2 };

// One manifest entry: a data file with its status and sequence numbers (none: inherited
// from the manifest's, as ADDED entries do).
struct ManifestEntry {
  EntryStatus status = EntryStatus::Added;
  std::optional<int64_t> snapshot_id, sequence_number, file_sequence_number;
  std::string file_path;  // URI
  std::string file_format = "PARQUET";
  int64_t record_count = 0;
  int64_t file_size = 0;
  std::vector<ColumnStats> columns;  // metrics (empty: none; not read back)
};

// The Avro manifest file of data entries; `table_schema` is the Iceberg schema JSON.
std::string write_manifest(const std::vector<ManifestEntry>& entries, const nlohmann::json& table_schema);
// The entries of a manifest (metrics are not decoded).
std::vector<ManifestEntry> read_manifest(const std::string& bytes);

// One row of a manifest list.
struct ManifestFile {
  std::string path;
  int64_t length = 0;
  int64_t spec_id = 0, content = 0, sequence_number = 0, min_sequence_number = 0, added_snapshot_id = 0;
  int64_t added_files = 0, existing_files = 0, deleted_files = 0;
  int64_t added_rows = 0, existing_rows = 0, deleted_rows = 0;
  bool operator==(const ManifestFile&) const = default;
};

std::string write_manifest_list(const std::vector<ManifestFile>& manifests, int64_t snapshot_id,
                                std::optional<int64_t> parent_id, int64_t sequence_number);
std::vector<ManifestFile> read_manifest_list(const std::string& bytes);

}  // namespace datalab::iceberg
