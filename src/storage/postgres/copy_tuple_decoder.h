#pragma once
// Decodes binary COPY tuples (https://www.postgresql.org/docs/current/sql-copy.html, "Binary
// Format") into Arrow builders, one column per field of the schema, with the type table's
// decoders (pg_types.h). It knows nothing of connections: the COPY reader feeds it the rows
// libpq hands over, the micro-benchmark feeds it encoded batches.
#include <cstdint>
#include <memory>
#include <vector>

#include <arrow/api.h>

namespace datalab {

class CopyTupleDecoder {
 public:
  // Throws datalab::Error naming the first field datalab cannot read into.
  CopyTupleDecoder(std::shared_ptr<arrow::Schema> schema, int64_t batch_rows);
  ~CopyTupleDecoder();
  CopyTupleDecoder(const CopyTupleDecoder&) = delete;
  CopyTupleDecoder& operator=(const CopyTupleDecoder&) = delete;

  // Appends the tuple that starts at `p` (its 16-bit field count first) and returns the
  // byte after it. Throws datalab::Error on a truncated tuple, a field count that is not the
  // schema's, or a value that does not fit its column (naming the column).
  const char* append_tuple(const char* p, const char* end);
  // The rows appended since the last batch, as a batch; the builders start again.
  std::shared_ptr<arrow::RecordBatch> finish_batch();
  int64_t pending_rows() const { return pending_; }

 private:
  struct Column;
  void reserve();

  std::shared_ptr<arrow::Schema> schema_;
  int64_t batch_rows_;
  std::vector<std::unique_ptr<Column>> columns_;
  int64_t pending_ = 0;
};

}  // namespace datalab
