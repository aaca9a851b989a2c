#include "storage/iceberg/iceberg_table.h"

#include <chrono>
#include <random>

#include <arrow/util/key_value_metadata.h>
#include <fmt/format.h>

#include "core/error.h"
#include "core/uuid.h"
#include "storage/iceberg/avro_file.h"

namespace datalab::iceberg {

namespace {

using nlohmann::json;

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

struct ManifestFile {
  std::string path;
  int64_t length = 0;
  int64_t spec_id = 0, content = 0, sequence_number = 0, min_sequence_number = 0, added_snapshot_id = 0;
  int64_t added_files = 0, existing_files = 0, deleted_files = 0;
  int64_t added_rows = 0, existing_rows = 0, deleted_rows = 0;
};

std::mt19937_64& rng() {
  static std::mt19937_64 generator{std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32)};
  return generator;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t summary_number(const json& summary, const char* key) {
  if (!summary.contains(key)) return 0;
  const auto& v = summary[key];
  return v.is_string() ? std::stoll(v.get<std::string>()) : v.get<int64_t>();
}

// The metadata version number from ".../00012-<uuid>.metadata.json".
int metadata_version(const std::string& location) {
  const auto slash = location.rfind('/');
  const std::string name = location.substr(slash == std::string::npos ? 0 : slash + 1);
  try {
    return std::stoi(name.substr(0, name.find('-')));
  } catch (const std::exception&) {
    return 0;
  }
}

std::vector<ManifestFile> read_manifest_list(const ObjectStore& store, const std::string& uri) {
  std::vector<ManifestFile> manifests;
  read_avro_file(store.read_bytes(store.key_of(uri)), [&](const AvroView& r) {
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

// A data file the parent snapshot still lists, with the data and file sequence numbers it
// keeps when a later snapshot marks it DELETED.
struct LiveFile {
  std::string path, format;
  int64_t records = 0, size = 0, sequence = 0, file_sequence = 0;
};

std::vector<LiveFile> live_data_files(const ObjectStore& store, const std::vector<ManifestFile>& manifests) {
  std::vector<LiveFile> files;
  for (const auto& m : manifests) {
    if (m.content != 0) continue;  // delete manifests: none are written here
    read_avro_file(store.read_bytes(store.key_of(m.path)), [&](const AvroView& e) {
      if (e.get_long("status") == 2) return;  // already deleted
      LiveFile f;
      f.path = e.get_string("data_file.file_path");
      f.format = e.get_string("data_file.file_format");
      f.records = e.get_long("data_file.record_count");
      f.size = e.get_long("data_file.file_size_in_bytes");
      // ADDED entries inherit their manifest's sequence number.
      f.sequence = e.get_optional_long("sequence_number").value_or(m.sequence_number);
      f.file_sequence = e.get_optional_long("file_sequence_number").value_or(m.sequence_number);
      files.push_back(std::move(f));
    });
  }
  return files;
}

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

}  // namespace

std::string iceberg_type_name(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::BOOL: return "boolean";
    case arrow::Type::INT32: return "int";
    case arrow::Type::INT64: return "long";
    case arrow::Type::FLOAT: return "float";
    case arrow::Type::DOUBLE: return "double";
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING: return "string";
    case arrow::Type::BINARY:
    case arrow::Type::LARGE_BINARY: return "binary";
    case arrow::Type::DATE32: return "date";
    case arrow::Type::DECIMAL128: {
      const auto& d = static_cast<const arrow::Decimal128Type&>(type);
      return fmt::format("decimal({}, {})", d.precision(), d.scale());
    }
    case arrow::Type::TIMESTAMP: {
      const auto& t = static_cast<const arrow::TimestampType&>(type);
      if (t.unit() != arrow::TimeUnit::MICRO) break;
      return t.timezone().empty() ? "timestamp" : "timestamptz";
    }
    default: break;
  }
  throw Error(fmt::format("Arrow type {} has no Iceberg equivalent here", type.ToString()));
}

json iceberg_schema_json(const arrow::Schema& schema, int schema_id) {
  json fields = json::array();
  int id = 0;
  for (const auto& field : schema.fields()) {
    fields.push_back({{"id", ++id}, {"name", field->name()}, {"type", iceberg_type_name(*field->type())},
                      {"required", false}});
  }
  return {{"type", "struct"}, {"schema-id", schema_id}, {"fields", fields}, {"identifier-field-ids", json::array()}};
}

std::shared_ptr<arrow::Schema> with_field_ids(const arrow::Schema& schema) {
  arrow::FieldVector fields;
  int id = 0;
  for (const auto& field : schema.fields()) {
    fields.push_back(field->WithMetadata(arrow::key_value_metadata({"PARQUET:field_id"}, {std::to_string(++id)})));
  }
  return arrow::schema(fields);
}

IcebergTable::IcebergTable(ObjectStore& store, SqlCatalog& catalog, std::string ns, std::string name,
                           std::string location_key)
    : store_(store), catalog_(catalog), ns_(std::move(ns)), name_(std::move(name)),
      location_key_(std::move(location_key)) {}

json IcebergTable::read_metadata(const std::string& location) {
  const std::string text = store_.read_bytes(store_.key_of(location));
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw Error(fmt::format("table {}: metadata {} is not valid JSON: {}", identifier(), location, e.what()));
  }
}

void IcebergTable::check_schema(const arrow::Schema& schema) {
  catalog_.ensure_tables();
  const auto location = catalog_.metadata_location(ns_, name_);
  if (!location) return;
  const json metadata = read_metadata(*location);
  const int current = metadata.value("current-schema-id", 0);
  json fields;
  for (const auto& s : metadata.at("schemas")) {
    if (s.value("schema-id", 0) == current) fields = s.at("fields");
  }
  const json want = iceberg_schema_json(schema).at("fields");
  bool same = fields.size() == want.size();
  for (std::size_t i = 0; same && i < want.size(); ++i) {
    same = fields[i].at("name") == want[i].at("name") && fields[i].at("type") == want[i].at("type") &&
           fields[i].at("id") == want[i].at("id");
  }
  if (!same) {
    throw Error(fmt::format("Iceberg table {} exists with other columns ({}); drop it or use another S3_TABLE",
                            identifier(), fields.dump()));
  }
}

std::string IcebergTable::new_data_file_key() const {
  return fmt::format("{}/data/00000-0-{}.parquet", location_key_, random_uuid());
}

CommitResult IcebergTable::commit(const arrow::Schema& schema, const std::vector<DataFile>& files, WriteMode mode) {
  catalog_.ensure_tables();
  catalog_.ensure_namespace(ns_);
  CommitResult result;
  result.snapshot_id = static_cast<int64_t>(rng()() & 0x7FFFFFFFFFFFFFFFULL);
  const std::string commit_uuid = random_uuid();
  int64_t added_records = 0, added_size = 0;
  for (const auto& f : files) {
    added_records += f.record_count;
    added_size += f.size;
  }

  // The manifest does not depend on the parent snapshot (sequence numbers are inherited),
  // so a retried commit reuses it.
  const std::string manifest_key = fmt::format("{}/metadata/{}-m0.avro", location_key_, commit_uuid);
  {
    const json table_schema = iceberg_schema_json(schema);
    AvroFileWriter writer(kManifestEntrySchema, {{"schema", table_schema.dump()},
                                                 {"partition-spec", "[]"},
                                                 {"partition-spec-id", "0"},
                                                 {"format-version", "2"},
                                                 {"content", "data"}});
    for (const auto& f : files) {
      writer.append([&](AvroRecord& r) {
        r.set_int("status", 1);  // ADDED
        r.set_optional_long("snapshot_id", result.snapshot_id);
        r.set_null("sequence_number");       // inherited from the manifest list
        r.set_null("file_sequence_number");  // inherited
        r.set_int("data_file.content", 0);   // data
        r.set_string("data_file.file_path", store_.uri(f.key));
        r.set_string("data_file.file_format", "PARQUET");
        r.set_long("data_file.record_count", f.record_count);
        r.set_long("data_file.file_size_in_bytes", f.size);
        set_data_file_metrics(r, f.columns);
      });
    }
    store_.write_bytes(manifest_key, writer.finish());
  }
  result.manifest = store_.uri(manifest_key);
  const int64_t manifest_length = store_.size(manifest_key);

  constexpr int kAttempts = 5;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    result.attempts = attempt + 1;
    const auto current = catalog_.metadata_location(ns_, name_);
    json metadata;
    int version = 0;
    const int64_t now = now_ms();
    if (current) {
      metadata = read_metadata(*current);
      version = metadata_version(*current) + 1;
    } else {
      metadata = {{"format-version", 2},
                  {"table-uuid", random_uuid()},
                  {"location", store_.uri(location_key_)},
                  {"last-sequence-number", 0},
                  {"last-updated-ms", now},
                  {"last-column-id", schema.num_fields()},
                  {"current-schema-id", 0},
                  {"schemas", json::array({iceberg_schema_json(schema)})},
                  {"default-spec-id", 0},
                  {"partition-specs", json::array({{{"spec-id", 0}, {"fields", json::array()}}})},
                  {"last-partition-id", 999},
                  {"default-sort-order-id", 0},
                  {"sort-orders", json::array({{{"order-id", 0}, {"fields", json::array()}}})},
                  {"properties", json::object()},
                  {"snapshots", json::array()},
                  {"snapshot-log", json::array()},
                  {"metadata-log", json::array()},
                  {"refs", json::object()}};
    }
    std::optional<int64_t> parent_id;
    if (metadata.contains("current-snapshot-id") && metadata["current-snapshot-id"].is_number() &&
        metadata["current-snapshot-id"].get<int64_t>() >= 0) {
      parent_id = metadata["current-snapshot-id"].get<int64_t>();
    }
    json parent_summary = json::object();
    std::string parent_manifest_list;
    if (parent_id) {
      for (const auto& s : metadata.at("snapshots")) {
        if (s.at("snapshot-id").get<int64_t>() == *parent_id) {
          parent_summary = s.value("summary", json::object());
          parent_manifest_list = s.value("manifest-list", "");
        }
      }
    }
    const int64_t sequence = metadata.value("last-sequence-number", int64_t{0}) + 1;

    std::vector<ManifestFile> manifests;
    std::optional<std::string> deleted_manifest_key;
    if (mode == WriteMode::Append && !parent_manifest_list.empty()) {
      manifests = read_manifest_list(store_, parent_manifest_list);
    } else if (!parent_manifest_list.empty()) {
      // Overwrite: the parent's live files stay on record as DELETED by this snapshot.
      const auto replaced = live_data_files(store_, read_manifest_list(store_, parent_manifest_list));
      if (!replaced.empty()) {
        deleted_manifest_key = fmt::format("{}/metadata/{}-m1-{}.avro", location_key_, commit_uuid, attempt);
        AvroFileWriter writer(kManifestEntrySchema, {{"schema", iceberg_schema_json(schema).dump()},
                                                     {"partition-spec", "[]"},
                                                     {"partition-spec-id", "0"},
                                                     {"format-version", "2"},
                                                     {"content", "data"}});
        ManifestFile deleted;
        deleted.sequence_number = sequence;
        // The spec's minimum counts live entries only; with none, it is the manifest's own.
        deleted.min_sequence_number = sequence;
        deleted.added_snapshot_id = result.snapshot_id;
        for (const auto& f : replaced) {
          writer.append([&](AvroRecord& r) {
            r.set_int("status", 2);  // DELETED
            r.set_optional_long("snapshot_id", result.snapshot_id);
            r.set_optional_long("sequence_number", f.sequence);
            r.set_optional_long("file_sequence_number", f.file_sequence);
            r.set_int("data_file.content", 0);
            r.set_string("data_file.file_path", f.path);
            r.set_string("data_file.file_format", f.format);
            r.set_long("data_file.record_count", f.records);
            r.set_long("data_file.file_size_in_bytes", f.size);
            set_data_file_metrics(r, {});  // metrics of deleted files are not needed
          });
          ++deleted.deleted_files;
          deleted.deleted_rows += f.records;
        }
        store_.write_bytes(*deleted_manifest_key, writer.finish());
        deleted.path = store_.uri(*deleted_manifest_key);
        deleted.length = store_.size(*deleted_manifest_key);
        manifests.push_back(std::move(deleted));
      }
    }
    ManifestFile added;
    added.path = result.manifest;
    added.length = manifest_length;
    added.sequence_number = sequence;
    added.min_sequence_number = sequence;
    added.added_snapshot_id = result.snapshot_id;
    added.added_files = static_cast<int64_t>(files.size());
    added.added_rows = added_records;
    manifests.insert(manifests.begin(), added);
    const std::string list_key =
        fmt::format("{}/metadata/snap-{}-{}-{}.avro", location_key_, result.snapshot_id, attempt, commit_uuid);
    store_.write_bytes(list_key, write_manifest_list(manifests, result.snapshot_id, parent_id, sequence));

    const bool append = mode == WriteMode::Append;
    const int64_t old_files = summary_number(parent_summary, "total-data-files");
    const int64_t old_records = summary_number(parent_summary, "total-records");
    const int64_t old_size = summary_number(parent_summary, "total-files-size");
    json summary = {{"operation", append ? "append" : "overwrite"},
                    {"added-data-files", std::to_string(files.size())},
                    {"added-records", std::to_string(added_records)},
                    {"added-files-size", std::to_string(added_size)},
                    {"total-data-files", std::to_string((append ? old_files : 0) + static_cast<int64_t>(files.size()))},
                    {"total-records", std::to_string((append ? old_records : 0) + added_records)},
                    {"total-files-size", std::to_string((append ? old_size : 0) + added_size)},
                    {"total-delete-files", "0"},
                    {"total-position-deletes", "0"},
                    {"total-equality-deletes", "0"},
                    {"engine-name", "datalab"}};
    if (!append && old_files > 0) {
      summary["deleted-data-files"] = std::to_string(old_files);
      summary["deleted-records"] = std::to_string(old_records);
      summary["removed-files-size"] = std::to_string(old_size);
    }
    json snapshot = {{"snapshot-id", result.snapshot_id},
                     {"sequence-number", sequence},
                     {"timestamp-ms", now},
                     {"manifest-list", store_.uri(list_key)},
                     {"summary", summary},
                     {"schema-id", metadata.value("current-schema-id", 0)}};
    if (parent_id) snapshot["parent-snapshot-id"] = *parent_id;
    metadata["snapshots"].push_back(snapshot);
    metadata["snapshot-log"].push_back({{"snapshot-id", result.snapshot_id}, {"timestamp-ms", now}});
    if (current) {
      metadata["metadata-log"].push_back(
          {{"metadata-file", *current}, {"timestamp-ms", metadata.value("last-updated-ms", now)}});
    }
    metadata["current-snapshot-id"] = result.snapshot_id;
    metadata["refs"]["main"] = {{"snapshot-id", result.snapshot_id}, {"type", "branch"}};
    metadata["last-sequence-number"] = sequence;
    metadata["last-updated-ms"] = now;

    const std::string metadata_key =
        fmt::format("{}/metadata/{:05d}-{}.metadata.json", location_key_, version, random_uuid());
    store_.write_bytes(metadata_key, metadata.dump(2));
    const std::string metadata_location = store_.uri(metadata_key);

    const bool committed = current ? catalog_.swap_metadata(ns_, name_, *current, metadata_location)
                                   : catalog_.create_table(ns_, name_, metadata_location);
    if (committed) {
      result.created_table = !current;
      result.sequence_number = sequence;
      result.snapshot_count = static_cast<int>(metadata["snapshots"].size());
      result.total_records = std::stoll(summary["total-records"].get<std::string>());
      result.metadata_location = metadata_location;
      result.previous_metadata_location = current.value_or("");
      result.manifest_list = store_.uri(list_key);
      return result;
    }
    // Another writer committed first: these files were never visible; build on its metadata.
    store_.remove(metadata_key);
    store_.remove(list_key);
    if (deleted_manifest_key) store_.remove(*deleted_manifest_key);
  }
  store_.remove(manifest_key);
  throw ServiceError(fmt::format("Iceberg table {}: gave up after {} concurrent commits won the race", identifier(),
                                 kAttempts));
}

}  // namespace datalab::iceberg
