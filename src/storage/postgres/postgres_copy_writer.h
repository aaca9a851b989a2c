#pragma once
// Streams Arrow record batches into a PostgreSQL table with COPY ... (FORMAT binary).
// Memory stays bounded: each batch is encoded and sent before the next one is taken.
#include <memory>
#include <string>

#include <arrow/api.h>

#include "storage/postgres/copy_binary_encoder.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab {

class PostgresCopyWriter {
 public:
  // `table` is schema-qualified ("library.books"); columns are the Arrow field names.
  PostgresCopyWriter(PgConnection& connection, const std::string& schema_name,
                     const std::string& table_name, std::shared_ptr<arrow::Schema> schema,
                     bool freeze = false);
  ~PostgresCopyWriter();
  void write(const arrow::RecordBatch& batch);
  // Ends the COPY; returns the rows the server stored.
  long long finish();

 private:
  void send(const std::string& data);
  PgConnection& connection_;
  CopyBinaryEncoder encoder_;
  std::string target_;
  std::string buffer_;
  bool open_ = false;
};

}  // namespace datalab
