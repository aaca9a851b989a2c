#pragma once
// Stage 1 of spark_upload, the same for both engines: the products CSV (Product, Price) is
// streamed into products.parquet in the Spark bucket, values kept as text exactly as received
// (the landing copy), so the transform decides what is valid and nothing is lost on the way.
// CSV lines that do not split into the header's columns are kept aside as rejected rows.
#include <cstdint>
#include <string>
#include <vector>

#include "modules/spark_upload/rejected_row.h"
#include "storage/objectstore/object_store.h"

namespace datalab::spark_upload {

struct LandingResult {
  std::string key, uri;
  int64_t rows = 0;  // rows in the Parquet file
  int64_t bytes = 0;
  double seconds = 0;
  std::vector<RejectedRow> malformed;  // CSV lines that could not be read as a row
};

LandingResult land_products_csv(const std::string& csv_path, ObjectStore& store, const std::string& key);

}  // namespace datalab::spark_upload
