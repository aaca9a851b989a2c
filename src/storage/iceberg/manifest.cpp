#include "storage/iceberg/manifest.h"

#include "storage/iceberg/avro_file.h"

namespace datalab::iceberg {

namespace {

// Avro schemas of the Iceberg spec (v2), with the spec's field ids.
constexpr const char* kManifestEntrySchema = R"({"type":"record","name":"manifest_entry","fields":[
{"name":"status","field-id":0,"type":"int"},
{"name":"snapshot_id","field-id":1,"type":["null","long"],"default":null},
{"name":"sequence_number","field-id":3,"type":["null","long"],"default":null},
{"name":"file_sequence_number","field-id":4,"type":["null","long"],"default":null},
{"name":"data_file","field-id":2,"type":{"type":"record","name":"r2","fields":[
 {"name":"content","field-id":134,"type":"int"},
 {"name":"file_path","field-id":100,"type":"string"},
 {"name":"file_format","field-id":101,"type":"string"},
 {"name":"partition","field-id":102,"type":{"type":"record","name":"r102","fields":[]}},
 {"name":"record_count","field-id":103,"type":"long"},
 {"name":"file_size_in_bytes","field-id":104,"type":"long"},
 {"name":"column_sizes","field-id":108,"type":["null",{"type":"array","logicalType":"map","items":{"type":"record","name":"k117_v118","fields":[{"name":"key","type":"int","field-id":117},{"name":"value","type":"long","field-id":118}]}}],"default":null},
 {"name":"value_counts","field-id":109,"type":["null",{"type":"array","logicalType":"map","items":{"type":"record","name":"k119_v120","fields":[{"name":"key","type":"int","field-id":119},{"name":"value","type":"long","field-id":120}]}}],"default":null},
 {"name":"null_value_counts","field-id":110,"type":["null",{"type":"array","logicalType":"map","items":{"type":"record","name":"k121_v122","fields":[{"name":"key","type":"int","field-id":121},{"name":"value","type":"long","field-id":122}]}}],"default":null},
 {"name":"nan_value_counts","field-id":137,"type":["null",{"type":"array","logicalType":"map","items":{"type":"record","name":"k138_v139","fields":[{"name":"key","type":"int","field-id":138},{"name":"value","type":"long","field-id":139}]}}],"default":null},
 {"name":"lower_bounds","field-id":125,"type":["null",{"type":"array","logicalType":"map","items":{"type":"record","name":"k126_v127","fields":[{"name":"key","type":"int","field-id":126},{"name":"value","type":"bytes","field-id":127}]}}],"default":null},
 {"name":"upper_bounds","field-id":128,"type":["null",{"type":"array","logicalType":"map","items":{"type":"record","name":"k129_v130","fields":[{"name":"key","type":"int","field-id":129},{"name":"value","type":"bytes","field-id":130}]}}],"default":null},
 {"name":"key_metadata","field-id":131,"type":["null","bytes"],"default":null},
 {"name":"split_offsets","field-id":132,"type":["null",{"type":"array","element-id":133,"items":"long"}],"default":null},
 {"name":"equality_ids","field-id":135,"type":["null",{"type":"array","element-id":136,"items":"int"}],"default":null},
 {"name":"sort_order_id","field-id":140,"type":["null","int"],"default":null}
]}}]})";

constexpr const char* kManifestFileSchema = R"({"type":"record","name":"manifest_file","fields":[
{"name":"manifest_path","field-id":500,"type":"string"},
{"name":"manifest_length","field-id":501,"type":"long"},
{"name":"partition_spec_id","field-id":502,"type":"int"},
{"name":"content","field-id":517,"type":"int"},
{"name":"sequence_number","field-id":515,"type":"long"},
{"name":"min_sequence_number","field-id":516,"type":"long"},
{"name":"added_snapshot_id","field-id":503,"type":"long"},
{"name":"added_files_count","field-id":504,"type":"int"},
{"name":"existing_files_count","field-id":505,"type":"int"},
{"name":"deleted_files_count","field-id":506,"type":"int"},
{"name":"added_rows_count","field-id":512,"type":"long"},
{"name":"existing_rows_count","field-id":513,"type":"long"},
{"name":"deleted_rows_count","field-id":514,"type":"long"},
{"name":"partitions","field-id":507,"type":["null",{"type":"array","element-id":508,"items":{"type":"record","name":"r508","fields":[
 {"name":"contains_null","field-id":509,"type":"boolean"},
 {"name":"contains_nan","field-id":518,"type":["null","boolean"],"default":null},
 {"name":"lower_bound","field-id":510,"type":["null","bytes"],"default":null},
 {"name":"upper_bound","field-id":511,"type":["null","bytes"],"default":null}]}}],"default":null},
{"name":"key_metadata","field-id":519,"type":["null","bytes"],"default":null}]})";

// The data_file's metric maps (empty when unknown: readers such as pyiceberg's
// inspect.entries() expect maps) and its unused optional fields.
void set_data_file_metrics(AvroRecord& r, const std::vector<ColumnStats>& columns) {
  std::vector<std::pair<int32_t, int64_t>> sizes, values, nulls;
  std::vector<std::pair<int32_t, std::string>> lower, upper;
  for (const auto& c : columns) {
    sizes.emplace_back(c.field_id, c.size);
    values.emplace_back(c.field_id, c.value_count);
    if (c.null_count) nulls.emplace_back(c.field_id, *c.null_count);
    if (c.lower && c.upper) {
      lower.emplace_back(c.field_id, *c.lower);
      upper.emplace_back(c.field_id, *c.upper);
    }
  }
  r.set_int_long_map("data_file.column_sizes", sizes);
  r.set_int_long_map("data_file.value_counts", values);
  r.set_int_long_map("data_file.null_value_counts", nulls);
  r.set_int_long_map("data_file.nan_value_counts", {});
  r.set_int_bytes_map("data_file.lower_bounds", lower);
  r.set_int_bytes_map("data_file.upper_bounds", upper);
  for (const char* unused : {"key_metadata", "split_offsets", "equality_ids", "sort_order_id"}) {
    r.set_null(std::string("data_file.") + unused);
  }
}

}  // namespace

std::string write_manifest(const std::vector<ManifestEntry>& entries, const nlohmann::json& table_schema) {
  AvroFileWriter writer(kManifestEntrySchema, {{"schema", table_schema.dump()},
                                               {"partition-spec", "[]"},
                                               {"partition-spec-id", "0"},
                                               {"format-version", "2"},
                                               {"content", "data"}});
  for (const auto& e : entries) {
    writer.append([&](AvroRecord& r) {
      r.set_int("status", static_cast<int32_t>(e.status));
      r.set_optional_long("snapshot_id", e.snapshot_id);
      r.set_optional_long("sequence_number", e.sequence_number);
      r.set_optional_long("file_sequence_number", e.file_sequence_number);
      r.set_int("data_file.content", 0);  // data
      r.set_string("data_file.file_path", e.file_path);
      r.set_string("data_file.file_format", e.file_format);
      r.set_long("data_file.record_count", e.record_count);
      r.set_long("data_file.file_size_in_bytes", e.file_size);
      set_data_file_metrics(r, e.columns);
    });
  }
  return writer.finish();
}

std::vector<ManifestEntry> read_manifest(const std::string& bytes) {
  std::vector<ManifestEntry> entries;
  read_avro_file(bytes, [&](const AvroView& v) {
    ManifestEntry e;
    e.status = static_cast<EntryStatus>(v.get_long("status"));
    e.snapshot_id = v.get_optional_long("snapshot_id");
    e.sequence_number = v.get_optional_long("sequence_number");
    e.file_sequence_number = v.get_optional_long("file_sequence_number");
    e.file_path = v.get_string("data_file.file_path");
    e.file_format = v.get_string("data_file.file_format");
    e.record_count = v.get_long("data_file.record_count");
    e.file_size = v.get_long("data_file.file_size_in_bytes");
    entries.push_back(std::move(e));
  });
  return entries;
}

std::string write_manifest_list(const std::vector<ManifestFile>& manifests, int64_t snapshot_id,
                                std::optional<int64_t> parent_id, int64_t sequence_number) {
  AvroFileWriter writer(kManifestFileSchema,
                        {{"snapshot-id", std::to_string(snapshot_id)},
                         {"parent-snapshot-id", parent_id ? std::to_string(*parent_id) : "null"},
                         {"sequence-number", std::to_string(sequence_number)},
                         {"format-version", "2"}});
  for (const auto& m : manifests) {
    writer.append([&](AvroRecord& r) {
      r.set_string("manifest_path", m.path);
      r.set_long("manifest_length", m.length);
      r.set_int("partition_spec_id", static_cast<int32_t>(m.spec_id));
      r.set_int("content", static_cast<int32_t>(m.content));
      r.set_long("sequence_number", m.sequence_number);
      r.set_long("min_sequence_number", m.min_sequence_number);
      r.set_long("added_snapshot_id", m.added_snapshot_id);
      r.set_int("added_files_count", static_cast<int32_t>(m.added_files));
      r.set_int("existing_files_count", static_cast<int32_t>(m.existing_files));
      r.set_int("deleted_files_count", static_cast<int32_t>(m.deleted_files));
      r.set_long("added_rows_count", m.added_rows);
      r.set_long("existing_rows_count", m.existing_rows);
      r.set_long("deleted_rows_count", m.deleted_rows);
      r.set_null("partitions");
      r.set_null("key_metadata");
    });
  }
  return writer.finish();
}


std::vector<ManifestFile> read_manifest_list(const std::string& bytes) {
  std::vector<ManifestFile> manifests;
  read_avro_file(bytes, [&](const AvroView& r) {
    ManifestFile m;
    m.path = r.get_string("manifest_path");
    m.length = r.get_long("manifest_length");
    m.spec_id = r.get_long("partition_spec_id");
    m.content = r.has("content") ? r.get_long("content") : 0;
    m.sequence_number = r.has("sequence_number") ? r.get_long("sequence_number") : 0;
    m.min_sequence_number = r.has("min_sequence_number") ? r.get_long("min_sequence_number") : 0;
    m.added_snapshot_id = r.get_long("added_snapshot_id");
    m.added_files = r.get_optional_long("added_files_count").value_or(0);
    m.existing_files = r.get_optional_long("existing_files_count").value_or(0);
    m.deleted_files = r.get_optional_long("deleted_files_count").value_or(0);
    m.added_rows = r.get_optional_long("added_rows_count").value_or(0);
    m.existing_rows = r.get_optional_long("existing_rows_count").value_or(0);
    m.deleted_rows = r.get_optional_long("deleted_rows_count").value_or(0);
    manifests.push_back(std::move(m));
  });
  return manifests;
}

}  // namespace datalab::iceberg
