#include "storage/iceberg/snapshot_producer.h"

namespace datalab::iceberg {

SnapshotProducer::SnapshotProducer(WriteMode mode, int64_t snapshot_id, const TableMetadata& base)
    : mode_(mode), snapshot_id_(snapshot_id), base_(base), sequence_(base.last_sequence_number + 1) {
  if (base.current_snapshot_id && *base.current_snapshot_id >= 0) parent_id_ = *base.current_snapshot_id;
  parent_ = base.current_snapshot();
  if (parent_) parent_manifest_list_ = parent_->manifest_list;
}

std::vector<ManifestEntry> SnapshotProducer::deleted_entries(const ManifestFile& manifest,
                                                             const std::vector<ManifestEntry>& entries) const {
  std::vector<ManifestEntry> deleted;
  if (manifest.content != 0) return deleted;  // delete manifests: none are written here
  for (const auto& e : entries) {
    if (e.status == EntryStatus::Deleted) continue;  // already deleted
    ManifestEntry d;
    d.status = EntryStatus::Deleted;
    d.snapshot_id = snapshot_id_;
    // ADDED entries inherit their manifest's sequence number.
    d.sequence_number = e.sequence_number.value_or(manifest.sequence_number);
    d.file_sequence_number = e.file_sequence_number.value_or(manifest.sequence_number);
    d.file_path = e.file_path;
    d.file_format = e.file_format;
    d.record_count = e.record_count;
    d.file_size = e.file_size;
    // metrics of deleted files are not needed
    deleted.push_back(std::move(d));
  }
  return deleted;
}

ManifestFile SnapshotProducer::added_manifest(const std::string& path, int64_t length,
                                              const std::vector<ManifestEntry>& added) const {
  ManifestFile m;
  m.path = path;
  m.length = length;
  m.sequence_number = sequence_;
  m.min_sequence_number = sequence_;
  m.added_snapshot_id = snapshot_id_;
  m.added_files = static_cast<int64_t>(added.size());
  for (const auto& e : added) m.added_rows += e.record_count;
  return m;
}

ManifestFile SnapshotProducer::deleted_manifest(const std::string& path, int64_t length,
                                                const std::vector<ManifestEntry>& deleted) const {
  ManifestFile m;
  m.path = path;
  m.length = length;
  m.sequence_number = sequence_;
  // The spec's minimum counts live entries only; with none, it is the manifest's own.
  m.min_sequence_number = sequence_;
  m.added_snapshot_id = snapshot_id_;
  for (const auto& e : deleted) {
    ++m.deleted_files;
    m.deleted_rows += e.record_count;
  }
  return m;
}

std::vector<ManifestFile> SnapshotProducer::manifest_list(const ManifestFile& added,
                                                          const std::optional<ManifestFile>& deleted,
                                                          const std::vector<ManifestFile>& parent_manifests) const {
  std::vector<ManifestFile> list{added};
  if (mode_ == WriteMode::Append) {
    list.insert(list.end(), parent_manifests.begin(), parent_manifests.end());
  } else if (deleted) {
    list.push_back(*deleted);
  }
  return list;
}

std::map<std::string, std::string> SnapshotProducer::summary(const std::vector<ManifestEntry>& added) const {
  int64_t added_records = 0, added_size = 0;
  for (const auto& e : added) {
    added_records += e.record_count;
    added_size += e.file_size;
  }
  const auto added_files = static_cast<int64_t>(added.size());
  const bool append = mode_ == WriteMode::Append;
  const int64_t old_files = parent_ ? parent_->summary_number("total-data-files") : 0;
  const int64_t old_records = parent_ ? parent_->summary_number("total-records") : 0;
  const int64_t old_size = parent_ ? parent_->summary_number("total-files-size") : 0;
  std::map<std::string, std::string> summary = {
      {"operation", append ? "append" : "overwrite"},
      {"added-data-files", std::to_string(added_files)},
      {"added-records", std::to_string(added_records)},
      {"added-files-size", std::to_string(added_size)},
      {"total-data-files", std::to_string((append ? old_files : 0) + added_files)},
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
  return summary;
}

TableMetadata SnapshotProducer::apply(const std::string& manifest_list_uri, std::map<std::string, std::string> summary,
                                      int64_t now_ms, const std::optional<std::string>& previous_location) const {
  TableMetadata m = base_;
  Snapshot snapshot;
  snapshot.snapshot_id = snapshot_id_;
  snapshot.parent_snapshot_id = parent_id_;
  snapshot.sequence_number = sequence_;
  snapshot.timestamp_ms = now_ms;
  snapshot.manifest_list = manifest_list_uri;
  snapshot.summary = std::move(summary);
  snapshot.schema_id = base_.current_schema_id;
  m.snapshots.push_back(std::move(snapshot));
  m.snapshot_log.push_back({snapshot_id_, now_ms});
  if (previous_location) m.metadata_log.push_back({*previous_location, base_.last_updated_ms});
  m.current_snapshot_id = snapshot_id_;
  m.refs["main"] = {snapshot_id_, "branch", nlohmann::json::object()};
  m.last_sequence_number = sequence_;
  m.last_updated_ms = now_ms;
  return m;
}

}  // namespace datalab::iceberg
