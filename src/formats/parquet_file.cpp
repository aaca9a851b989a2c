#include "formats/parquet_file.h"

#include <functional>
#include <string_view>
#include <unordered_set>

#include <fmt/format.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/file_reader.h>
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
    : sink_(std::move(sink)), schema_(std::move(schema)), row_group_rows_(row_group_rows) {
  // The writer opens at the first batch; a schema Parquet cannot hold fails here already.
  std::shared_ptr<parquet::SchemaDescriptor> parquet_schema;
  check_arrow(parquet::arrow::ToParquetSchema(schema_.get(), *parquet::default_writer_properties(),
                                              *parquet::default_arrow_writer_properties(), &parquet_schema),
              "cannot start Parquet writer");
}

namespace {

// Whether more than half of a column's non-null values in `sample` differ from one another,
// so a dictionary would not pay for itself. Fixed-width values and strings are compared as
// bytes; booleans and nested types keep Parquet's default. Too small a sample says nothing.
bool mostly_distinct(const arrow::Array& sample) {
  constexpr int64_t kMinimumSample = 1024;
  const int64_t values = sample.length() - sample.null_count();
  if (values < kMinimumSample) return false;
  const auto view = [&]() -> std::function<std::string_view(int64_t)> {
    if (const auto* binary = dynamic_cast<const arrow::BinaryArray*>(&sample)) {
      return [binary](int64_t i) { return binary->GetView(i); };
    }
    if (const auto* large = dynamic_cast<const arrow::LargeBinaryArray*>(&sample)) {
      return [large](int64_t i) { return large->GetView(i); };
    }
    const auto* fixed = dynamic_cast<const arrow::FixedWidthType*>(sample.type().get());
    if (!fixed || fixed->bit_width() % 8 != 0 || sample.type()->id() == arrow::Type::BOOL) return nullptr;
    const int width = fixed->bit_width() / 8;
    const auto* data = sample.data()->GetValues<char>(1, 0) + sample.offset() * width;
    return [data, width](int64_t i) { return std::string_view(data + i * width, static_cast<size_t>(width)); };
  }();
  if (!view) return false;
  std::unordered_set<std::string_view> seen;
  seen.reserve(static_cast<size_t>(values));
  for (int64_t i = 0; i < sample.length(); ++i) {
    if (sample.IsValid(i)) seen.insert(view(i));
  }
  return static_cast<int64_t>(seen.size()) * 2 > values;
}

}  // namespace

void ParquetFileWriter::open(const arrow::RecordBatch* first) {
  parquet::WriterProperties::Builder builder;
  builder.compression(parquet::Compression::ZSTD);
  if (row_group_rows_ > 0) builder.max_row_group_length(row_group_rows_);
  if (first) {
    for (int c = 0; c < first->num_columns(); ++c) {
      if (mostly_distinct(*first->column(c))) builder.disable_dictionary(first->schema()->field(c)->name());
    }
  }
  auto arrow_properties = parquet::ArrowWriterProperties::Builder().store_schema()->build();
  writer_ = unwrap_arrow(parquet::arrow::FileWriter::Open(*schema_, arrow::default_memory_pool(), sink_,
                                                          builder.build(), arrow_properties),
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
  if (!writer_) open(&batch);
  check_arrow(writer_->WriteRecordBatch(batch), "cannot write Parquet row group");
}

void ParquetFileWriter::add_footer_property(const std::string& key, const std::string& value) {
  if (!footer_properties_) footer_properties_ = std::make_shared<arrow::KeyValueMetadata>();
  footer_properties_->Append(key, value);
}

void ParquetFileWriter::close() {
  if (!writer_) open(nullptr);  // no rows: a file of the schema and no row groups
  if (footer_properties_) check_arrow(writer_->AddKeyValueMetadata(footer_properties_), "cannot add Parquet metadata");
  check_arrow(writer_->Close(), "cannot finish Parquet file");
  check_arrow(sink_->Close(), "cannot close Parquet output");
  closed_ = true;
}

std::optional<std::string> parquet_footer_property(std::shared_ptr<arrow::io::RandomAccessFile> file,
                                                   const std::string& key, const std::string& name) {
  std::shared_ptr<parquet::FileMetaData> footer;
  try {
    footer = parquet::ReadMetaData(std::move(file));
  } catch (const parquet::ParquetException& e) {
    throw ConfigError(fmt::format("'{}' is not a Parquet file: {}", name, e.what()));
  }
  const auto properties = footer->key_value_metadata();
  if (!properties) return std::nullopt;
  const int index = properties->FindKey(key);
  if (index < 0) return std::nullopt;
  return properties->value(index);
}

std::shared_ptr<arrow::Table> read_parquet_file(const std::string& path) {
  auto input = unwrap_arrow(arrow::io::ReadableFile::Open(path), fmt::format("cannot open '{}'", path));
  auto reader = unwrap_arrow(parquet::arrow::OpenFile(input, arrow::default_memory_pool()),
                       fmt::format("'{}' is not a Parquet file", path));
  return unwrap_arrow(reader->ReadTable(), fmt::format("cannot read '{}'", path));
}

}  // namespace datalab
