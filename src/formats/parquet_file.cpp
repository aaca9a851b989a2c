#include "formats/parquet_file.h"

#include <fmt/format.h>
#include <parquet/arrow/reader.h>
#include <parquet/properties.h>

#include "core/arrow_status.h"
#include "core/error.h"

namespace datalab {

namespace {
constexpr int64_t kReadBatchRows = 64 * 1024;
}

ParquetBatchReader::ParquetBatchReader(std::shared_ptr<arrow::io::RandomAccessFile> input, const std::string& name)
    : name_(name) {
  parquet::arrow::FileReaderBuilder builder;
  check_arrow<ConfigError>(builder.Open(std::move(input)), fmt::format("'{}' is not a Parquet file", name));
  parquet::ArrowReaderProperties properties;
  properties.set_batch_size(kReadBatchRows);
  // INT96 (old Spark/Hive) timestamps as microseconds, the unit every other end uses.
  properties.set_coerce_int96_timestamp_unit(arrow::TimeUnit::MICRO);
  builder.properties(properties);
  reader_ = unwrap_arrow<ConfigError>(builder.Build(), fmt::format("'{}' is not a readable Parquet file", name));
  batches_ = unwrap_arrow(reader_->GetRecordBatchReader(), fmt::format("cannot read '{}'", name));
}

ParquetBatchReader::~ParquetBatchReader() = default;

std::shared_ptr<arrow::Schema> ParquetBatchReader::schema() const { return batches_->schema(); }

std::shared_ptr<arrow::RecordBatch> ParquetBatchReader::next() {
  std::shared_ptr<arrow::RecordBatch> batch;
  check_arrow(batches_->ReadNext(&batch), fmt::format("cannot read '{}'", name_));
  return batch;
}

ParquetFileWriter::ParquetFileWriter(std::shared_ptr<arrow::io::OutputStream> sink,
                                     std::shared_ptr<arrow::Schema> schema, int64_t row_group_rows)
    : sink_(std::move(sink)) {
  parquet::WriterProperties::Builder builder;
  builder.compression(parquet::Compression::ZSTD);
  if (row_group_rows > 0) builder.max_row_group_length(row_group_rows);
  auto properties = builder.build();
  auto arrow_properties = parquet::ArrowWriterProperties::Builder().store_schema()->build();
  writer_ = unwrap_arrow(parquet::arrow::FileWriter::Open(*schema, arrow::default_memory_pool(), sink_,
                                                     properties, arrow_properties),
                   "cannot start Parquet writer");
}

ParquetFileWriter::~ParquetFileWriter() {
  if (sink_ && !closed_) (void)sink_->Abort();  // before writer_ goes: it may try to write its footer
}

ParquetFileWriter ParquetFileWriter::to_local_file(const std::string& path,
                                                   std::shared_ptr<arrow::Schema> schema) {
  auto sink = unwrap_arrow(arrow::io::FileOutputStream::Open(path), fmt::format("cannot create '{}'", path));
  return ParquetFileWriter(std::move(sink), std::move(schema));
}

void ParquetFileWriter::write(const arrow::RecordBatch& batch) {
  check_arrow(writer_->WriteRecordBatch(batch), "cannot write Parquet row group");
}

void ParquetFileWriter::close() {
  check_arrow(writer_->Close(), "cannot finish Parquet file");
  check_arrow(sink_->Close(), "cannot close Parquet output");
  closed_ = true;
}

std::shared_ptr<arrow::Table> read_parquet_file(const std::string& path) {
  auto input = unwrap_arrow(arrow::io::ReadableFile::Open(path), fmt::format("cannot open '{}'", path));
  auto reader = unwrap_arrow(parquet::arrow::OpenFile(input, arrow::default_memory_pool()),
                       fmt::format("'{}' is not a Parquet file", path));
  return unwrap_arrow(reader->ReadTable(), fmt::format("cannot read '{}'", path));
}

}  // namespace datalab
