#pragma once
// Seeded products CSV for the spark_upload module, in the original's shape (Product,Price):
// "<kind> <model>" names and prices 1.00 - 999.99. Optionally some rows are made invalid
// (blank name, blank or non-numeric or negative price), spread evenly through the file, so
// the rejection path is exercised with known counts. Row i depends only on (seed, i).
#include <cstdint>
#include <string>

namespace datalab {

struct ProductCsvStats {
  int64_t rows = 0;       // data rows written (valid + invalid)
  int64_t bad_rows = 0;   // rows written invalid on purpose
  int64_t bytes = 0;
};

ProductCsvStats write_products_csv(const std::string& path, int64_t rows, uint64_t seed, int64_t bad_rows = 0);

}  // namespace datalab
