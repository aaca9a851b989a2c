#pragma once
// A products row that was not loaded, with the reason; kept in spark_upload.products_rejected.
#include <cstdint>
#include <optional>
#include <string>

namespace datalab::spark_upload {

struct RejectedRow {
  std::optional<int64_t> row_number;  // 1-based data row of products.parquet (native engine)
  std::optional<int64_t> csv_line;    // line of the input CSV (malformed lines)
  std::optional<std::string> product, price;
  std::string reason;
  std::optional<std::string> raw;  // the CSV line as read, for malformed lines
};

}  // namespace datalab::spark_upload
