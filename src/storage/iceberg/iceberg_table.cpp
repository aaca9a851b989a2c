#include "storage/iceberg/iceberg_table.h"

#include <chrono>
#include <map>
#include <cstdio>
#include <random>

#include <arrow/util/key_value_metadata.h>
#include <fmt/format.h>

#include "core/error.h"
#include "core/uuid.h"
#include "storage/iceberg/manifest.h"

namespace datalab::iceberg {

namespace {

using nlohmann::json;

std::mt19937_64& rng() {
  static std::mt19937_64 generator{std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32)};
  return generator;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Schema table_schema(const arrow::Schema& schema) {
  const json j = iceberg_schema_json(schema);
  Schema s;
  s.schema_id = j.at("schema-id").get<int>();
  s.fields = j.at("fields");
  s.identifier_field_ids = j.at("identifier-field-ids");
  return s;
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

std::shared_ptr<arrow::DataType> arrow_type_of_iceberg(const json& type, const std::string& column) {
  if (type.is_string()) {
    const std::string name = type.get<std::string>();
    if (name == "boolean") return arrow::boolean();
    if (name == "int") return arrow::int32();
    if (name == "long") return arrow::int64();
    if (name == "float") return arrow::float32();
    if (name == "double") return arrow::float64();
    if (name == "string") return arrow::utf8();
    if (name == "binary") return arrow::binary();
    if (name == "date") return arrow::date32();
    if (name == "time") return arrow::time64(arrow::TimeUnit::MICRO);
    if (name == "timestamp") return arrow::timestamp(arrow::TimeUnit::MICRO);
    if (name == "timestamptz") return arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
    int precision = 0, scale = 0;
    if (std::sscanf(name.c_str(), "decimal(%d, %d)", &precision, &scale) == 2 ||
        std::sscanf(name.c_str(), "decimal(%d,%d)", &precision, &scale) == 2) {
      return arrow::decimal128(precision, scale);
    }
  }
  throw ConfigError(fmt::format("column '{}': Iceberg type {} is not read by datalab (only primitive types)", column,
                                type.dump()));
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

IcebergTable::IcebergTable(ObjectStore& store, Catalog& catalog, std::string ns, std::string name,
                           std::string location_key)
    : store_(store), catalog_(catalog), ns_(std::move(ns)), name_(std::move(name)),
      location_key_(std::move(location_key)) {}

TableScan IcebergTable::scan() {
  catalog_.ensure_tables();
  const auto location = catalog_.metadata_location(ns_, name_);
  if (!location) throw ConfigError(fmt::format("Iceberg table {} does not exist", identifier()));
  const TableMetadata metadata = read_metadata(*location);
  const Schema* current = metadata.current_schema();
  if (!current) throw Error(fmt::format("Iceberg table {}: metadata {} has no current schema", identifier(), *location));
  TableScan scan;
  arrow::FieldVector fields;
  for (const auto& field : current->fields) {
    const std::string name = field.at("name").get<std::string>();
    fields.push_back(arrow::field(name, arrow_type_of_iceberg(field.at("type"), name),
                                  !field.value("required", false)));
  }
  scan.schema = arrow::schema(fields);
  const Snapshot* snapshot = metadata.current_snapshot();
  if (!snapshot) return scan;
  scan.snapshot_id = snapshot->snapshot_id;
  for (const auto& manifest : read_manifest_list(store_.read_bytes(store_.key_of(snapshot->manifest_list)))) {
    if (manifest.content != 0) {
      if (manifest.added_files + manifest.existing_files == 0) continue;
      throw ConfigError(fmt::format("Iceberg table {} has row-level delete files ({}), which datalab does not apply: "
                                    "compact the table first (e.g. Spark's rewrite_data_files)",
                                    identifier(), manifest.path));
    }
    for (const auto& entry : read_manifest(store_.read_bytes(store_.key_of(manifest.path)))) {
      if (entry.status == EntryStatus::Deleted) continue;
      if (entry.file_format != "PARQUET" && entry.file_format != "parquet") {
        throw ConfigError(fmt::format("Iceberg table {}: data file {} is {}, datalab reads Parquet only", identifier(),
                                      entry.file_path, entry.file_format));
      }
      scan.files.push_back({store_.key_of(entry.file_path), entry.record_count, entry.file_size, {}});
    }
  }
  return scan;
}

TableMetadata IcebergTable::read_metadata(const std::string& location) {
  const std::string text = store_.read_bytes(store_.key_of(location));
  try {
    return parse_metadata(text);
  } catch (const json::exception& e) {
    throw Error(fmt::format("table {}: metadata {} is not valid JSON: {}", identifier(), location, e.what()));
  }
}

void IcebergTable::check_schema(const arrow::Schema& schema) {
  catalog_.ensure_tables();
  const auto location = catalog_.metadata_location(ns_, name_);
  if (!location) return;
  const TableMetadata metadata = read_metadata(*location);
  const Schema* current = metadata.current_schema();
  const json fields = current ? current->fields : json();
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

void IcebergTable::discard(const std::vector<std::string>& data_file_keys) noexcept {
  for (const auto& key : data_file_keys) {
    try {
      if (store_.exists(key)) store_.remove(key);
    } catch (...) {
    }
  }
}

std::optional<std::string> IcebergTable::summary_property(const std::string& key) {
  catalog_.ensure_tables();
  const auto location = catalog_.metadata_location(ns_, name_);
  if (!location) return std::nullopt;
  const TableMetadata metadata = read_metadata(*location);
  std::map<int64_t, const Snapshot*> by_id;
  for (const auto& snapshot : metadata.snapshots) by_id[snapshot.snapshot_id] = &snapshot;
  for (const Snapshot* s = metadata.current_snapshot(); s;) {
    if (const auto it = s->summary.find(key); it != s->summary.end()) return it->second;
    const auto parent = s->parent_snapshot_id ? by_id.find(*s->parent_snapshot_id) : by_id.end();
    s = parent == by_id.end() ? nullptr : parent->second;  // an expired parent ends the history
  }
  return std::nullopt;
}

CommitResult IcebergTable::commit(const arrow::Schema& schema, const std::vector<DataFile>& files, WriteMode mode,
                                  const std::map<std::string, std::string>& properties) {
  std::vector<std::string> written;  // what this commit wrote and no visible snapshot names
  try {
    return try_commit(schema, files, mode, properties, written);
  } catch (...) {
    // Neither the commit's own files nor the data files will ever be named by a snapshot.
    discard(written);
    std::vector<std::string> data_keys;
    for (const auto& f : files) data_keys.push_back(f.key);
    discard(data_keys);
    throw;
  }
}

CommitResult IcebergTable::try_commit(const arrow::Schema& schema, const std::vector<DataFile>& files,
                                      WriteMode mode, const std::map<std::string, std::string>& properties,
                                      std::vector<std::string>& written) {
  catalog_.ensure_tables();
  catalog_.ensure_namespace(ns_);
  CommitResult result;
  result.snapshot_id = static_cast<int64_t>(rng()() & 0x7FFFFFFFFFFFFFFFULL);
  const std::string commit_uuid = random_uuid();

  // The manifest does not depend on the parent snapshot (sequence numbers are inherited),
  // so a retried commit reuses it.
  std::vector<ManifestEntry> added;
  for (const auto& f : files) {
    ManifestEntry e;
    e.status = EntryStatus::Added;
    e.snapshot_id = result.snapshot_id;
    e.file_path = store_.uri(f.key);
    e.record_count = f.record_count;
    e.file_size = f.size;
    e.columns = f.columns;
    added.push_back(std::move(e));
  }
  const std::string manifest_key = fmt::format("{}/metadata/{}-m0.avro", location_key_, commit_uuid);
  written.push_back(manifest_key);
  store_.write_bytes(manifest_key, write_manifest(added, iceberg_schema_json(schema)));
  result.manifest = store_.uri(manifest_key);
  const int64_t manifest_length = store_.size(manifest_key);

  constexpr int kAttempts = 5;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    result.attempts = attempt + 1;
    const auto current = catalog_.metadata_location(ns_, name_);
    const int64_t now = now_ms();
    const TableMetadata base = current ? read_metadata(*current)
                                       : TableMetadata::create(random_uuid(), store_.uri(location_key_),
                                                               table_schema(schema), schema.num_fields(), now);
    const int version = current ? metadata_version(*current) + 1 : 0;
    SnapshotProducer producer(mode, result.snapshot_id, base);
    const std::size_t kept = written.size();  // this attempt's files follow

    std::vector<ManifestFile> parent_manifests;
    if (!producer.parent_manifest_list().empty()) {
      parent_manifests = read_manifest_list(store_.read_bytes(store_.key_of(producer.parent_manifest_list())));
    }
    std::optional<ManifestFile> deleted_manifest;
    if (producer.replaces_files()) {
      // Overwrite: the parent's live files stay on record as DELETED by this snapshot.
      std::vector<ManifestEntry> deleted;
      for (const auto& m : parent_manifests) {
        if (m.content != 0) continue;
        const auto entries = producer.deleted_entries(m, read_manifest(store_.read_bytes(store_.key_of(m.path))));
        deleted.insert(deleted.end(), entries.begin(), entries.end());
      }
      if (!deleted.empty()) {
        const std::string key = fmt::format("{}/metadata/{}-m1-{}.avro", location_key_, commit_uuid, attempt);
        written.push_back(key);
        store_.write_bytes(key, write_manifest(deleted, iceberg_schema_json(schema)));
        deleted_manifest = producer.deleted_manifest(store_.uri(key), store_.size(key), deleted);
      }
    }
    const auto manifests =
        producer.manifest_list(producer.added_manifest(result.manifest, manifest_length, added), deleted_manifest,
                               parent_manifests);
    const std::string list_key =
        fmt::format("{}/metadata/snap-{}-{}-{}.avro", location_key_, result.snapshot_id, attempt, commit_uuid);
    written.push_back(list_key);
    store_.write_bytes(list_key, write_manifest_list(manifests, result.snapshot_id, producer.parent_id(),
                                                     producer.sequence_number()));

    auto summary = producer.summary(added);
    for (const auto& [key, value] : properties) summary[key] = value;
    const TableMetadata metadata = producer.apply(store_.uri(list_key), std::move(summary), now, current);
    const std::string metadata_key =
        fmt::format("{}/metadata/{:05d}-{}.metadata.json", location_key_, version, random_uuid());
    written.push_back(metadata_key);
    store_.write_bytes(metadata_key, metadata_text(metadata));
    const std::string metadata_location = store_.uri(metadata_key);
    const int64_t total_records = metadata.snapshots.back().summary_number("total-records");
    const std::string list_uri = store_.uri(list_key);

    const bool committed = current ? catalog_.swap_metadata(ns_, name_, *current, metadata_location)
                                   : catalog_.create_table(ns_, name_, metadata_location);
    if (committed) {
      written.clear();  // visible now
      result.created_table = !current;
      result.sequence_number = producer.sequence_number();
      result.snapshot_count = static_cast<int>(metadata.snapshots.size());
      result.total_records = total_records;
      result.metadata_location = metadata_location;
      result.previous_metadata_location = current.value_or("");
      result.manifest_list = list_uri;
      return result;
    }
    // Another writer committed first: these files were never visible; build on its metadata.
    std::vector<std::string> attempt_files(written.begin() + static_cast<std::ptrdiff_t>(kept), written.end());
    written.resize(kept);
    for (auto it = attempt_files.rbegin(); it != attempt_files.rend(); ++it) store_.remove(*it);
  }
  throw ServiceError(fmt::format("Iceberg table {}: gave up after {} concurrent commits won the race", identifier(),
                                 kAttempts));
}

}  // namespace datalab::iceberg
