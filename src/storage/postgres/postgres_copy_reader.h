#pragma once
// Streams the rows of a query out of PostgreSQL with COPY ... TO STDOUT (FORMAT binary) and
// decodes them straight into Arrow record batches of a fixed number of rows (bounded memory
// whatever the table size). The query's columns must match the schema in order and type, as
// the type table says (pg_types.h); numeric is rescaled to the decimal's scale.
#include <cstdint>
#include <memory>
#include <string>

#include <arrow/api.h>

#include "storage/postgres/copy_tuple_decoder.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab {

class PostgresCopyReader {
 public:
  // `query` is a SELECT (or a table name in parentheses-free form is not accepted).
  PostgresCopyReader(PgConnection& db, const std::string& query, std::shared_ptr<arrow::Schema> schema,
                     int64_t batch_rows = 65536);
  ~PostgresCopyReader();
  PostgresCopyReader(const PostgresCopyReader&) = delete;
  PostgresCopyReader& operator=(const PostgresCopyReader&) = delete;

  // The next batch, or nullptr after the last row.
  std::shared_ptr<arrow::RecordBatch> next();
  int64_t rows_read() const { return rows_; }
  uint64_t bytes_read() const { return bytes_; }  // COPY data received so far
  const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }

 private:
  bool read_row();  // false at the end of the data
  void finish_copy();

  PgConnection& db_;
  std::shared_ptr<arrow::Schema> schema_;
  int64_t batch_rows_;
  CopyTupleDecoder decoder_;
  bool header_done_ = false, done_ = false;
  int64_t rows_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace datalab
