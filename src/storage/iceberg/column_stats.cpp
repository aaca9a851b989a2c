#include "storage/iceberg/column_stats.h"

#include <cstring>

#include <arrow/scalar.h>
#include <arrow/util/decimal.h>
#include <parquet/arrow/reader.h>
#include <parquet/metadata.h>
#include <parquet/schema.h>
#include <parquet/statistics.h>

namespace datalab::iceberg {

namespace {

template <typename T>
std::string little_endian(T value) {
  std::string out(sizeof(T), '\0');
  std::memcpy(out.data(), &value, sizeof(T));  // x86-64 is little-endian, as Iceberg's encoding
  return out;
}

// Iceberg decimal: the unscaled value in two's-complement big-endian, minimum bytes.
std::string decimal_bytes(const arrow::Decimal128& value) {
  uint8_t big_endian[16];
  const auto words = value.ToBytes();  // little-endian 16 bytes
  for (int i = 0; i < 16; ++i) big_endian[i] = words[15 - i];
  int start = 0;
  while (start < 15 && ((big_endian[start] == 0x00 && !(big_endian[start + 1] & 0x80)) ||
                        (big_endian[start] == 0xFF && (big_endian[start + 1] & 0x80)))) {
    ++start;
  }
  return std::string(reinterpret_cast<const char*>(big_endian + start), 16 - start);
}

// A bound value of a type handled here: its order and its Iceberg encoding.
struct Bound {
  std::shared_ptr<arrow::Scalar> scalar;

  bool less_than(const Bound& other) const {
    switch (scalar->type->id()) {
      case arrow::Type::INT32: case arrow::Type::DATE32:
        return int32_value() < other.int32_value();
      case arrow::Type::INT64: case arrow::Type::TIMESTAMP:
        return int64_value() < other.int64_value();
      case arrow::Type::DECIMAL128:
        return static_cast<const arrow::Decimal128Scalar&>(*scalar).value <
               static_cast<const arrow::Decimal128Scalar&>(*other.scalar).value;
      default:
        return bytes() < other.bytes();
    }
  }
  std::optional<std::string> encoded() const {
    switch (scalar->type->id()) {
      case arrow::Type::INT32: case arrow::Type::DATE32: return little_endian(int32_value());
      case arrow::Type::INT64: case arrow::Type::TIMESTAMP: return little_endian(int64_value());
      case arrow::Type::DECIMAL128: return decimal_bytes(static_cast<const arrow::Decimal128Scalar&>(*scalar).value);
      case arrow::Type::STRING: case arrow::Type::BINARY: return std::string(bytes());
      default: return std::nullopt;
    }
  }
  int32_t int32_value() const {
    if (scalar->type->id() == arrow::Type::DATE32) return static_cast<const arrow::Date32Scalar&>(*scalar).value;
    return static_cast<const arrow::Int32Scalar&>(*scalar).value;
  }
  int64_t int64_value() const {
    if (scalar->type->id() == arrow::Type::TIMESTAMP) return static_cast<const arrow::TimestampScalar&>(*scalar).value;
    return static_cast<const arrow::Int64Scalar&>(*scalar).value;
  }
  std::string_view bytes() const { return static_cast<const arrow::BaseBinaryScalar&>(*scalar).view(); }
};

bool supported(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::TIMESTAMP:  // Iceberg timestamps are microseconds
      return static_cast<const arrow::TimestampType&>(type).unit() == arrow::TimeUnit::MICRO;
    case arrow::Type::INT32: case arrow::Type::DATE32: case arrow::Type::INT64:
    case arrow::Type::DECIMAL128: case arrow::Type::STRING: case arrow::Type::BINARY:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::vector<ColumnStats> column_stats(const parquet::FileMetaData& metadata) {
  std::vector<ColumnStats> out;
  const auto* schema = metadata.schema();
  for (int column = 0; column < metadata.num_columns(); ++column) {
    const auto* descriptor = schema->Column(column);
    const int32_t field_id = descriptor->schema_node()->field_id();
    if (field_id < 0 || descriptor->max_repetition_level() > 0) continue;  // no id, or nested
    ColumnStats stats;
    stats.field_id = field_id;
    stats.null_count = 0;
    std::optional<Bound> lower, upper;
    bool bounds_known = true;
    for (int group = 0; group < metadata.num_row_groups(); ++group) {
      const auto chunk = metadata.RowGroup(group)->ColumnChunk(column);
      stats.size += chunk->total_compressed_size();
      stats.value_count += chunk->num_values();
      const auto statistics = chunk->statistics();
      if (!statistics) {
        stats.null_count.reset();
        bounds_known = false;
        continue;
      }
      if (stats.null_count && statistics->HasNullCount()) *stats.null_count += statistics->null_count();
      else stats.null_count.reset();
      if (!statistics->HasMinMax()) {
        // A row group of nulls only has no bounds and narrows nothing; otherwise bounds are unknown.
        if (!statistics->HasNullCount() || statistics->null_count() != chunk->num_values()) bounds_known = false;
        continue;
      }
      std::shared_ptr<arrow::Scalar> min, max;
      if (!parquet::arrow::StatisticsAsScalars(*statistics, &min, &max).ok() || !min || !max ||
          !supported(*min->type)) {
        bounds_known = false;
        continue;
      }
      Bound lo{min}, hi{max};
      if (!lower || lo.less_than(*lower)) lower = lo;
      if (!upper || upper->less_than(hi)) upper = hi;
    }
    if (bounds_known && lower && upper) {
      stats.lower = lower->encoded();
      stats.upper = upper->encoded();
    }
    out.push_back(std::move(stats));
  }
  return out;
}

}  // namespace datalab::iceberg
