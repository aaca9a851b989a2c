#include "formats/parquet_file.h"

#include <fmt/format.h>
#include <parquet/arrow/reader.h>

#include "core/arrow_status.h"
#include "core/error.h"

namespace datalab {

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
