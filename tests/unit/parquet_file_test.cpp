#include "formats/parquet_file.h"

#include <algorithm>
#include <filesystem>

#include <arrow/util/decimal.h>
#include <gtest/gtest.h>
#include <parquet/metadata.h>

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

// Ids and amounts that mostly differ go without a dictionary; a status of a few values keeps
// one; every value reads back either way, and a file with no rows is still a valid file.
TEST(ParquetFile, ColumnsOfMostlyDistinctValuesAreWrittenWithoutADictionary) {
  arrow::Int64Builder ids;
  arrow::StringBuilder statuses, notes;
  for (int64_t i = 0; i < 5000; ++i) {
    ASSERT_TRUE(ids.Append(i * 7).ok());
    ASSERT_TRUE(statuses.Append(i % 3 == 0 ? "new" : "paid").ok());
    ASSERT_TRUE((i % 10 == 0 ? notes.AppendNull() : notes.Append("note " + std::to_string(i))).ok());
  }
  auto schema = arrow::schema({arrow::field("id", arrow::int64()), arrow::field("status", arrow::utf8()),
                               arrow::field("note", arrow::utf8())});
  auto batch = arrow::RecordBatch::Make(schema, 5000, {*ids.Finish(), *statuses.Finish(), *notes.Finish()});
  const auto path = (std::filesystem::temp_directory_path() / "datalab_encodings.parquet").string();
  auto writer = ParquetFileWriter::to_local_file(path, schema);
  writer.write(*batch);
  writer.write(*batch);
  writer.close();

  const auto row_group = writer.metadata()->RowGroup(0);
  const auto has_dictionary = [&](int column) {
    const auto encodings = row_group->ColumnChunk(column)->encodings();
    return std::find(encodings.begin(), encodings.end(), parquet::Encoding::RLE_DICTIONARY) != encodings.end();
  };
  EXPECT_FALSE(has_dictionary(0));
  EXPECT_TRUE(has_dictionary(1));
  EXPECT_FALSE(has_dictionary(2));
  const auto table = read_parquet_file(path);
  auto expected = arrow::Table::FromRecordBatches({batch, batch});
  EXPECT_TRUE(table->Equals(**expected));

  auto empty = ParquetFileWriter::to_local_file(path, schema);
  empty.close();
  EXPECT_EQ(read_parquet_file(path)->num_rows(), 0);
  EXPECT_TRUE(read_parquet_file(path)->schema()->Equals(*schema));
  std::filesystem::remove(path);
}

TEST(ParquetFile, FooterPropertiesAddedAfterTheRowsAreReadBack) {
  const LibraryGenerator generator({10, 100, 10, 50}, 3, 200);
  const auto path = (std::filesystem::temp_directory_path() / "datalab_footer.parquet").string();
  auto writer = ParquetFileWriter::to_local_file(path, LibraryGenerator::books_schema());
  writer.write(*generator.books(0, 100));
  writer.add_footer_property("datalab.watermark src", R"({"run": 3})");
  writer.close();
  auto open = [&] { return *arrow::io::ReadableFile::Open(path); };
  EXPECT_EQ(parquet_footer_property(open(), "datalab.watermark src", path), R"({"run": 3})");
  EXPECT_EQ(parquet_footer_property(open(), "datalab.watermark other", path), std::nullopt);
  EXPECT_EQ(read_parquet_file(path)->num_rows(), 100);  // the rows are untouched
  std::filesystem::remove(path);
}
