#pragma once
// Reads ClickHouse's Native format (as the HTTP interface sends it: no block info, one block
// after another) into Arrow record batches, one per block, for the types the encoder writes
// (NativeBlockEncoder::arrow_field): Int*/UInt*, Float*, String, Date, DateTime, Decimal and
// Nullable of them. A batch is as big as the server's block (its max_block_size).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <arrow/api.h>

namespace datalab::clickhouse {

class NativeBlockDecoder {
 public:
  // `read` fills up to n bytes and returns how many, 0 at the end of the data.
  using Read = std::function<std::size_t(char* out, std::size_t n)>;
  // Blocks must have `schema`'s columns (names and types), else the decoder throws naming them.
  NativeBlockDecoder(std::shared_ptr<arrow::Schema> schema, Read read);

  // The next block as a batch, nullptr at the end. A server error written into the stream
  // after some blocks (the HTTP status was already sent) is thrown as ClickHouseError.
  std::shared_ptr<arrow::RecordBatch> next();

 private:
  bool fill(std::size_t n);  // at least n bytes buffered; false at a clean end
  void need(std::size_t n);  // the same, an error at the end
  uint64_t varuint();
  std::string string();
  std::shared_ptr<arrow::Array> column(const arrow::DataType& type, bool nullable, int64_t rows);

  std::shared_ptr<arrow::Schema> schema_;
  Read read_;
  std::string buffer_;
  std::size_t pos_ = 0;
  int64_t blocks_ = 0;
};

}  // namespace datalab::clickhouse
