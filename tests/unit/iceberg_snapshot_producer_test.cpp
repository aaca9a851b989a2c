// The snapshot producer's arithmetic: sequence numbers, manifest lists and summaries for
// append and overwrite (snapshot_producer.h), without any store or catalog.
#include <gtest/gtest.h>

#include "storage/iceberg/snapshot_producer.h"

namespace datalab::iceberg {
namespace {

ManifestEntry added_file(const std::string& path, int64_t records, int64_t size) {
  ManifestEntry e;
  e.file_path = path;
  e.record_count = records;
  e.file_size = size;
  return e;
}

// A table after one append of 2 files (15 records, 300 bytes) at sequence number 1.
TableMetadata one_snapshot() {
  auto m = TableMetadata::create("u", "s3://b/t", Schema{}, 1, 100);
  SnapshotProducer first(WriteMode::Append, 11, m);
  const std::vector<ManifestEntry> files{added_file("a", 10, 200), added_file("b", 5, 100)};
  return first.apply("s3://b/t/metadata/snap-11.avro", first.summary(files), 200, std::nullopt);
}

TEST(IcebergSnapshotProducer, FirstAppendStartsTheTotals) {
  const auto m = TableMetadata::create("u", "s3://b/t", Schema{}, 1, 100);
  SnapshotProducer p(WriteMode::Append, 11, m);
  EXPECT_EQ(p.sequence_number(), 1);
  EXPECT_EQ(p.parent_id(), std::nullopt);
  EXPECT_TRUE(p.parent_manifest_list().empty());
  const auto summary = p.summary({added_file("a", 10, 200), added_file("b", 5, 100)});
  EXPECT_EQ(summary.at("operation"), "append");
  EXPECT_EQ(summary.at("added-data-files"), "2");
  EXPECT_EQ(summary.at("added-records"), "15");
  EXPECT_EQ(summary.at("added-files-size"), "300");
  EXPECT_EQ(summary.at("total-data-files"), "2");
  EXPECT_EQ(summary.at("total-records"), "15");
  EXPECT_EQ(summary.at("total-files-size"), "300");
  EXPECT_EQ(summary.count("deleted-records"), 0u);

  const auto after = one_snapshot();
  EXPECT_EQ(after.current_snapshot_id, 11);
  EXPECT_EQ(after.last_sequence_number, 1);
  EXPECT_EQ(after.last_updated_ms, 200);
  EXPECT_EQ(after.refs.at("main").snapshot_id, 11);
  ASSERT_EQ(after.snapshot_log.size(), 1u);
  EXPECT_TRUE(after.metadata_log.empty());
  EXPECT_EQ(after.snapshots[0].parent_snapshot_id, std::nullopt);
}

TEST(IcebergSnapshotProducer, AppendAddsToTheParentsTotalsAndKeepsItsManifests) {
  const auto base = one_snapshot();
  SnapshotProducer p(WriteMode::Append, 12, base);
  EXPECT_EQ(p.sequence_number(), 2);
  EXPECT_EQ(p.parent_id(), 11);
  EXPECT_EQ(p.parent_manifest_list(), "s3://b/t/metadata/snap-11.avro");
  EXPECT_FALSE(p.replaces_files());
  const std::vector<ManifestEntry> files{added_file("c", 7, 70)};
  const auto summary = p.summary(files);
  EXPECT_EQ(summary.at("total-data-files"), "3");
  EXPECT_EQ(summary.at("total-records"), "22");
  EXPECT_EQ(summary.at("total-files-size"), "370");

  ManifestFile parent;
  parent.path = "m-old";
  parent.sequence_number = parent.min_sequence_number = 1;
  const auto added = p.added_manifest("m-new", 99, files);
  EXPECT_EQ(added.sequence_number, 2);
  EXPECT_EQ(added.min_sequence_number, 2);
  EXPECT_EQ(added.added_files, 1);
  EXPECT_EQ(added.added_rows, 7);
  EXPECT_EQ(added.added_snapshot_id, 12);
  const auto list = p.manifest_list(added, std::nullopt, {parent});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].path, "m-new");
  EXPECT_EQ(list[1].path, "m-old");

  const auto after = p.apply("snap-12", summary, 300, std::string("s3://b/t/metadata/00000-x.metadata.json"));
  EXPECT_EQ(after.snapshots.back().parent_snapshot_id, 11);
  ASSERT_EQ(after.metadata_log.size(), 1u);
  EXPECT_EQ(after.metadata_log[0].timestamp_ms, 200);  // when the previous metadata was written
}

TEST(IcebergSnapshotProducer, OverwriteCountsTheParentAsDeleted) {
  const auto base = one_snapshot();
  SnapshotProducer p(WriteMode::Overwrite, 13, base);
  EXPECT_TRUE(p.replaces_files());
  const auto summary = p.summary({added_file("c", 7, 70)});
  EXPECT_EQ(summary.at("operation"), "overwrite");
  EXPECT_EQ(summary.at("total-data-files"), "1");
  EXPECT_EQ(summary.at("total-records"), "7");
  EXPECT_EQ(summary.at("total-files-size"), "70");
  EXPECT_EQ(summary.at("deleted-data-files"), "2");
  EXPECT_EQ(summary.at("deleted-records"), "15");
  EXPECT_EQ(summary.at("removed-files-size"), "300");
}

TEST(IcebergSnapshotProducer, DeletedEntriesKeepTheirSequenceNumbersButTheManifestMinimumIsItsOwn) {
  const auto base = one_snapshot();
  SnapshotProducer p(WriteMode::Overwrite, 13, base);
  ManifestFile parent;
  parent.path = "m-old";
  parent.sequence_number = 1;
  ManifestEntry inherited = added_file("a", 10, 200);  // ADDED: inherits 1
  ManifestEntry explicit_seq = added_file("b", 5, 100);
  explicit_seq.status = EntryStatus::Existing;
  explicit_seq.sequence_number = 0;
  explicit_seq.file_sequence_number = 0;
  ManifestEntry gone = added_file("z", 1, 1);
  gone.status = EntryStatus::Deleted;
  const auto deleted = p.deleted_entries(parent, {inherited, explicit_seq, gone});
  ASSERT_EQ(deleted.size(), 2u);
  EXPECT_EQ(deleted[0].status, EntryStatus::Deleted);
  EXPECT_EQ(deleted[0].snapshot_id, 13);
  EXPECT_EQ(deleted[0].sequence_number, 1);
  EXPECT_EQ(deleted[0].file_sequence_number, 1);
  EXPECT_EQ(deleted[1].sequence_number, 0);

  const auto m = p.deleted_manifest("m-del", 50, deleted);
  EXPECT_EQ(m.sequence_number, 2);
  // The minimum counts live entries only: there are none, so it is the manifest's own,
  // not the deleted files' 0 or 1.
  EXPECT_EQ(m.min_sequence_number, 2);
  EXPECT_EQ(m.deleted_files, 2);
  EXPECT_EQ(m.deleted_rows, 15);
  EXPECT_EQ(m.added_files, 0);

  // An overwrite does not keep the parent's manifests: new files, then the DELETED ones.
  const auto added = p.added_manifest("m-new", 10, {added_file("c", 7, 70)});
  const auto list = p.manifest_list(added, m, {parent});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].path, "m-new");
  EXPECT_EQ(list[1].path, "m-del");
  // A delete manifest of the parent is not read for data files.
  ManifestFile deletes = parent;
  deletes.content = 1;
  EXPECT_TRUE(p.deleted_entries(deletes, {inherited}).empty());
}

}  // namespace
}  // namespace datalab::iceberg
