#include "storage/iceberg/table_metadata.h"

#include <initializer_list>

namespace datalab::iceberg {

using nlohmann::json;

namespace {

// The object's keys other than `known`.
json rest(const json& j, std::initializer_list<const char*> known) {
  json out = json::object();
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool is_known = false;
    for (const char* k : known) is_known = is_known || it.key() == k;
    if (!is_known) out[it.key()] = it.value();
  }
  return out;
}

void merge_extra(json& j, const json& extra) {
  for (auto it = extra.begin(); it != extra.end(); ++it) {
    if (!j.contains(it.key())) j[it.key()] = it.value();
  }
}

std::string as_string(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

json schema_json(const Schema& s) {
  json j = {{"type", "struct"}, {"schema-id", s.schema_id}, {"fields", s.fields},
            {"identifier-field-ids", s.identifier_field_ids}};
  merge_extra(j, s.extra);
  return j;
}

Schema schema_from(const json& j) {
  Schema s;
  s.schema_id = j.value("schema-id", 0);
  s.fields = j.value("fields", json::array());
  s.identifier_field_ids = j.value("identifier-field-ids", json::array());
  s.extra = rest(j, {"type", "schema-id", "fields", "identifier-field-ids"});
  return s;
}

}  // namespace

int64_t Snapshot::summary_number(const std::string& key) const {
  const auto it = summary.find(key);
  if (it == summary.end()) return 0;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return 0;
  }
}

void to_json(json& j, const Snapshot& s) {
  j = {{"snapshot-id", s.snapshot_id},
       {"sequence-number", s.sequence_number},
       {"timestamp-ms", s.timestamp_ms},
       {"manifest-list", s.manifest_list},
       {"summary", s.summary}};
  if (s.parent_snapshot_id) j["parent-snapshot-id"] = *s.parent_snapshot_id;
  if (s.schema_id) j["schema-id"] = *s.schema_id;
  merge_extra(j, s.extra);
}

void from_json(const json& j, Snapshot& s) {
  s.snapshot_id = j.at("snapshot-id").get<int64_t>();
  const auto parent = j.find("parent-snapshot-id");
  s.parent_snapshot_id.reset();
  if (parent != j.end() && parent->is_number()) s.parent_snapshot_id = parent->get<int64_t>();
  s.sequence_number = j.value("sequence-number", int64_t{0});
  s.timestamp_ms = j.value("timestamp-ms", int64_t{0});
  s.manifest_list = j.value("manifest-list", "");
  s.summary.clear();
  if (const auto summary = j.find("summary"); summary != j.end() && summary->is_object()) {
    for (auto it = summary->begin(); it != summary->end(); ++it) s.summary[it.key()] = as_string(it.value());
  }
  s.schema_id.reset();
  if (const auto id = j.find("schema-id"); id != j.end() && id->is_number()) s.schema_id = id->get<int>();
  s.extra = rest(j, {"snapshot-id", "parent-snapshot-id", "sequence-number", "timestamp-ms", "manifest-list",
                     "summary", "schema-id"});
}

TableMetadata TableMetadata::create(std::string table_uuid, std::string location, Schema schema, int last_column_id,
                                    int64_t now_ms) {
  TableMetadata m;
  m.table_uuid = std::move(table_uuid);
  m.location = std::move(location);
  m.last_updated_ms = now_ms;
  m.last_column_id = last_column_id;
  m.current_schema_id = schema.schema_id;
  m.schemas.push_back(std::move(schema));
  m.partition_specs.push_back({});
  m.sort_orders.push_back({});
  return m;
}

const Schema* TableMetadata::current_schema() const {
  for (const auto& s : schemas) {
    if (s.schema_id == current_schema_id) return &s;
  }
  return nullptr;
}

const Snapshot* TableMetadata::current_snapshot() const {
  if (!current_snapshot_id || *current_snapshot_id < 0) return nullptr;
  for (const auto& s : snapshots) {
    if (s.snapshot_id == *current_snapshot_id) return &s;
  }
  return nullptr;
}

void to_json(json& j, const TableMetadata& m) {
  json schemas = json::array(), specs = json::array(), orders = json::array(), snapshots = json::array();
  for (const auto& s : m.schemas) schemas.push_back(schema_json(s));
  for (const auto& p : m.partition_specs) specs.push_back({{"spec-id", p.spec_id}, {"fields", p.fields}});
  for (const auto& o : m.sort_orders) orders.push_back({{"order-id", o.order_id}, {"fields", o.fields}});
  for (const auto& s : m.snapshots) snapshots.push_back(s);
  json snapshot_log = json::array(), metadata_log = json::array(), refs = json::object();
  for (const auto& e : m.snapshot_log) snapshot_log.push_back({{"snapshot-id", e.snapshot_id}, {"timestamp-ms", e.timestamp_ms}});
  for (const auto& e : m.metadata_log) {
    metadata_log.push_back({{"metadata-file", e.metadata_file}, {"timestamp-ms", e.timestamp_ms}});
  }
  for (const auto& [name, ref] : m.refs) {
    json r = {{"snapshot-id", ref.snapshot_id}, {"type", ref.type}};
    merge_extra(r, ref.extra);
    refs[name] = r;
  }
  j = {{"format-version", m.format_version},
       {"table-uuid", m.table_uuid},
       {"location", m.location},
       {"last-sequence-number", m.last_sequence_number},
       {"last-updated-ms", m.last_updated_ms},
       {"last-column-id", m.last_column_id},
       {"current-schema-id", m.current_schema_id},
       {"schemas", schemas},
       {"default-spec-id", m.default_spec_id},
       {"partition-specs", specs},
       {"last-partition-id", m.last_partition_id},
       {"default-sort-order-id", m.default_sort_order_id},
       {"sort-orders", orders},
       {"properties", m.properties},
       {"snapshots", snapshots},
       {"snapshot-log", snapshot_log},
       {"metadata-log", metadata_log},
       {"refs", refs}};
  if (m.current_snapshot_id) j["current-snapshot-id"] = *m.current_snapshot_id;
  merge_extra(j, m.extra);
}

void from_json(const json& j, TableMetadata& m) {
  m = TableMetadata{};
  m.format_version = j.value("format-version", 2);
  m.table_uuid = j.value("table-uuid", "");
  m.location = j.value("location", "");
  m.last_sequence_number = j.value("last-sequence-number", int64_t{0});
  m.last_updated_ms = j.value("last-updated-ms", int64_t{0});
  m.last_column_id = j.value("last-column-id", 0);
  m.current_schema_id = j.value("current-schema-id", 0);
  for (const auto& s : j.value("schemas", json::array())) m.schemas.push_back(schema_from(s));
  m.default_spec_id = j.value("default-spec-id", 0);
  for (const auto& p : j.value("partition-specs", json::array())) {
    m.partition_specs.push_back({p.value("spec-id", 0), p.value("fields", json::array())});
  }
  m.last_partition_id = j.value("last-partition-id", 999);
  m.default_sort_order_id = j.value("default-sort-order-id", 0);
  for (const auto& o : j.value("sort-orders", json::array())) {
    m.sort_orders.push_back({o.value("order-id", 0), o.value("fields", json::array())});
  }
  if (const auto props = j.find("properties"); props != j.end() && props->is_object()) {
    for (auto it = props->begin(); it != props->end(); ++it) m.properties[it.key()] = as_string(it.value());
  }
  if (const auto id = j.find("current-snapshot-id"); id != j.end() && id->is_number()) {
    m.current_snapshot_id = id->get<int64_t>();
  }
  for (const auto& s : j.value("snapshots", json::array())) m.snapshots.push_back(s.get<Snapshot>());
  for (const auto& e : j.value("snapshot-log", json::array())) {
    m.snapshot_log.push_back({e.at("snapshot-id").get<int64_t>(), e.value("timestamp-ms", int64_t{0})});
  }
  for (const auto& e : j.value("metadata-log", json::array())) {
    m.metadata_log.push_back({e.at("metadata-file").get<std::string>(), e.value("timestamp-ms", int64_t{0})});
  }
  if (const auto refs = j.find("refs"); refs != j.end() && refs->is_object()) {
    for (auto it = refs->begin(); it != refs->end(); ++it) {
      const auto& r = it.value();
      m.refs[it.key()] = {r.at("snapshot-id").get<int64_t>(), r.value("type", "branch"),
                          rest(r, {"snapshot-id", "type"})};
    }
  }
  m.extra = rest(j, {"format-version", "table-uuid", "location", "last-sequence-number", "last-updated-ms",
                     "last-column-id", "current-schema-id", "schemas", "default-spec-id", "partition-specs",
                     "last-partition-id", "default-sort-order-id", "sort-orders", "properties",
                     "current-snapshot-id", "snapshots", "snapshot-log", "metadata-log", "refs"});
}

std::string metadata_text(const TableMetadata& m) { return json(m).dump(2); }

TableMetadata parse_metadata(const std::string& text) { return json::parse(text).get<TableMetadata>(); }

int metadata_version(const std::string& location) {
  const auto slash = location.rfind('/');
  const std::string name = location.substr(slash == std::string::npos ? 0 : slash + 1);
  try {
    return std::stoi(name.substr(0, name.find('-')));
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace datalab::iceberg
