#include "transfer/files/file_formats.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include <arrow/compute/cast.h>
#include <arrow/csv/api.h>
#include <arrow/csv/writer.h>
#include <arrow/ipc/writer.h>
#include <arrow/json/api.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/properties.h>

#include "core/arrow_status.h"
#include "core/error.h"
#include "formats/parquet_file.h"
#include "transfer/json_rows.h"

namespace datalab::transfer {

namespace {

// Parquet row groups are buffered whole before they are written: this bounds the memory.
constexpr int64_t kRowGroupRows = 256 * 1024;
constexpr int64_t kBatchRows = 64 * 1024;

// Arrow's CSV errors name a column by its position ("In CSV column #3: ..."): the name is
// added, which is what a user looks for in the header.
std::string with_column_names(std::string message, const arrow::Schema* schema) {
  static const std::regex position(R"(column #(\d+))");
  std::smatch match;
  if (schema && std::regex_search(message, match, position)) {
    const int index = std::stoi(match[1]);
    if (index >= 0 && index < schema->num_fields()) {
      message.insert(static_cast<std::size_t>(match.position(0) + match.length(0)),
                     fmt::format(" ('{}')", schema->field(index)->name()));
    }
  }
  return message;
}

// A value that does not convert (Arrow's Invalid) is bad input, exit 2; anything else a
// failing read.
[[noreturn]] void read_failed(const arrow::Status& status, const std::string& name, const arrow::Schema* schema) {
  const std::string message = fmt::format("cannot read '{}': {}", name, with_column_names(status.message(), schema));
  if (status.IsInvalid()) throw ConfigError(message);
  throw Error(message);
}

std::shared_ptr<arrow::RecordBatch> read_next(arrow::RecordBatchReader& reader, const std::string& name) {
  std::shared_ptr<arrow::RecordBatch> batch;
  const auto status = reader.ReadNext(&batch);
  if (!status.ok()) read_failed(status, name, reader.schema().get());
  return batch;
}

class ParquetReader : public FormatReader {
 public:
  ParquetReader(std::shared_ptr<arrow::io::RandomAccessFile> input, const std::string& name)
      : reader_(std::move(input), name) {}
  std::shared_ptr<arrow::Schema> schema() const override { return reader_.schema(); }
  std::shared_ptr<arrow::RecordBatch> next() override { return reader_.next(); }

 private:
  ParquetBatchReader reader_;
};

// What inference found, made usable as explicit types: an empty column (null type) as
// text, nanoseconds (Arrow's choice for any fraction) as microseconds.
std::shared_ptr<arrow::Schema> usable(const arrow::Schema& inferred) {
  arrow::FieldVector fields;
  for (const auto& field : inferred.fields()) {
    auto type = field->type();
    if (type->id() == arrow::Type::NA) type = arrow::utf8();
    if (type->id() == arrow::Type::TIMESTAMP) {
      const auto& ts = static_cast<const arrow::TimestampType&>(*type);
      if (ts.unit() == arrow::TimeUnit::NANO) type = arrow::timestamp(arrow::TimeUnit::MICRO, ts.timezone());
    }
    fields.push_back(arrow::field(field->name(), type));
  }
  return arrow::schema(fields);
}

class StreamReader : public FormatReader {
 public:
  StreamReader(std::shared_ptr<arrow::RecordBatchReader> reader, std::string name)
      : reader_(std::move(reader)), name_(std::move(name)) {}
  std::shared_ptr<arrow::Schema> schema() const override { return reader_->schema(); }
  std::shared_ptr<arrow::RecordBatch> next() override { return read_next(*reader_, name_); }

 private:
  std::shared_ptr<arrow::RecordBatchReader> reader_;
  std::string name_;
};

std::shared_ptr<arrow::RecordBatchReader> csv_reader(std::shared_ptr<arrow::io::InputStream> input,
                                                     const std::string& name,
                                                     const std::shared_ptr<arrow::Schema>& types) {
  auto read = arrow::csv::ReadOptions::Defaults();
  auto parse = arrow::csv::ParseOptions::Defaults();
  parse.newlines_in_values = true;  // quoted text may hold line breaks
  auto convert = arrow::csv::ConvertOptions::Defaults();
  // Only an unquoted empty field is NULL: "" is an empty string, and text such as NA or
  // null stays text (Arrow's default list would turn it into NULL).
  convert.null_values = {""};
  convert.strings_can_be_null = true;
  convert.quoted_strings_can_be_null = false;
  if (types) {
    for (const auto& field : types->fields()) convert.column_types[field->name()] = field->type();
  }
  auto reader =
      arrow::csv::StreamingReader::Make(arrow::io::default_io_context(), std::move(input), read, parse, convert);
  if (!reader.ok()) read_failed(reader.status(), name, types.get());  // the first block is read here
  return *std::move(reader);
}

std::shared_ptr<arrow::RecordBatchReader> json_reader(std::shared_ptr<arrow::io::InputStream> input,
                                                      const std::string& name,
                                                      const std::shared_ptr<arrow::Schema>& types) {
  auto read = arrow::json::ReadOptions::Defaults();
  auto parse = arrow::json::ParseOptions::Defaults();
  if (types) {
    parse.explicit_schema = types;
    // A field the first file did not have is an error, not a silently added column.
    parse.unexpected_field_behavior = arrow::json::UnexpectedFieldBehavior::Error;
  }
  return unwrap_arrow<ConfigError>(arrow::json::StreamingReader::Make(std::move(input), read, parse),
                                   fmt::format("cannot read JSON Lines '{}'", name));
}

class ParquetWriter : public FormatWriter {
 public:
  ParquetWriter(std::shared_ptr<arrow::io::OutputStream> sink, const std::shared_ptr<arrow::Schema>& schema)
      : writer_(std::make_unique<ParquetFileWriter>(std::move(sink), schema, kRowGroupRows)) {}
  void write(const arrow::RecordBatch& batch) override { writer_->write(batch); }
  void close() override { writer_->close(); }
  void abort() override { writer_.reset(); }  // a writer dropped before close() aborts its sink
  void add_footer_property(const std::string& key, const std::string& value) override {
    writer_->add_footer_property(key, value);
  }

 private:
  std::unique_ptr<ParquetFileWriter> writer_;
};

class CsvWriter : public FormatWriter {
 public:
  CsvWriter(std::shared_ptr<arrow::io::OutputStream> sink, const std::shared_ptr<arrow::Schema>& schema)
      : sink_(std::move(sink)) {
    // Text is always quoted and NULL is an empty field, so "" and NULL stay apart when read back.
    auto options = arrow::csv::WriteOptions::Defaults();
    writer_ = unwrap_arrow(arrow::csv::MakeCSVWriter(sink_, schema, options), "cannot start the CSV writer");
  }
  void write(const arrow::RecordBatch& batch) override {
    check_arrow(writer_->WriteRecordBatch(batch), "cannot write CSV");
  }
  void close() override {
    check_arrow(writer_->Close(), "cannot finish the CSV file");
    check_arrow(sink_->Close(), "cannot close the CSV file");
  }
  void abort() override { (void)sink_->Abort(); }

 private:
  std::shared_ptr<arrow::io::OutputStream> sink_;
  std::shared_ptr<arrow::ipc::RecordBatchWriter> writer_;
};

// One JSON object per line. Values go through Arrow's cast to text, so numbers, decimals
// (exact, as JSON numbers), dates and timestamps (ISO text) read the same as in CSV.
class JsonLinesWriter : public FormatWriter {
 public:
  JsonLinesWriter(std::shared_ptr<arrow::io::OutputStream> sink, const std::shared_ptr<arrow::Schema>& schema)
      : sink_(std::move(sink)), encoder_(*schema) {}

  void write(const arrow::RecordBatch& batch) override {
    encoder_.start(batch);
    std::string out;
    for (int64_t row = 0; row < batch.num_rows(); ++row) {
      encoder_.append_row(row, out);
      out += '\n';
      if (out.size() >= (1u << 20)) flush(out);
    }
    flush(out);
  }

  void close() override { check_arrow(sink_->Close(), "cannot close the JSON Lines file"); }
  void abort() override { (void)sink_->Abort(); }

 private:
  void flush(std::string& out) {
    check_arrow(sink_->Write(out.data(), static_cast<int64_t>(out.size())), "cannot write JSON Lines");
    out.clear();
  }

  std::shared_ptr<arrow::io::OutputStream> sink_;
  JsonRowEncoder encoder_;
};

}  // namespace

const char* extension_of(FileFormat format) {
  switch (format) {
    case FileFormat::parquet: return "parquet";
    case FileFormat::csv: return "csv";
    case FileFormat::jsonl: return "jsonl";
  }
  return "?";
}

std::optional<FileFormat> format_of_name(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.ends_with(".parquet")) return FileFormat::parquet;
  if (lower.ends_with(".csv")) return FileFormat::csv;
  if (lower.ends_with(".jsonl") || lower.ends_with(".ndjson") || lower.ends_with(".json")) return FileFormat::jsonl;
  return std::nullopt;
}

std::shared_ptr<arrow::Schema> infer_schema(FileFormat format, std::shared_ptr<arrow::io::RandomAccessFile> input,
                                            const std::string& name) {
  switch (format) {
    case FileFormat::parquet: return ParquetReader(std::move(input), name).schema();
    case FileFormat::csv: return usable(*csv_reader(std::move(input), name, nullptr)->schema());
    case FileFormat::jsonl: return usable(*json_reader(std::move(input), name, nullptr)->schema());
  }
  return nullptr;
}

std::unique_ptr<FormatReader> open_reader(FileFormat format, std::shared_ptr<arrow::io::RandomAccessFile> input,
                                          const std::string& name, const std::shared_ptr<arrow::Schema>& schema) {
  switch (format) {
    case FileFormat::parquet: return std::make_unique<ParquetReader>(std::move(input), name);
    case FileFormat::csv: return std::make_unique<StreamReader>(csv_reader(std::move(input), name, schema), name);
    case FileFormat::jsonl: return std::make_unique<StreamReader>(json_reader(std::move(input), name, schema), name);
  }
  return nullptr;
}

void check_writable(FileFormat format, const arrow::Schema& schema) {
  for (const auto& field : schema.fields()) {
    if (format == FileFormat::parquet) {
      const auto one = arrow::schema({field});
      std::shared_ptr<parquet::SchemaDescriptor> descriptor;
      const auto status = parquet::arrow::ToParquetSchema(one.get(), *parquet::default_writer_properties(),
                                                          *parquet::default_arrow_writer_properties(), &descriptor);
      if (!status.ok()) {
        throw ConfigError(fmt::format("column '{}' has type {}, which Parquet cannot hold: {}", field->name(),
                                      field->type()->ToString(), status.message()));
      }
    } else if (!text_holds(*field->type())) {
      throw ConfigError(fmt::format("column '{}' has type {}, which {} cannot hold: write Parquet, or convert it "
                                    "in the source (e.g. a ?query= casting it to text)",
                                    field->name(), field->type()->ToString(),
                                    format == FileFormat::csv ? "CSV" : "JSON Lines"));
    }
  }
}

std::unique_ptr<FormatWriter> open_writer(FileFormat format, std::shared_ptr<arrow::io::OutputStream> sink,
                                          const std::shared_ptr<arrow::Schema>& schema) {
  switch (format) {
    case FileFormat::parquet: return std::make_unique<ParquetWriter>(std::move(sink), schema);
    case FileFormat::csv: return std::make_unique<CsvWriter>(std::move(sink), schema);
    case FileFormat::jsonl: return std::make_unique<JsonLinesWriter>(std::move(sink), schema);
  }
  return nullptr;
}

}  // namespace datalab::transfer
