#pragma once
// Parquet files on any Arrow filesystem path, written batch by batch (bounded memory).
#include <memory>
#include <optional>
#include <string>

#include <arrow/api.h>
#include <arrow/io/api.h>
#include <parquet/arrow/writer.h>

namespace parquet::arrow {
class FileReader;
}

namespace datalab {

class ParquetFileWriter {
 public:
  // `row_group_rows`: rows per row group (0: Arrow's default, about a million); smaller groups
  // let readers such as Spark split one file across tasks.
  ParquetFileWriter(std::shared_ptr<arrow::io::OutputStream> sink,
                    std::shared_ptr<arrow::Schema> schema, int64_t row_group_rows = 0);
  // A writer dropped before close() (an error, a stop) aborts its sink: an S3 multipart upload
  // is aborted instead of being completed as a truncated object.
  ~ParquetFileWriter();
  ParquetFileWriter(ParquetFileWriter&&) = default;
  // Opens a local file for writing.
  static ParquetFileWriter to_local_file(const std::string& path, std::shared_ptr<arrow::Schema> schema);
  // The first batch also decides the encodings: a column whose values mostly differ from one
  // another in it (ids, timestamps, amounts) is written without a dictionary, which Parquet
  // would otherwise build for every row group and abandon once it outgrows its page.
  void write(const arrow::RecordBatch& batch);
  // A key-value pair of the file's footer metadata, written at close() (it may be known only
  // once every row is written).
  void add_footer_property(const std::string& key, const std::string& value);
  void close();
  // The footer of the written file (after close): row groups and column statistics.
  std::shared_ptr<parquet::FileMetaData> metadata() const { return writer_->metadata(); }

 private:
  void open(const arrow::RecordBatch* first);

  std::shared_ptr<arrow::io::OutputStream> sink_;
  std::shared_ptr<arrow::Schema> schema_;
  int64_t row_group_rows_ = 0;
  std::unique_ptr<parquet::arrow::FileWriter> writer_;
  std::shared_ptr<arrow::KeyValueMetadata> footer_properties_;
  bool closed_ = false;
};

// One key-value pair of a Parquet file's footer metadata (nullopt when it has none of that
// key); reads the footer only. `name` appears in the error of a file that is not Parquet.
std::optional<std::string> parquet_footer_property(std::shared_ptr<arrow::io::RandomAccessFile> file,
                                                   const std::string& key, const std::string& name);

// A Parquet file read batch by batch, row group after row group: memory stays bounded by one
// row group whatever the file's size. `name` appears in every error; a file that is not
// Parquet is a ConfigError (bad input, not a failing service).
class ParquetBatchReader {
 public:
  ParquetBatchReader(std::shared_ptr<arrow::io::RandomAccessFile> input, const std::string& name);
  ~ParquetBatchReader();
  std::shared_ptr<arrow::Schema> schema() const;
  std::shared_ptr<arrow::RecordBatch> next();  // nullptr after the last one

 private:
  std::string name_;
  std::unique_ptr<parquet::arrow::FileReader> reader_;
  std::unique_ptr<arrow::RecordBatchReader> batches_;
};

// Reads a whole local Parquet file (for small files and tests).
std::shared_ptr<arrow::Table> read_parquet_file(const std::string& path);

}  // namespace datalab
