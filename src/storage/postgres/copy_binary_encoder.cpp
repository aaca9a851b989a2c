#include "storage/postgres/copy_binary_encoder.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "storage/postgres/binary_words.h"
#include "storage/postgres/pg_binary_encode.h"

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
  for (const auto& field : schema_->fields()) kinds_.push_back(pg_kind(*field));
}

// The batch's size is bounded first (fixed widths, plus the value bytes of text columns), so
// the row loop writes through a pointer without a capacity check per field.
void CopyBinaryEncoder::append_batch(const arrow::RecordBatch& batch, CopyBuffer& out) const {
  const int ncols = batch.num_columns();
  if (!batch.schema()->Equals(*schema_, /*check_metadata=*/false)) {
    throw Error("COPY encoder: batch schema differs from the writer's schema: " + batch.schema()->ToString());
  }
  const int64_t rows = batch.num_rows();
  std::vector<const arrow::Array*> columns(ncols);
  std::vector<char> has_nulls(ncols);
  std::size_t bound = static_cast<std::size_t>(rows) * 2;
  for (int c = 0; c < ncols; ++c) {
    columns[c] = batch.column(c).get();
    has_nulls[c] = columns[c]->null_count() > 0;
    bound += static_cast<std::size_t>(rows) * max_field_bytes(kinds_[c]);
    const auto& data = *columns[c]->data();
    if (kinds_[c] == PgKind::text || kinds_[c] == PgKind::bytea) {
      const auto* offsets = data.GetValues<int32_t>(1);
      bound += static_cast<std::size_t>(offsets[rows] - offsets[0]);
    } else if (kinds_[c] == PgKind::large_text) {
      const auto* offsets = data.GetValues<int64_t>(1);
      bound += static_cast<std::size_t>(offsets[rows] - offsets[0]);
    }
  }
  char* const start = out.tail(bound);
  char* p = start;
  for (int64_t row = 0; row < rows; ++row) {
    store16(p, static_cast<uint16_t>(ncols));
    for (int c = 0; c < ncols; ++c) {
      if (has_nulls[c] && columns[c]->IsNull(row)) {
        store32(p, 0xFFFFFFFF);
      } else {
        encode_value(kinds_[c], *columns[c], row, p);
      }
    }
  }
  out.commit(static_cast<std::size_t>(p - start));
}

char* CopyBuffer::tail(std::size_t bytes) {
  if (size_ + bytes > capacity_) {
    const std::size_t capacity = std::max(size_ + bytes, 2 * capacity_);
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_) std::memcpy(grown.get(), data_.get(), size_);
    data_ = std::move(grown);
    capacity_ = capacity;
  }
  return data_.get() + size_;
}

void CopyBuffer::append(std::string_view bytes) {
  std::memcpy(tail(bytes.size()), bytes.data(), bytes.size());
  commit(bytes.size());
}

}  // namespace datalab
