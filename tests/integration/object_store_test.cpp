// ObjectStore on the real S3 server (SeaweedFS) and on a local directory: the same tests
// through the same interface.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>

#include <arrow/api.h>
#include <fmt/format.h>

#include "core/error.h"
#include "formats/parquet_file.h"
#include "integration/object_store_settings.h"
#include "storage/objectstore/object_store.h"

namespace datalab {
namespace {

std::string unique_name(const std::string& prefix) {
  std::random_device device;
  return fmt::format("{}-{:08x}", prefix, device());
}

std::shared_ptr<arrow::Table> small_table() {
  arrow::Int64Builder ids;
  arrow::Decimal128Builder prices(arrow::decimal128(13, 2));
  for (int i = 1; i <= 100; ++i) {
    EXPECT_TRUE(ids.Append(i).ok());
    EXPECT_TRUE(prices.Append(arrow::Decimal128(i * 101)).ok());
  }
  auto schema = arrow::schema({arrow::field("id", arrow::int64()), arrow::field("price", arrow::decimal128(13, 2))});
  return arrow::Table::Make(schema, {*ids.Finish(), *prices.Finish()});
}

class ObjectStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "s3") {
      auto s3 = test_support::s3_test_settings();
      if (!s3) GTEST_SKIP() << "no S3 server configured: run services/ctl start seaweedfs";
      settings_ = *s3;
    } else {
      local_dir_ = std::filesystem::temp_directory_path() / unique_name("datalab-objectstore");
      settings_.local_root = local_dir_.string();
    }
  }
  void TearDown() override {
    if (!local_dir_.empty()) std::filesystem::remove_all(local_dir_);
  }
  ObjectStoreSettings settings_;
  std::filesystem::path local_dir_;
};

TEST_P(ObjectStoreTest, CreatesBucketOnceWritesListsReadsAndMoves) {
  ObjectStore store(settings_, unique_name("datalab-test"));
  EXPECT_THROW(store.require_bucket(), ServiceError);
  EXPECT_TRUE(store.ensure_bucket());
  EXPECT_FALSE(store.ensure_bucket());
  store.require_bucket();

  const auto table = small_table();
  {
    ParquetFileWriter writer(store.open_output("incoming/products.parquet"), table->schema());
    auto batch = table->CombineChunksToBatch().ValueOrDie();
    writer.write(*batch);
    writer.close();
  }
  store.write_bytes("incoming/notes.txt", "hello");
  store.write_bytes("other/x.txt", "x");

  const auto listed = store.list("incoming/");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].key, "incoming/notes.txt");
  EXPECT_EQ(listed[1].key, "incoming/products.parquet");
  EXPECT_GT(listed[1].size, 0);
  EXPECT_EQ(store.list("incoming/prod").size(), 1u);
  EXPECT_EQ(store.list("").size(), 3u);
  EXPECT_EQ(store.read_bytes("incoming/notes.txt"), "hello");

  const auto read = store.read_parquet("incoming/products.parquet");
  EXPECT_TRUE(read->Equals(*table)) << read->ToString();

  const std::string moved = "processed/2025/products.parquet";  // a folder that does not exist yet
  store.move("incoming/products.parquet", moved);
  EXPECT_FALSE(store.exists("incoming/products.parquet"));
  EXPECT_TRUE(store.exists(moved));
  EXPECT_TRUE(store.read_parquet(moved)->Equals(*table));
  EXPECT_THROW(store.move("incoming/missing.parquet", "processed/missing.parquet"), Error);

  EXPECT_EQ(store.key_of(store.uri("a/b.json")), "a/b.json");
  for (const auto& o : store.list("")) store.remove(o.key);
  EXPECT_TRUE(store.list("").empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, ObjectStoreTest, ::testing::Values("local", "s3"));

TEST(ObjectStoreS3Errors, WrongCredentialsAreNamedWithoutTheSecret) {
  auto s3 = test_support::s3_test_settings();
  if (!s3) GTEST_SKIP() << "no S3 server configured";
  s3->secret_key = "not-the-secret-7f3a";
  ObjectStore store(*s3, "s3-bucket");
  try {
    store.ensure_bucket();
    FAIL() << "wrong credentials were accepted";
  } catch (const ServiceError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("refused the credentials"), std::string::npos) << message;
    EXPECT_EQ(message.find("not-the-secret-7f3a"), std::string::npos) << message;
  }
}

TEST(ObjectStoreS3Errors, UnreachableEndpointIsNamed) {
  ObjectStoreSettings settings;
  settings.endpoint = "http://127.0.0.1:9";  // discard port: nothing listens
  settings.access_key = "datalab";
  settings.secret_key = "secret-value-9c1d";
  settings.connect_timeout_seconds = 1;
  settings.max_attempts = 1;
  ObjectStore store(settings, "s3-bucket");
  try {
    store.ensure_bucket();
    FAIL() << "an unreachable endpoint answered";
  } catch (const ServiceError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("does not answer"), std::string::npos) << message;
    EXPECT_EQ(message.find("secret-value-9c1d"), std::string::npos) << message;
  }
}

TEST(ObjectStoreS3Errors, EndpointWithoutKeysIsAConfigError) {
  ObjectStoreSettings settings;
  settings.endpoint = "http://127.0.0.1:10456";
  EXPECT_THROW(ObjectStore(settings, "s3-bucket"), ConfigError);
  settings.access_key = "a";
  settings.secret_key = "b";
  settings.endpoint = "ftp://nowhere";
  EXPECT_THROW(ObjectStore(settings, "s3-bucket"), ConfigError);
}

}  // namespace
}  // namespace datalab
