#pragma once
// Iceberg table metadata (the metadata JSON, format v2) as a typed struct. Keys this struct
// does not model are kept in `extra` and written back unchanged, so metadata written by
// another engine (pyiceberg) survives a commit made here.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace datalab::iceberg {

struct Schema {
  int schema_id = 0;
  nlohmann::json fields = nlohmann::json::array();  // Iceberg's field objects (id, name, type, required)
  nlohmann::json identifier_field_ids = nlohmann::json::array();
  nlohmann::json extra = nlohmann::json::object();
};

struct PartitionSpec {
  int spec_id = 0;
  nlohmann::json fields = nlohmann::json::array();
};

struct SortOrder {
  int order_id = 0;
  nlohmann::json fields = nlohmann::json::array();
};

struct Snapshot {
  int64_t snapshot_id = 0;
  std::optional<int64_t> parent_snapshot_id;
  int64_t sequence_number = 0;
  int64_t timestamp_ms = 0;
  std::string manifest_list;
  std::map<std::string, std::string> summary;  // "operation" and the spec's counters, as strings
  std::optional<int> schema_id;
  nlohmann::json extra = nlohmann::json::object();

  // A summary counter ("total-records", ...); 0 when absent.
  int64_t summary_number(const std::string& key) const;
};

struct SnapshotRef {
  int64_t snapshot_id = 0;
  std::string type = "branch";
  nlohmann::json extra = nlohmann::json::object();
};

struct SnapshotLogEntry {
  int64_t snapshot_id = 0;
  int64_t timestamp_ms = 0;
};

struct MetadataLogEntry {
  std::string metadata_file;
  int64_t timestamp_ms = 0;
};

struct TableMetadata {
  int format_version = 2;
  std::string table_uuid;
  std::string location;
  int64_t last_sequence_number = 0;
  int64_t last_updated_ms = 0;
  int last_column_id = 0;
  int current_schema_id = 0;
  std::vector<Schema> schemas;
  int default_spec_id = 0;
  std::vector<PartitionSpec> partition_specs;
  int last_partition_id = 999;
  int default_sort_order_id = 0;
  std::vector<SortOrder> sort_orders;
  std::map<std::string, std::string> properties;
  std::optional<int64_t> current_snapshot_id;  // none (or -1) before the first snapshot
  std::vector<Snapshot> snapshots;
  std::vector<SnapshotLogEntry> snapshot_log;
  std::vector<MetadataLogEntry> metadata_log;
  std::map<std::string, SnapshotRef> refs;
  nlohmann::json extra = nlohmann::json::object();  // keys not modelled above

  // A new, empty, unpartitioned and unsorted table with one schema.
  static TableMetadata create(std::string table_uuid, std::string location, Schema schema, int last_column_id,
                              int64_t now_ms);
  const Schema* current_schema() const;
  // The current snapshot (none: a table without one, or -1 as some writers put it).
  const Snapshot* current_snapshot() const;
};

void to_json(nlohmann::json& j, const TableMetadata& m);
void from_json(const nlohmann::json& j, TableMetadata& m);
void to_json(nlohmann::json& j, const Snapshot& s);
void from_json(const nlohmann::json& j, Snapshot& s);

// The metadata JSON text as written to the store (two-space indent).
std::string metadata_text(const TableMetadata& m);
// Parses a metadata JSON file; throws nlohmann::json::exception when it is not valid.
TableMetadata parse_metadata(const std::string& text);
// The version number of ".../00012-<uuid>.metadata.json" (0 when the name has none).
int metadata_version(const std::string& location);

}  // namespace datalab::iceberg
