#pragma once
// How each kind of the type table (pg_types.h) is written as a binary COPY field, length word
// included: inline, so the encoder's row loop compiles to one switch with each case in place.
#include <cstring>
#include <string>

#include <arrow/api.h>
#include <arrow/util/decimal.h>

#include "storage/postgres/binary_words.h"
#include "storage/postgres/pg_types.h"

namespace datalab::pg_binary {

inline int64_t to_micros(int64_t value, arrow::TimeUnit::type unit) {
  switch (unit) {
    case arrow::TimeUnit::SECOND: return value * 1'000'000;
    case arrow::TimeUnit::MILLI: return value * 1'000;
    case arrow::TimeUnit::MICRO: return value;
    case arrow::TimeUnit::NANO: return value / 1'000;
  }
  return value;
}

// Each writes one value at `p`, which has room for it (see max_field_bytes), and moves `p`
// past it.

// Fixed-width integers and floats: the value's bits, big-endian.
template <typename ArrowType>
inline void encode_fixed(const arrow::Array& array, int64_t row, char*& p) {
  using C = typename ArrowType::c_type;
  const C value = static_cast<const arrow::NumericArray<ArrowType>&>(array).Value(row);
  store32(p, sizeof(C));
  if constexpr (sizeof(C) == 2) {
    uint16_t bits; std::memcpy(&bits, &value, 2); store16(p, bits);
  } else if constexpr (sizeof(C) == 4) {
    uint32_t bits; std::memcpy(&bits, &value, 4); store32(p, bits);
  } else {
    uint64_t bits; std::memcpy(&bits, &value, 8); store64(p, bits);
  }
}

inline void encode_bool(const arrow::Array& array, int64_t row, char*& p) {
  store32(p, 1);
  *p++ = static_cast<const arrow::BooleanArray&>(array).Value(row) ? 1 : 0;
}

// Text and bytea: the bytes as they are.
template <typename ArrayType>
inline void encode_bytes(const arrow::Array& array, int64_t row, char*& p) {
  const auto view = static_cast<const ArrayType&>(array).GetView(row);
  store32(p, static_cast<uint32_t>(view.size()));
  std::memcpy(p, view.data(), view.size());
  p += view.size();
}

inline void encode_date(const arrow::Array& array, int64_t row, char*& p) {
  store32(p, 4);
  store32(p, static_cast<uint32_t>(static_cast<const arrow::Date32Array&>(array).Value(row) - kEpochDays));
}

inline void encode_timestamp(const arrow::Array& array, int64_t row, char*& p) {
  const auto unit = static_cast<const arrow::TimestampType&>(*array.data()->type).unit();
  store32(p, 8);
  store64(p, static_cast<uint64_t>(to_micros(static_cast<const arrow::TimestampArray&>(array).Value(row), unit) -
                                   kEpochMicros));
}

// numeric of up to 38 digits: the header (4 words) and at most 11 base-10000 digits.
constexpr std::size_t kMaxNumericBytes = 8 + 2 * 11;

inline void encode_decimal(const arrow::Array& array, int64_t row, char*& p) {
  const auto& decimals = static_cast<const arrow::Decimal128Array&>(array);
  const auto& type = static_cast<const arrow::Decimal128Type&>(*array.data()->type);
  const std::string encoded =
      encode_pg_numeric(arrow::Decimal128(decimals.GetValue(row)).ToIntegerString(), type.scale());
  store32(p, static_cast<uint32_t>(encoded.size()));
  std::memcpy(p, encoded.data(), encoded.size());
  p += encoded.size();
}

// The most bytes a field of this kind takes besides the value bytes of text and bytea (its
// length word included).
inline std::size_t max_field_bytes(PgKind kind) {
  switch (kind) {
    case PgKind::boolean: return 4 + 1;
    case PgKind::int16: return 4 + 2;
    case PgKind::int32:
    case PgKind::float32:
    case PgKind::date: return 4 + 4;
    case PgKind::int64:
    case PgKind::float64:
    case PgKind::timestamp: return 4 + 8;
    case PgKind::text:
    case PgKind::large_text:
    case PgKind::bytea: return 4;
    case PgKind::decimal: return 4 + kMaxNumericBytes;
  }
  return 4;
}

// Writes one non-null value (row `row` of `array`, of kind `kind`).
[[gnu::always_inline]] inline void encode_value(PgKind kind, const arrow::Array& array, int64_t row, char*& p) {
  switch (kind) {
    case PgKind::boolean: return encode_bool(array, row, p);
    case PgKind::int16: return encode_fixed<arrow::Int16Type>(array, row, p);
    case PgKind::int32: return encode_fixed<arrow::Int32Type>(array, row, p);
    case PgKind::int64: return encode_fixed<arrow::Int64Type>(array, row, p);
    case PgKind::float32: return encode_fixed<arrow::FloatType>(array, row, p);
    case PgKind::float64: return encode_fixed<arrow::DoubleType>(array, row, p);
    case PgKind::text: return encode_bytes<arrow::StringArray>(array, row, p);
    case PgKind::large_text: return encode_bytes<arrow::LargeStringArray>(array, row, p);
    case PgKind::bytea: return encode_bytes<arrow::BinaryArray>(array, row, p);
    case PgKind::date: return encode_date(array, row, p);
    case PgKind::timestamp: return encode_timestamp(array, row, p);
    case PgKind::decimal: return encode_decimal(array, row, p);
  }
}

}  // namespace datalab::pg_binary
