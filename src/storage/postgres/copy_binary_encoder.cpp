#include "storage/postgres/copy_binary_encoder.h"

#include "core/error.h"
#include "storage/postgres/binary_words.h"

namespace datalab {

using namespace pg_binary;

CopyBinaryTuple::CopyBinaryTuple(std::string& out, int16_t fields) : out_(out) {
  put16(out_, static_cast<uint16_t>(fields));
}

CopyBinaryTuple& CopyBinaryTuple::int32(int32_t value) {
  put32(out_, 4);
  put32(out_, static_cast<uint32_t>(value));
  return *this;
}

CopyBinaryTuple& CopyBinaryTuple::int64(int64_t value) {
  put32(out_, 8);
  put64(out_, static_cast<uint64_t>(value));
  return *this;
}

CopyBinaryTuple& CopyBinaryTuple::text(std::string_view value) {
  put32(out_, static_cast<uint32_t>(value.size()));
  out_.append(value);
  return *this;
}

CopyBinaryTuple& CopyBinaryTuple::timestamp_micros(int64_t unix_micros) { return int64(unix_micros - kEpochMicros); }

CopyBinaryEncoder::CopyBinaryEncoder(std::shared_ptr<arrow::Schema> schema) : schema_(std::move(schema)) {
  for (const auto& field : schema_->fields()) encoders_.push_back(pg_encoder(*field));
}

void CopyBinaryEncoder::append_batch(const arrow::RecordBatch& batch, std::string& out) const {
  const int ncols = batch.num_columns();
  if (!batch.schema()->Equals(*schema_, /*check_metadata=*/false)) {
    throw Error("COPY encoder: batch schema differs from the writer's schema: " + batch.schema()->ToString());
  }
  std::vector<const arrow::Array*> columns(ncols);
  for (int c = 0; c < ncols; ++c) columns[c] = batch.column(c).get();
  for (int64_t row = 0; row < batch.num_rows(); ++row) {
    put16(out, static_cast<uint16_t>(ncols));
    for (int c = 0; c < ncols; ++c) {
      if (columns[c]->IsNull(row)) {
        put32(out, 0xFFFFFFFF);
      } else {
        encoders_[c](*columns[c], row, out);
      }
    }
  }
}

}  // namespace datalab
