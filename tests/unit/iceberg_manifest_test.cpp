// Iceberg manifests and manifest lists written as Avro and read back (manifest.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "storage/iceberg/avro_file.h"
#include "storage/iceberg/manifest.h"

namespace datalab::iceberg {
namespace {

TEST(IcebergManifest, EntriesReadBackThroughAvro) {
  ManifestEntry added;
  added.snapshot_id = 7;
  added.file_path = "s3://b/t/data/a.parquet";
  added.record_count = 10;
  added.file_size = 1234;
  added.columns = {{1, 100, 10, 0, std::string("\x01\0\0\0\0\0\0\0", 8), std::string("\x0a\0\0\0\0\0\0\0", 8)}};
  ManifestEntry deleted = added;
  deleted.status = EntryStatus::Deleted;
  deleted.sequence_number = 3;
  deleted.file_sequence_number = 2;
  deleted.file_path = "s3://b/t/data/b.parquet";
  deleted.columns.clear();
  const nlohmann::json schema = {{"type", "struct"}, {"schema-id", 0}, {"fields", nlohmann::json::array()}};
  const std::string bytes = write_manifest({added, deleted}, schema);

  const auto entries = read_manifest(bytes);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].status, EntryStatus::Added);
  EXPECT_EQ(entries[0].snapshot_id, 7);
  EXPECT_EQ(entries[0].sequence_number, std::nullopt);  // inherited from the manifest list
  EXPECT_EQ(entries[0].file_path, "s3://b/t/data/a.parquet");
  EXPECT_EQ(entries[0].file_format, "PARQUET");
  EXPECT_EQ(entries[0].record_count, 10);
  EXPECT_EQ(entries[0].file_size, 1234);
  EXPECT_EQ(entries[1].status, EntryStatus::Deleted);
  EXPECT_EQ(entries[1].sequence_number, 3);
  EXPECT_EQ(entries[1].file_sequence_number, 2);

  // The header carries what Iceberg readers require.
  const auto contents = read_avro_file(bytes, [](const AvroView&) {});
  EXPECT_EQ(contents.metadata.at("format-version"), "2");
  EXPECT_EQ(contents.metadata.at("content"), "data");
  EXPECT_EQ(contents.metadata.at("partition-spec"), "[]");
  EXPECT_EQ(nlohmann::json::parse(contents.metadata.at("schema")), schema);
}

TEST(IcebergManifest, ManifestListRoundTrip) {
  ManifestFile a;
  a.path = "s3://b/t/metadata/x-m0.avro";
  a.length = 500;
  a.sequence_number = 4;
  a.min_sequence_number = 4;
  a.added_snapshot_id = 9;
  a.added_files = 1;
  a.added_rows = 10;
  ManifestFile b = a;
  b.path = "s3://b/t/metadata/x-m1-0.avro";
  b.added_files = 0;
  b.added_rows = 0;
  b.deleted_files = 2;
  b.deleted_rows = 15;
  const std::string bytes = write_manifest_list({a, b}, 9, 8, 4);
  EXPECT_EQ(read_manifest_list(bytes), (std::vector<ManifestFile>{a, b}));
  const auto contents = read_avro_file(bytes, [](const AvroView&) {});
  EXPECT_EQ(contents.metadata.at("snapshot-id"), "9");
  EXPECT_EQ(contents.metadata.at("parent-snapshot-id"), "8");
  EXPECT_EQ(contents.metadata.at("sequence-number"), "4");
  EXPECT_EQ(read_avro_file(write_manifest_list({a}, 9, std::nullopt, 1), [](const AvroView&) {})
                .metadata.at("parent-snapshot-id"),
            "null");
}

}  // namespace
}  // namespace datalab::iceberg
