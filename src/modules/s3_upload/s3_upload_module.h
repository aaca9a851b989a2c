#pragma once
// Week 6: PostgreSQL products -> products.parquet at the bucket root and an Iceberg v2 table
// (main.products under iceberg_warehouse/, SQL catalog in PostgreSQL), on S3 or a local
// directory, with a results file describing the objects written.
#include <cstdint>
#include <string>

#include "modules/module.h"

namespace datalab::s3_upload {

struct S3UploadOptions {
  int64_t products = 10000;
  int64_t orders = 1000;
  uint64_t seed = 42;
  std::string mode = "append";  // Iceberg: append | overwrite
  int64_t batch_rows = 65536;
  bool generate = true;  // recreate and fill the PostgreSQL tables first
  bool iceberg = true;   // also commit to the Iceberg table
  std::string results = ".state/s3_upload/results.json";
};

class S3UploadModule : public Module {
 public:
  std::string name() const override { return "s3_upload"; }
  std::string summary() const override {
    return "PostgreSQL products -> products.parquet and Iceberg main.products on S3 (week 6)";
  }
  void add_run_flags(CLI::App& command) override;
  void run(AppContext& context) override;
  ModuleFootprint footprint(const Config& config) const override;

 private:
  S3UploadOptions options_;
};

}  // namespace datalab::s3_upload
