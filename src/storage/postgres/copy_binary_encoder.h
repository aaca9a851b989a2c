#pragma once
// Encodes Arrow record batches as the tuples of PostgreSQL's binary COPY format, each column
// by its entry in the type table (pg_types.h). CopyIn adds the header and trailer.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/api.h>

#include "storage/postgres/pg_types.h"

namespace datalab {

// Bytes on their way to the server. Unlike a std::string it grows without zero-filling the
// room it adds, which the encoder then overwrites anyway (a tenth of its time otherwise).
class CopyBuffer {
 public:
  // Room for `bytes` more after size(); write there, then commit() what was written.
  char* tail(std::size_t bytes);
  void commit(std::size_t bytes) { size_ += bytes; }
  void append(std::string_view bytes);
  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0, capacity_ = 0;
};

class CopyBinaryEncoder {
 public:
  // Throws datalab::Error naming the first field whose type PostgreSQL cannot hold.
  explicit CopyBinaryEncoder(std::shared_ptr<arrow::Schema> schema);

  // Appends one tuple per row of the batch; the batch must have the encoder's schema.
  void append_batch(const arrow::RecordBatch& batch, CopyBuffer& out) const;

  const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }

 private:
  std::shared_ptr<arrow::Schema> schema_;
  std::vector<PgKind> kinds_;  // one per column, from the type table
};

// One binary COPY tuple built field by field, for rows that are not Arrow batches. Fields go
// in the table's column order.
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

}  // namespace datalab
