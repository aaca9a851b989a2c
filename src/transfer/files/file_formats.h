#pragma once
// Parquet, CSV and JSON Lines, one file at a time: a reader yielding record batches and a
// writer taking them, both streaming (memory bounded by a batch or a Parquet row group).
#include <memory>
#include <optional>
#include <string>

#include <arrow/api.h>
#include <arrow/io/interfaces.h>

#include "transfer/endpoint.h"

namespace datalab::transfer {

const char* extension_of(FileFormat format);        // "parquet", "csv", "jsonl"
std::optional<FileFormat> format_of_name(const std::string& name);  // by its extension

class FormatReader {
 public:
  virtual ~FormatReader() = default;
  virtual std::shared_ptr<arrow::Schema> schema() const = 0;
  virtual std::shared_ptr<arrow::RecordBatch> next() = 0;  // nullptr at the end
};

// CSV and JSON Lines carry no types: they are inferred from the start of `input` (Arrow's
// inference; a column without a value there becomes text, timestamps microseconds), so
// every file of a set is then read with the first file's types. Parquet: the file's schema.
std::shared_ptr<arrow::Schema> infer_schema(FileFormat format, std::shared_ptr<arrow::io::RandomAccessFile> input,
                                            const std::string& name);

// `schema`: the types to read CSV and JSON Lines with (from infer_schema); Parquet ignores it.
// `name` appears in every error.
std::unique_ptr<FormatReader> open_reader(FileFormat format, std::shared_ptr<arrow::io::RandomAccessFile> input,
                                          const std::string& name, const std::shared_ptr<arrow::Schema>& schema);

class FormatWriter {
 public:
  virtual ~FormatWriter() = default;
  virtual void write(const arrow::RecordBatch& batch) = 0;
  // Finishes the file (Parquet footer) and closes the sink.
  virtual void close() = 0;
  // Drops the file: the sink is aborted (an S3 upload is aborted, never completed).
  virtual void abort() = 0;
  // A key-value pair the file carries in its metadata, written at close(); only Parquet has
  // a place for it (the target checks the format first).
  virtual void add_footer_property(const std::string& key, const std::string& value) {
    (void)key;
    (void)value;
  }
};

// Throws ConfigError naming the first column the format cannot hold, and its type.
void check_writable(FileFormat format, const arrow::Schema& schema);

std::unique_ptr<FormatWriter> open_writer(FileFormat format, std::shared_ptr<arrow::io::OutputStream> sink,
                                          const std::shared_ptr<arrow::Schema>& schema);

}  // namespace datalab::transfer
