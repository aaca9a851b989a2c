#pragma once
// Week 7: a products CSV (Product, Price) -> products.parquet in SPARK_BUCKET -> renamed to
// name/price, created_at added -> appended to spark_upload.products, then the rows written
// are shown. `--engine native` (default) runs in datalab; `--engine spark` runs the transform
// on the Spark cluster at SPARK_CONNECT_URL through datalab's Spark Connect client.
#include <cstdint>
#include <string>

#include "modules/module.h"

namespace datalab::spark_upload {

struct SparkUploadOptions {
  std::string engine = "native";  // native | spark
  std::string input;              // products CSV; empty: generate one
  int64_t rows = 1000;            // generated rows
  int64_t bad_rows = 0;           // generated rows made invalid on purpose
  uint64_t seed = 42;
  int show = 10;                  // rows of the result to show
  int spark_partitions = 0;       // > 0: repartition before Spark's JDBC write
  std::string results = ".state/spark_upload/results.json";
};

class SparkUploadModule : public Module {
 public:
  std::string name() const override { return "spark_upload"; }
  std::string summary() const override {
    return "products CSV -> products.parquet on S3 -> PostgreSQL products, natively or on Spark (week 7)";
  }
  void add_run_flags(CLI::App& command) override;
  void run(AppContext& context) override;
  ModuleFootprint footprint(const Config& config) const override;

 private:
  SparkUploadOptions options_;
};

}  // namespace datalab::spark_upload
