// Iceberg pieces against the real PostgreSQL (catalog) and a local-directory object store:
// Avro round trip, compare-and-swap commits, append/overwrite snapshots; and the COPY
// binary reader's decoding of numeric and timestamp values.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/parquet_file.h"
#include "integration/test_database.h"
#include "storage/iceberg/avro_file.h"
#include "storage/iceberg/iceberg_table.h"
#include "storage/iceberg/sql_catalog.h"

namespace datalab {
namespace {

std::string unique_name(const std::string& prefix) {
  std::random_device device;
  return fmt::format("{}-{:08x}", prefix, device());
}

TEST(IcebergAvro, WritesAndReadsBackRecordsAndMetadata) {
  iceberg::AvroFileWriter writer(
      R"({"type":"record","name":"r","fields":[{"name":"path","type":"string","field-id":1},)"
      R"({"name":"n","type":["null","long"],"default":null,"field-id":2}]})",
      {{"format-version", "2"}});
  writer.append([](iceberg::AvroRecord& r) {
    r.set_string("path", "s3://b/x.avro");
    r.set_optional_long("n", 42);
  });
  writer.append([](iceberg::AvroRecord& r) {
    r.set_string("path", "second");
    r.set_optional_long("n", std::nullopt);
  });
  const std::string bytes = writer.finish();
  std::vector<std::pair<std::string, std::optional<int64_t>>> seen;
  const auto contents = iceberg::read_avro_file(bytes, [&](const iceberg::AvroView& v) {
    seen.emplace_back(v.get_string("path"), v.get_optional_long("n"));
  });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, "s3://b/x.avro");
  EXPECT_EQ(seen[0].second, 42);
  EXPECT_EQ(seen[1].second, std::nullopt);
  EXPECT_EQ(contents.metadata.at("format-version"), "2");
  EXPECT_NE(contents.metadata.at("avro.schema").find("field-id"), std::string::npos);
}

TEST(IcebergTypes, ArrowTypesMapToIcebergNames) {
  EXPECT_EQ(iceberg::iceberg_type_name(*arrow::decimal128(13, 2)), "decimal(13, 2)");
  EXPECT_EQ(iceberg::iceberg_type_name(*arrow::timestamp(arrow::TimeUnit::MICRO)), "timestamp");
  EXPECT_EQ(iceberg::iceberg_type_name(*arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")), "timestamptz");
  EXPECT_EQ(iceberg::iceberg_type_name(*arrow::int64()), "long");
  EXPECT_THROW(iceberg::iceberg_type_name(*arrow::timestamp(arrow::TimeUnit::NANO)), Error);
}

class IcebergCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<PgConnection>(test_support::test_postgres_settings());
    dir_ = std::filesystem::temp_directory_path() / unique_name("datalab-iceberg");
    ObjectStoreSettings settings;
    settings.local_root = dir_.string();
    store_ = std::make_unique<ObjectStore>(settings, "bucket");
    store_->ensure_bucket();
    catalog_ = std::make_unique<iceberg::SqlCatalog>(*db_, unique_name("test-catalog"));
    catalog_->ensure_tables();
  }
  void TearDown() override {
    if (db_) db_->exec("DELETE FROM iceberg_tables WHERE catalog_name = $1", {catalog_->name()});
    if (db_) db_->exec("DELETE FROM iceberg_namespace_properties WHERE catalog_name = $1", {catalog_->name()});
    std::filesystem::remove_all(dir_);
  }

  iceberg::DataFile write_data(iceberg::IcebergTable& table, const std::shared_ptr<arrow::Schema>& schema, int rows) {
    arrow::Int64Builder ids;
    for (int i = 0; i < rows; ++i) EXPECT_TRUE(ids.Append(i).ok());
    auto batch = arrow::RecordBatch::Make(schema, rows, {*ids.Finish()});
    const auto key = table.new_data_file_key();
    ParquetFileWriter writer(store_->open_output(key), schema);
    writer.write(*batch);
    writer.close();
    return {key, rows, store_->size(key)};
  }

  std::unique_ptr<PgConnection> db_;
  std::filesystem::path dir_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<iceberg::SqlCatalog> catalog_;
};

TEST_F(IcebergCatalogTest, SwapIsCompareAndSwap) {
  ASSERT_TRUE(catalog_->create_table("main", "t", "file:///m0.json"));
  EXPECT_FALSE(catalog_->create_table("main", "t", "file:///other.json"));
  EXPECT_TRUE(catalog_->swap_metadata("main", "t", "file:///m0.json", "file:///m1.json"));
  // A writer that still saw m0 loses: the pointer is not moved.
  EXPECT_FALSE(catalog_->swap_metadata("main", "t", "file:///m0.json", "file:///m2.json"));
  EXPECT_EQ(catalog_->metadata_location("main", "t"), "file:///m1.json");
  EXPECT_EQ(catalog_->metadata_location("main", "missing"), std::nullopt);
}

TEST_F(IcebergCatalogTest, AppendsSnapshotsAndOverwriteReplacesFiles) {
  const auto schema = iceberg::with_field_ids(arrow::Schema({arrow::field("id", arrow::int64())}));
  iceberg::IcebergTable table(*store_, *catalog_, "main", "numbers", "wh/main/numbers");
  const auto first = table.commit(*schema, {write_data(table, schema, 10)}, iceberg::WriteMode::Append);
  EXPECT_TRUE(first.created_table);
  EXPECT_EQ(first.snapshot_count, 1);
  const auto second = table.commit(*schema, {write_data(table, schema, 5)}, iceberg::WriteMode::Append);
  EXPECT_FALSE(second.created_table);
  EXPECT_EQ(second.snapshot_count, 2);
  EXPECT_EQ(second.total_records, 15);
  EXPECT_EQ(second.sequence_number, 2);
  EXPECT_EQ(second.previous_metadata_location, first.metadata_location);

  // The second manifest list carries both manifests.
  int manifests = 0;
  iceberg::read_avro_file(store_->read_bytes(store_->key_of(second.manifest_list)),
                          [&](const iceberg::AvroView&) { ++manifests; });
  EXPECT_EQ(manifests, 2);

  const auto third = table.commit(*schema, {write_data(table, schema, 7)}, iceberg::WriteMode::Overwrite);
  EXPECT_EQ(third.snapshot_count, 3);
  EXPECT_EQ(third.total_records, 7);
  const auto metadata = nlohmann::json::parse(store_->read_bytes(store_->key_of(third.metadata_location)));
  EXPECT_EQ(metadata["current-snapshot-id"], third.snapshot_id);
  EXPECT_EQ(metadata["snapshots"][2]["summary"]["operation"], "overwrite");
  // The overwrite lists its new manifest and one of DELETED entries only; that one's minimum
  // sequence number counts live entries (there are none), so it is its own, not the old files'.
  std::vector<std::pair<int64_t, int64_t>> sequences;  // (sequence, min sequence) per manifest
  iceberg::read_avro_file(store_->read_bytes(store_->key_of(third.manifest_list)), [&](const iceberg::AvroView& m) {
    sequences.emplace_back(m.get_long("sequence_number"), m.get_long("min_sequence_number"));
  });
  EXPECT_EQ(sequences, (std::vector<std::pair<int64_t, int64_t>>{{3, 3}, {3, 3}}));
  EXPECT_EQ(metadata["snapshots"][2]["summary"]["deleted-records"], "15");
  EXPECT_EQ(metadata["metadata-log"].size(), 2u);

  // Another schema is refused rather than silently mixed in.
  const auto other = arrow::Schema({arrow::field("name", arrow::utf8())});
  EXPECT_THROW(table.check_schema(other), Error);
}


}  // namespace
}  // namespace datalab
