#include "formats/parquet_file.h"

#include <filesystem>

#include <arrow/util/decimal.h>
#include <gtest/gtest.h>

#include "datagen/library_generator.h"

using namespace datalab;

TEST(ParquetFile, RoundTripKeepsRowsAndTypes) {
  const LibraryGenerator generator({10, 1000, 10, 50}, 11, 20000);
  const auto path = (std::filesystem::temp_directory_path() / "datalab_roundtrip.parquet").string();
  auto writer = ParquetFileWriter::to_local_file(path, LibraryGenerator::books_schema());
  writer.write(*generator.books(0, 600));
  writer.write(*generator.books(600, 400));
  writer.close();

  const auto table = read_parquet_file(path);
  ASSERT_EQ(table->num_rows(), 1000);
  EXPECT_TRUE(table->schema()->Equals(*LibraryGenerator::books_schema()));
  auto expected = arrow::Table::FromRecordBatches({generator.books(0, 1000)});
  EXPECT_TRUE(table->Equals(**expected));
  std::filesystem::remove(path);
}

TEST(ParquetFile, DecimalsStayDecimal) {
  arrow::Decimal128Builder prices(arrow::decimal128(13, 2));
  ASSERT_TRUE(prices.Append(arrow::Decimal128(12345)).ok());
  ASSERT_TRUE(prices.AppendNull().ok());
  auto schema = arrow::schema({arrow::field("price", arrow::decimal128(13, 2))});
  auto batch = arrow::RecordBatch::Make(schema, 2, {*prices.Finish()});
  const auto path = (std::filesystem::temp_directory_path() / "datalab_decimal.parquet").string();
  auto writer = ParquetFileWriter::to_local_file(path, schema);
  writer.write(*batch);
  writer.close();
  const auto table = read_parquet_file(path);
  EXPECT_TRUE(table->schema()->field(0)->type()->Equals(arrow::decimal128(13, 2)));
  EXPECT_EQ(table->column(0)->GetScalar(0).ValueOrDie()->ToString(), "123.45");
  EXPECT_FALSE(table->column(0)->GetScalar(1).ValueOrDie()->is_valid);
  std::filesystem::remove(path);
}

TEST(ParquetFile, MissingFileIsAClearError) {
  EXPECT_THROW(read_parquet_file("/nonexistent/x.parquet"), std::exception);
}
