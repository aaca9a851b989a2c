#include "storage/clickhouse/native_block_decoder.h"

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "core/arrow_status.h"
#include "core/error.h"
#include "storage/clickhouse/clickhouse_client.h"
#include "storage/clickhouse/native_block_encoder.h"

namespace datalab::clickhouse {

namespace {

template <typename Builder, typename Stored, typename Value>
std::shared_ptr<arrow::Array> widen(Builder& builder, const char* data, int64_t rows, const std::vector<uint8_t>& valid) {
  std::vector<Value> values(static_cast<std::size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) {
    Stored v;
    std::memcpy(&v, data + i * static_cast<int64_t>(sizeof(Stored)), sizeof(Stored));
    values[static_cast<std::size_t>(i)] = static_cast<Value>(v);
  }
  check_arrow(builder.AppendValues(values.data(), rows, valid.empty() ? nullptr : valid.data()),
              "cannot build a column");
  return unwrap_arrow(builder.Finish(), "cannot build a column");
}

template <typename ArrowType>
std::shared_ptr<arrow::Array> fixed(const char* data, int64_t rows, const std::vector<uint8_t>& valid) {
  using C = typename ArrowType::c_type;
  arrow::NumericBuilder<ArrowType> builder;
  return widen<arrow::NumericBuilder<ArrowType>, C, C>(builder, data, rows, valid);
}

int decimal_width(int precision) { return precision <= 9 ? 4 : precision <= 18 ? 8 : 16; }

}  // namespace

NativeBlockDecoder::NativeBlockDecoder(std::shared_ptr<arrow::Schema> schema, Read read)
    : schema_(std::move(schema)), read_(std::move(read)) {}

bool NativeBlockDecoder::fill(std::size_t n) {
  while (buffer_.size() - pos_ < n) {
    if (pos_ > (1u << 20)) {  // drop what was consumed before growing
      buffer_.erase(0, pos_);
      pos_ = 0;
    }
    const std::size_t old = buffer_.size();
    const std::size_t want = std::max<std::size_t>(n - (old - pos_), 1u << 20);
    buffer_.resize(old + want);
    const std::size_t got = read_(buffer_.data() + old, want);
    buffer_.resize(old + got);
    if (got == 0) return false;
  }
  return true;
}

void NativeBlockDecoder::need(std::size_t n) {
  if (!fill(n)) throw ServiceError(fmt::format("ClickHouse's Native result ends inside block {}", blocks_ + 1));
}

uint64_t NativeBlockDecoder::varuint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    need(1);
    const auto byte = static_cast<uint8_t>(buffer_[pos_++]);
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) return value;
  }
  throw ServiceError("ClickHouse's Native result holds a malformed length");
}

std::string NativeBlockDecoder::string() {
  const uint64_t size = varuint();
  need(size);
  std::string out = buffer_.substr(pos_, size);
  pos_ += size;
  return out;
}

std::shared_ptr<arrow::Array> NativeBlockDecoder::column(const arrow::DataType& type, bool nullable, int64_t rows) {
  const auto n = static_cast<std::size_t>(rows);
  std::vector<uint8_t> valid;  // 1 = a value; empty when every row has one
  if (nullable) {  // Nullable(T): a byte per row, 1 = NULL, before T's values
    need(n);
    valid.resize(n);
    for (std::size_t i = 0; i < n; ++i) valid[i] = buffer_[pos_ + i] == 0;
    pos_ += n;
  }
  const auto take = [&](std::size_t width) {
    need(width * n);
    const char* data = buffer_.data() + pos_;
    pos_ += width * n;
    return data;
  };
  using T = arrow::Type;
  switch (type.id()) {
    case T::INT8: return fixed<arrow::Int8Type>(take(1), rows, valid);
    case T::INT16: return fixed<arrow::Int16Type>(take(2), rows, valid);
    case T::INT32: return fixed<arrow::Int32Type>(take(4), rows, valid);
    case T::INT64: return fixed<arrow::Int64Type>(take(8), rows, valid);
    case T::UINT8: return fixed<arrow::UInt8Type>(take(1), rows, valid);
    case T::UINT16: return fixed<arrow::UInt16Type>(take(2), rows, valid);
    case T::UINT32: return fixed<arrow::UInt32Type>(take(4), rows, valid);
    case T::UINT64: return fixed<arrow::UInt64Type>(take(8), rows, valid);
    case T::FLOAT: return fixed<arrow::FloatType>(take(4), rows, valid);
    case T::DOUBLE: return fixed<arrow::DoubleType>(take(8), rows, valid);
    case T::DATE32: {  // UInt16 days
      arrow::Date32Builder builder;
      return widen<arrow::Date32Builder, uint16_t, int32_t>(builder, take(2), rows, valid);
    }
    case T::TIMESTAMP: {  // UInt32 seconds
      arrow::TimestampBuilder builder(type.GetSharedPtr(), arrow::default_memory_pool());
      return widen<arrow::TimestampBuilder, uint32_t, int64_t>(builder, take(4), rows, valid);
    }
    case T::DECIMAL128: {  // the unscaled value, little-endian, 4/8/16 bytes by precision
      const auto width = static_cast<std::size_t>(decimal_width(static_cast<const arrow::Decimal128Type&>(type).precision()));
      const char* data = take(width);
      arrow::Decimal128Builder builder(type.GetSharedPtr());
      check_arrow(builder.Reserve(rows), "cannot build a column");
      for (std::size_t i = 0; i < n; ++i) {
        if (!valid.empty() && !valid[i]) {
          builder.UnsafeAppendNull();
          continue;
        }
        uint8_t bytes[16];
        std::memcpy(bytes, data + i * width, width);
        std::memset(bytes + width, (bytes[width - 1] & 0x80) ? 0xFF : 0, 16 - width);  // sign-extend
        builder.UnsafeAppend(arrow::Decimal128(bytes));
      }
      return unwrap_arrow(builder.Finish(), "cannot build a column");
    }
    case T::STRING: {
      arrow::StringBuilder builder;
      check_arrow(builder.Reserve(rows), "cannot build a column");
      for (std::size_t i = 0; i < n; ++i) {
        const uint64_t size = varuint();
        need(size);
        const bool value = valid.empty() || valid[i];
        check_arrow(value ? builder.Append(buffer_.data() + pos_, static_cast<int32_t>(size)) : builder.AppendNull(),
                    "cannot build a column");
        pos_ += size;
      }
      return unwrap_arrow(builder.Finish(), "cannot build a column");
    }
    default:
      throw Error(fmt::format("the Native decoder has no reader for {}", type.ToString()));
  }
}

std::shared_ptr<arrow::RecordBatch> NativeBlockDecoder::next() {
  for (;;) {
    if (!fill(1)) return nullptr;
    // An error after the first blocks arrives as text where the next block would start.
    if (fill(6) && buffer_.compare(pos_, 6, "Code: ") == 0) {
      while (fill(buffer_.size() - pos_ + 1)) {
        if (buffer_.size() - pos_ > 65536) break;
      }
      const ServerError error = parse_server_error(std::string_view(buffer_).substr(pos_));
      throw ClickHouseError(fmt::format("ClickHouse error {} after {} blocks of the result: {}", error.code, blocks_,
                                        error.message),
                            error.code);
    }
    const uint64_t columns = varuint();
    const uint64_t rows = varuint();
    ++blocks_;
    if (columns != static_cast<uint64_t>(schema_->num_fields())) {
      throw ServiceError(fmt::format("ClickHouse sent a block of {} columns, the result has {}", columns,
                                     schema_->num_fields()));
    }
    std::vector<std::shared_ptr<arrow::Array>> arrays;
    for (int c = 0; c < schema_->num_fields(); ++c) {
      const auto& field = schema_->field(c);
      const std::string name = string();
      const std::string type = string();
      const auto read_as = NativeBlockEncoder::arrow_field(name, type);
      if (name != field->name() || !read_as || !read_as->type()->Equals(*field->type()) ||
          read_as->nullable() != field->nullable()) {
        throw ServiceError(fmt::format("ClickHouse sent column '{}' of type {} where the result has '{}' ({})", name,
                                       type, field->name(), field->type()->ToString()));
      }
      arrays.push_back(column(*field->type(), field->nullable(), static_cast<int64_t>(rows)));
    }
    if (rows == 0) continue;  // an empty block (some servers end with one) carries nothing
    return arrow::RecordBatch::Make(schema_, static_cast<int64_t>(rows), std::move(arrays));
  }
}

}  // namespace datalab::clickhouse
