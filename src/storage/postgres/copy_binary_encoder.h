#pragma once
// Encodes Arrow record batches in PostgreSQL's binary COPY format
// (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format").
// Supported Arrow types and the PostgreSQL types they feed:
//   bool→boolean, int16→smallint, int32→integer, int64→bigint, float→real,
//   double→double precision, utf8/large_utf8→text/varchar, date32→date,
//   timestamp[any unit]→timestamp/timestamptz, decimal128→numeric.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/api.h>

namespace datalab {

class CopyBinaryEncoder {
 public:
  // Throws datalab::Error naming the first field whose type is not supported.
  explicit CopyBinaryEncoder(std::shared_ptr<arrow::Schema> schema);

  static void append_header(std::string& out);
  static void append_trailer(std::string& out);
  // Appends one tuple per row of the batch; the batch must have the encoder's schema.
  void append_batch(const arrow::RecordBatch& batch, std::string& out) const;

  const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }

 private:
  std::shared_ptr<arrow::Schema> schema_;
};

// One binary COPY tuple built field by field, for rows that are not Arrow batches (the
// header and trailer come from CopyBinaryEncoder). Fields go in the table's column order.
class CopyBinaryTuple {
 public:
  CopyBinaryTuple(std::string& out, int16_t fields);
  CopyBinaryTuple& int32(int32_t value);
  CopyBinaryTuple& int64(int64_t value);
  CopyBinaryTuple& text(std::string_view value);
  // timestamp / timestamptz from microseconds since the Unix epoch (UTC).
  CopyBinaryTuple& timestamp_micros(int64_t unix_micros);

 private:
  std::string& out_;
};

// PostgreSQL's binary numeric for a decimal given as its unscaled integer digits and scale,
// e.g. ("-12345", 2) for -123.45. Exposed for tests.
std::string encode_pg_numeric(const std::string& unscaled, int scale);

}  // namespace datalab
