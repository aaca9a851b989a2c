// IcebergTable commits against a local-directory store and an in-memory catalog (no
// services): a commit that gives up or fails leaves no file behind, its data files included.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "core/error.h"
#include "storage/iceberg/iceberg_table.h"
#include "storage/iceberg/manifest.h"

namespace datalab::iceberg {
namespace {

// A catalog in memory; `lose` makes every compare-and-swap fail as if another writer had
// won, `fail` makes it throw as a lost connection would.
class MemoryCatalog final : public Catalog {
 public:
  bool lose = false, fail = false;
  std::map<std::string, std::string> tables;
  void ensure_namespace(const std::string&) override {}
  std::optional<std::string> metadata_location(const std::string& ns, const std::string& table) override {
    const auto it = tables.find(ns + "." + table);
    if (it == tables.end()) return std::nullopt;
    return it->second;
  }
  bool create_table(const std::string& ns, const std::string& table, const std::string& location) override {
    if (fail) throw ServiceError("catalog unreachable");
    if (lose) return false;
    return tables.emplace(ns + "." + table, location).second;
  }
  bool swap_metadata(const std::string& ns, const std::string& table, const std::string& expected,
                     const std::string& location) override {
    if (fail) throw ServiceError("catalog unreachable");
    auto& current = tables.at(ns + "." + table);
    if (lose || current != expected) return false;
    current = location;
    return true;
  }
};

class IcebergTableCommit : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device device;
    dir_ = std::filesystem::temp_directory_path() / fmt::format("datalab-iceberg-unit-{:08x}", device());
    ObjectStoreSettings settings;
    settings.local_root = dir_.string();
    store_ = std::make_unique<ObjectStore>(settings, "bucket");
    store_->ensure_bucket();
    table_ = std::make_unique<IcebergTable>(*store_, catalog_, "main", "t", "wh/main/t");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  DataFile data_file(int64_t records) {
    const auto key = table_->new_data_file_key();
    store_->write_bytes(key, "not really parquet");
    return {key, records, store_->size(key), {}};
  }
  // Every regular file under the table's folder.
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    const auto root = dir_ / "bucket" / "wh";
    if (!std::filesystem::exists(root)) return out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (e.is_regular_file()) out.push_back(e.path().string());
    }
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<ObjectStore> store_;
  MemoryCatalog catalog_;
  std::unique_ptr<IcebergTable> table_;
  const arrow::Schema schema_{{arrow::field("id", arrow::int64())}};
};

TEST_F(IcebergTableCommit, AppendThenOverwrite) {
  const auto first = table_->commit(schema_, {data_file(10)}, WriteMode::Append);
  EXPECT_TRUE(first.created_table);
  const auto second = table_->commit(schema_, {data_file(5)}, WriteMode::Overwrite);
  EXPECT_EQ(second.sequence_number, 2);
  EXPECT_EQ(second.total_records, 5);
  EXPECT_EQ(catalog_.tables.at("main.t"), second.metadata_location);
  const auto list = read_manifest_list(store_->read_bytes(store_->key_of(second.manifest_list)));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].deleted_files, 1);
  EXPECT_EQ(list[1].min_sequence_number, 2);
  const auto deleted = read_manifest(store_->read_bytes(store_->key_of(list[1].path)));
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].status, EntryStatus::Deleted);
  EXPECT_EQ(deleted[0].sequence_number, 1);
}

TEST_F(IcebergTableCommit, ACommitThatGivesUpLeavesNoFileBehind) {
  table_->commit(schema_, {data_file(10)}, WriteMode::Append);
  const auto before = files();
  ASSERT_FALSE(before.empty());
  catalog_.lose = true;
  const auto lost = data_file(5);
  ASSERT_TRUE(store_->exists(lost.key));
  try {
    table_->commit(schema_, {lost}, WriteMode::Overwrite);
    FAIL() << "the commit succeeded";
  } catch (const ServiceError& e) {
    EXPECT_NE(std::string(e.what()).find("gave up after 5"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(store_->exists(lost.key));
  EXPECT_EQ(files(), before);  // no data file, manifest, manifest list or metadata left
}

TEST_F(IcebergTableCommit, ACommitThatFailsLeavesNoFileBehind) {
  catalog_.fail = true;
  const auto file = data_file(3);
  EXPECT_THROW(table_->commit(schema_, {file}, WriteMode::Append), ServiceError);
  EXPECT_FALSE(store_->exists(file.key));
  EXPECT_TRUE(files().empty());
  EXPECT_TRUE(catalog_.tables.empty());
}

TEST_F(IcebergTableCommit, AScanListsTheCurrentSnapshotsLiveFiles) {
  EXPECT_THROW(table_->scan(), ConfigError);  // no such table
  const auto a = data_file(10), b = data_file(5), c = data_file(7);
  table_->commit(schema_, {a}, WriteMode::Append);
  table_->commit(schema_, {b}, WriteMode::Append);
  auto scan = table_->scan();
  ASSERT_EQ(scan.files.size(), 2u);
  std::vector<std::string> keys{scan.files[0].key, scan.files[1].key};
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> expected{a.key, b.key};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys, expected);
  EXPECT_TRUE(scan.schema->Equals(arrow::Schema({arrow::field("id", arrow::int64())})));
  // An overwrite leaves only its own file live (the others are DELETED entries).
  table_->commit(schema_, {c}, WriteMode::Overwrite);
  scan = table_->scan();
  ASSERT_EQ(scan.files.size(), 1u);
  EXPECT_EQ(scan.files[0].key, c.key);
  EXPECT_EQ(scan.files[0].record_count, 7);
}

TEST_F(IcebergTableCommit, ASummaryPropertyIsFoundAlongTheSnapshotHistory) {
  EXPECT_EQ(table_->summary_property("w"), std::nullopt);
  table_->commit(schema_, {data_file(1)}, WriteMode::Append, {{"w", "1"}});
  table_->commit(schema_, {data_file(1)}, WriteMode::Append);  // another writer, no property
  EXPECT_EQ(table_->summary_property("w"), "1");
  table_->commit(schema_, {data_file(1)}, WriteMode::Append, {{"w", "2"}});
  EXPECT_EQ(table_->summary_property("w"), "2");
  EXPECT_EQ(table_->summary_property("other"), std::nullopt);
}

TEST(IcebergTypes, ArrowTypesOfIcebergTypes) {
  using nlohmann::json;
  EXPECT_TRUE(arrow_type_of_iceberg(json("decimal(13, 2)"), "c")->Equals(*arrow::decimal128(13, 2)));
  EXPECT_TRUE(arrow_type_of_iceberg(json("timestamptz"), "c")->Equals(*arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")));
  EXPECT_TRUE(arrow_type_of_iceberg(json("long"), "c")->Equals(*arrow::int64()));
  // Every type datalab writes reads back as itself.
  for (const auto& type : {arrow::boolean(), arrow::int32(), arrow::int64(), arrow::float32(), arrow::float64(),
                           arrow::utf8(), arrow::binary(), arrow::date32(), arrow::decimal128(38, 10),
                           arrow::timestamp(arrow::TimeUnit::MICRO), arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")}) {
    EXPECT_TRUE(arrow_type_of_iceberg(json(iceberg_type_name(*type)), "c")->Equals(*type)) << type->ToString();
  }
  try {
    arrow_type_of_iceberg(json{{"type", "list"}, {"element", "int"}}, "tags");
    FAIL() << "a nested type was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("column 'tags'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace datalab::iceberg
