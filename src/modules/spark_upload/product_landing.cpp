#include "modules/spark_upload/product_landing.h"

#include <chrono>

#include <arrow/csv/api.h>
#include <arrow/io/file.h>
#include <fmt/format.h>

#include "core/stopwatch.h"
#include "core/arrow_status.h"
#include "core/error.h"
#include "core/progress.h"
#include "formats/parquet_file.h"

namespace datalab::spark_upload {

LandingResult land_products_csv(const std::string& csv_path, ObjectStore& store, const std::string& key) {
  const auto start = std::chrono::steady_clock::now();
  LandingResult result;
  result.key = key;
  auto input = arrow::io::ReadableFile::Open(csv_path);
  if (!input.ok()) throw ConfigError(fmt::format("cannot open the products CSV '{}': {}", csv_path, input.status().message()));
  const int64_t file_size = unwrap_arrow((*input)->GetSize(), csv_path);

  auto read_options = arrow::csv::ReadOptions::Defaults();
  // Arrow reads up to 32 blocks ahead in the background: 1 MiB blocks bound that to 32 MiB.
  read_options.block_size = 1 << 20;
  read_options.use_threads = false;  // the streaming reader decodes block by block
  auto parse_options = arrow::csv::ParseOptions::Defaults();
  parse_options.newlines_in_values = true;
  parse_options.invalid_row_handler = [&](const arrow::csv::InvalidRow& row) {
    RejectedRow rejected;
    if (row.number >= 0) rejected.csv_line = row.number;
    rejected.reason = fmt::format("malformed CSV line: expected {} fields, found {}", row.expected_columns,
                                  row.actual_columns);
    rejected.raw = std::string(row.text);
    result.malformed.push_back(std::move(rejected));
    return arrow::csv::InvalidRowResult::Skip;
  };
  auto convert_options = arrow::csv::ConvertOptions::Defaults();
  // Text as received: no type inference, empty stays empty (blank is a reason, not a NULL).
  convert_options.column_types = {{"Product", arrow::utf8()}, {"Price", arrow::utf8()}};
  convert_options.include_columns = {"Product", "Price"};
  convert_options.strings_can_be_null = false;

  // The header decides: name the missing column instead of Arrow's generic message.
  {
    auto probe_options = read_options;
    auto probe_parse = parse_options;
    probe_parse.invalid_row_handler = [](const arrow::csv::InvalidRow&) { return arrow::csv::InvalidRowResult::Skip; };
    auto probe = arrow::csv::StreamingReader::Make(arrow::io::default_io_context(), *input, probe_options,
                                                   probe_parse, arrow::csv::ConvertOptions::Defaults());
    if (!probe.ok()) throw Error(fmt::format("cannot read the products CSV '{}': {}", csv_path, probe.status().message()));
    const auto header = (*probe)->schema();
    for (const char* column : {"Product", "Price"}) {
      if (header->GetFieldIndex(column) < 0) {
        std::vector<std::string> names;
        for (const auto& field : header->fields()) names.push_back(field->name());
        throw ConfigError(fmt::format("the products CSV '{}' has no {} column (header: {})", csv_path, column,
                                      fmt::join(names, ",")));
      }
    }
  }
  input = arrow::io::ReadableFile::Open(csv_path);
  auto reader = unwrap_arrow(arrow::csv::StreamingReader::Make(arrow::io::default_io_context(), *input, read_options,
                                                         parse_options, convert_options),
                       fmt::format("cannot read the products CSV '{}'", csv_path));
  // Product first, Price second, whatever the CSV's column order.
  const auto schema = arrow::schema({arrow::field("Product", arrow::utf8()), arrow::field("Price", arrow::utf8())});
  const int product_index = reader->schema()->GetFieldIndex("Product");
  const int price_index = reader->schema()->GetFieldIndex("Price");

  ProgressBar progress("upload products.parquet", static_cast<uint64_t>(file_size), "bytes");
  int64_t bytes_reported = 0;
  // Row groups of 128 Ki rows: Spark reads them in parallel tasks (one group would be one task).
  ParquetFileWriter writer(store.open_output(key), schema, 131072);
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    const auto status = reader->ReadNext(&batch);
    if (!status.ok()) throw Error(fmt::format("cannot read the products CSV '{}': {}", csv_path, status.message()));
    if (!batch) break;
    auto ordered = arrow::RecordBatch::Make(schema, batch->num_rows(),
                                            {batch->column(product_index), batch->column(price_index)});
    writer.write(*ordered);
    result.rows += batch->num_rows();
    progress.advance(static_cast<uint64_t>(reader->bytes_read() - bytes_reported));
    bytes_reported = reader->bytes_read();
  }
  writer.close();
  progress.finish();
  result.bytes = store.size(key);
  result.uri = store.uri(key);
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace datalab::spark_upload
