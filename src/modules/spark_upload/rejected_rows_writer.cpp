#include "modules/spark_upload/rejected_rows_writer.h"

#include <arrow/api.h>

#include "core/error.h"
#include "storage/postgres/postgres_copy_writer.h"

namespace datalab::spark_upload {

namespace {

void check(const arrow::Status& status) {
  if (!status.ok()) throw Error("cannot build rejected rows: " + status.ToString());
}

template <typename Builder, typename Value>
void append(Builder& builder, const std::optional<Value>& value) {
  check(value ? builder.Append(*value) : builder.AppendNull());
}

}  // namespace

void write_rejected_rows(PgConnection& db, const std::string& source, const std::vector<RejectedRow>& rows) {
  if (rows.empty()) return;
  auto schema = arrow::schema({arrow::field("source", arrow::utf8()), arrow::field("row_number", arrow::int64()),
                               arrow::field("csv_line", arrow::int64()), arrow::field("product", arrow::utf8()),
                               arrow::field("price", arrow::utf8()), arrow::field("reason", arrow::utf8()),
                               arrow::field("raw", arrow::utf8())});
  PostgresCopyWriter writer(db, "spark_upload", "products_rejected", schema);
  constexpr std::size_t kBatch = 65536;
  for (std::size_t begin = 0; begin < rows.size(); begin += kBatch) {
    arrow::StringBuilder sources, products, prices, reasons, raws;
    arrow::Int64Builder row_numbers, csv_lines;
    const std::size_t end = std::min(rows.size(), begin + kBatch);
    for (std::size_t i = begin; i < end; ++i) {
      const auto& row = rows[i];
      check(sources.Append(source));
      append(row_numbers, row.row_number);
      append(csv_lines, row.csv_line);
      append(products, row.product);
      append(prices, row.price);
      check(reasons.Append(row.reason));
      append(raws, row.raw);
    }
    std::vector<std::shared_ptr<arrow::Array>> columns(7);
    check(sources.Finish(&columns[0]));
    check(row_numbers.Finish(&columns[1]));
    check(csv_lines.Finish(&columns[2]));
    check(products.Finish(&columns[3]));
    check(prices.Finish(&columns[4]));
    check(reasons.Finish(&columns[5]));
    check(raws.Finish(&columns[6]));
    writer.write(*arrow::RecordBatch::Make(schema, static_cast<int64_t>(end - begin), columns));
  }
  writer.finish();
}

}  // namespace datalab::spark_upload
