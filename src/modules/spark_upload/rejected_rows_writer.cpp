#include "modules/spark_upload/rejected_rows_writer.h"

#include <arrow/api.h>

#include "core/arrow_status.h"
#include "storage/postgres/copy_in.h"

namespace datalab::spark_upload {

namespace {

template <typename Builder, typename Value>
void append(Builder& builder, const std::optional<Value>& value) {
  check_arrow(value ? builder.Append(*value) : builder.AppendNull(), "rejected rows");
}

}  // namespace

void write_rejected_rows(PgConnection& db, const std::string& source, const std::vector<RejectedRow>& rows) {
  if (rows.empty()) return;
  auto schema = arrow::schema({arrow::field("source", arrow::utf8()), arrow::field("row_number", arrow::int64()),
                               arrow::field("csv_line", arrow::int64()), arrow::field("product", arrow::utf8()),
                               arrow::field("price", arrow::utf8()), arrow::field("reason", arrow::utf8()),
                               arrow::field("raw", arrow::utf8())});
  CopyIn writer(db, "spark_upload", "products_rejected", schema);
  constexpr std::size_t kBatch = 65536;
  for (std::size_t begin = 0; begin < rows.size(); begin += kBatch) {
    arrow::StringBuilder sources, products, prices, reasons, raws;
    arrow::Int64Builder row_numbers, csv_lines;
    const std::size_t end = std::min(rows.size(), begin + kBatch);
    for (std::size_t i = begin; i < end; ++i) {
      const auto& row = rows[i];
      check_arrow(sources.Append(source), "rejected rows");
      append(row_numbers, row.row_number);
      append(csv_lines, row.csv_line);
      append(products, row.product);
      append(prices, row.price);
      check_arrow(reasons.Append(row.reason), "rejected rows");
      append(raws, row.raw);
    }
    std::vector<std::shared_ptr<arrow::Array>> columns(7);
    check_arrow(sources.Finish(&columns[0]), "rejected rows");
    check_arrow(row_numbers.Finish(&columns[1]), "rejected rows");
    check_arrow(csv_lines.Finish(&columns[2]), "rejected rows");
    check_arrow(products.Finish(&columns[3]), "rejected rows");
    check_arrow(prices.Finish(&columns[4]), "rejected rows");
    check_arrow(reasons.Finish(&columns[5]), "rejected rows");
    check_arrow(raws.Finish(&columns[6]), "rejected rows");
    writer.write(*arrow::RecordBatch::Make(schema, static_cast<int64_t>(end - begin), columns));
  }
  writer.finish();
}

}  // namespace datalab::spark_upload
