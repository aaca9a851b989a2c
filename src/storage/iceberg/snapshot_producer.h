#pragma once
// Builds one snapshot on top of a table's metadata, without I/O: the sequence number, the
// manifest list's rows (the new data files' manifest first; an append keeps the parent's
// manifests, an overwrite lists the parent's live files as DELETED instead), the snapshot
// summary (added/deleted files, records, sizes and the totals) and the metadata update.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/iceberg/manifest.h"
#include "storage/iceberg/table_metadata.h"

namespace datalab::iceberg {

enum class WriteMode { Append, Overwrite };

class SnapshotProducer {
 public:
  SnapshotProducer(WriteMode mode, int64_t snapshot_id, const TableMetadata& base);

  int64_t snapshot_id() const { return snapshot_id_; }
  std::optional<int64_t> parent_id() const { return parent_id_; }
  int64_t sequence_number() const { return sequence_; }
  // The parent snapshot's manifest list (empty: no parent snapshot).
  const std::string& parent_manifest_list() const { return parent_manifest_list_; }
  // Whether the parent's manifests are read for their entries (an overwrite replacing files).
  bool replaces_files() const { return mode_ == WriteMode::Overwrite && !parent_manifest_list_.empty(); }

  // The entries of one parent manifest that this snapshot marks DELETED: its live data
  // entries, keeping the data and file sequence numbers they had (inherited ones resolved).
  std::vector<ManifestEntry> deleted_entries(const ManifestFile& manifest,
                                             const std::vector<ManifestEntry>& entries) const;
  // The manifest-list rows of the manifest of new files and of the one of DELETED entries.
  ManifestFile added_manifest(const std::string& path, int64_t length,
                              const std::vector<ManifestEntry>& added) const;
  ManifestFile deleted_manifest(const std::string& path, int64_t length,
                                const std::vector<ManifestEntry>& deleted) const;
  // The snapshot's manifest list: `added` first, then the parent's manifests (append) or
  // the DELETED entries' manifest when there is one (overwrite).
  std::vector<ManifestFile> manifest_list(const ManifestFile& added, const std::optional<ManifestFile>& deleted,
                                          const std::vector<ManifestFile>& parent_manifests) const;
  // The summary of a snapshot adding these entries (for an overwrite, the parent's totals
  // are the deleted counts).
  std::map<std::string, std::string> summary(const std::vector<ManifestEntry>& added) const;
  // The new metadata: the snapshot added and made current on branch main, both logs and
  // the last sequence number updated. `previous_location`: the base's metadata file, if any.
  TableMetadata apply(const std::string& manifest_list_uri, std::map<std::string, std::string> summary,
                      int64_t now_ms, const std::optional<std::string>& previous_location) const;

 private:
  WriteMode mode_;
  int64_t snapshot_id_;
  const TableMetadata& base_;
  std::optional<int64_t> parent_id_;
  const Snapshot* parent_ = nullptr;
  std::string parent_manifest_list_;
  int64_t sequence_ = 0;
};

}  // namespace datalab::iceberg
