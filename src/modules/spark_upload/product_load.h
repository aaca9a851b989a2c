#pragma once
// Stage 2 of spark_upload: products.parquet (Product, Price as text) -> rows checked by the
// rules of product_rules.h, renamed to name/price, created_at added -> appended to
// spark_upload.products; rejected rows to spark_upload.products_rejected. Two engines, one
// result: load_natively() runs in datalab (no JVM); load_with_spark() runs the plan on the
// Spark cluster through Spark Connect and writes through Spark's JDBC writer.
// Either way the products table changes in one PostgreSQL transaction at the end: a failure
// anywhere (S3, Spark, PostgreSQL) leaves it as it was.
#include <cstdint>
#include <string>

#include "modules/spark_upload/product_landing.h"
#include "storage/postgres/postgres_connection.h"
#include "storage/spark/spark_session.h"

namespace datalab::spark_upload {

struct LoadResult {
  int64_t loaded = 0;
  int64_t rejected = 0;  // including the malformed CSV lines of the landing stage
  double seconds = 0;
  double commit_seconds = 0;  // the final PostgreSQL transaction (part of seconds)
};

// `source` is the landing object's URI (s3://bucket/products.parquet), stored with every row.
LoadResult load_natively(PgConnection& db, const ObjectStore& store, const LandingResult& landing,
                         const std::string& source);

struct SparkLoadOptions {
  std::string parquet_path;  // what Spark reads (s3a://bucket/key or file:///...)
  int partitions = 0;        // > 0: repartition before the JDBC write (0: one writer per row group read)
};

LoadResult load_with_spark(spark::SparkSession& session, PgConnection& db, const LandingResult& landing,
                           const std::string& source, const SparkLoadOptions& options);

}  // namespace datalab::spark_upload
