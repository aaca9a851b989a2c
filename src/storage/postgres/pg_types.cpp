#include "storage/postgres/pg_types.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include <arrow/util/decimal.h>
#include <fmt/format.h>

#include "core/arrow_status.h"
#include "core/error.h"
#include "storage/postgres/binary_words.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab {

namespace {

using namespace pg_binary;

void check(const arrow::Status& status) { check_arrow(status, "cannot build Arrow batch"); }

void expect_size(int32_t size, int32_t want, const arrow::DataType& type) {
  if (size != want) {
    throw Error(fmt::format("the query returns a {}-byte value where {} needs {} bytes (cast the column in the query)",
                            size, type.ToString(), want));
  }
}


template <typename ArrowType>
void decode_fixed(const char* p, int32_t size, arrow::ArrayBuilder& builder, const arrow::DataType& type) {
  using C = typename ArrowType::c_type;
  expect_size(size, sizeof(C), type);
  C value;
  if constexpr (sizeof(C) == 2) {
    const uint16_t bits = be16(p); std::memcpy(&value, &bits, 2);
  } else if constexpr (sizeof(C) == 4) {
    const uint32_t bits = be32(p); std::memcpy(&value, &bits, 4);
  } else {
    const uint64_t bits = be64(p); std::memcpy(&value, &bits, 8);
  }
  check(static_cast<arrow::NumericBuilder<ArrowType>&>(builder).Append(value));
}


void decode_bool(const char* p, int32_t size, arrow::ArrayBuilder& builder, const arrow::DataType& type) {
  expect_size(size, 1, type);
  check(static_cast<arrow::BooleanBuilder&>(builder).Append(p[0] != 0));
}


template <typename BuilderType>
void decode_bytes(const char* p, int32_t size, arrow::ArrayBuilder& builder, const arrow::DataType&) {
  check(static_cast<BuilderType&>(builder).Append(p, size));
}


void decode_date(const char* p, int32_t size, arrow::ArrayBuilder& builder, const arrow::DataType& type) {
  expect_size(size, 4, type);
  check(static_cast<arrow::Date32Builder&>(builder).Append(static_cast<int32_t>(be32(p)) + kEpochDays));
}

void decode_timestamp(const char* p, int32_t size, arrow::ArrayBuilder& builder, const arrow::DataType& type) {
  expect_size(size, 8, type);
  check(static_cast<arrow::TimestampBuilder&>(builder).Append(static_cast<int64_t>(be64(p)) + kEpochMicros));
}


// 10^0 .. 10^38: every power a decimal128 of precision up to 38 needs.
constexpr std::array<__int128, 39> kPow10 = [] {
  std::array<__int128, 39> powers{};
  powers[0] = 1;
  for (size_t i = 1; i < powers.size(); ++i) powers[i] = powers[i - 1] * 10;
  return powers;
}();

// numeric: ndigits, weight, sign, dscale (int16 each), then ndigits base-10000 digits,
// rescaled to the decimal's scale (rounding half up, like numeric's own rounding).
void decode_decimal(const char* p, int32_t size, arrow::ArrayBuilder& builder, const arrow::DataType& type) {
  const auto& decimal = static_cast<const arrow::Decimal128Type&>(type);
  const int scale = decimal.scale(), precision = decimal.precision();
  if (size < 8) throw Error("short numeric value");
  const int ndigits = static_cast<int16_t>(be16(p));
  const int weight = static_cast<int16_t>(be16(p + 2));
  const uint16_t sign = be16(p + 4);
  if (sign != 0x0000 && sign != 0x4000) {  // NaN 0xC000, Infinity 0xD000, -Infinity 0xF000
    const char* special = sign == 0xC000 ? "NaN" : sign == 0xD000 ? "Infinity" : sign == 0xF000 ? "-Infinity" : "?";
    throw Error(fmt::format("numeric {} cannot be stored as {}", special, type.ToString()));
  }
  if (size < 8 + 2 * ndigits) throw Error("short numeric value");
  const auto out_of_range = [&] {
    return Error(fmt::format("a numeric value does not fit {} (cast it in the query)", type.ToString()));
  };
  // The value in units of 10^-scale, a base-10000 group (or its leading digits) at a time.
  // Before `count` more digits go in, it must stay below 10^(precision - count), so the
  // result stays below 10^precision and the 128-bit accumulator never overflows, whatever
  // the length of the number; a value of 0 takes any number of leading zeros.
  __int128 value = 0;
  const auto append = [&](int digits, int count) {
    if (value != 0) {
      if (count > precision || value >= kPow10[precision - count]) throw out_of_range();
      value = value * kPow10[count] + digits;
    } else {
      value = digits;
    }
  };
  static constexpr int kGroupPow10[] = {1, 10, 100, 1000};
  int round_digit = 0;  // the digit just below 10^-scale, which rounds half up
  bool cut = false;     // a group reached below 10^-scale
  for (int g = 0; g < ndigits && !cut; ++g) {
    const int group = be16(p + 8 + 2 * g);
    // The group's digits stand for 10^(low+3) .. 10^low; `kept` of them are at or above 10^-scale.
    const int low = 4 * (weight - g);
    const int kept = low + 4 + scale;
    if (kept >= 4) {
      append(group, 4);
      continue;
    }
    cut = true;
    if (kept > 0) append(group / kGroupPow10[4 - kept], kept);
    if (kept >= 0) round_digit = group / kGroupPow10[3 - kept] % 10;
  }
  // The number ended above 10^-scale: the digits down to it are zeros.
  if (!cut && ndigits > 0) {
    const int missing = 4 * (weight - ndigits + 1) + scale;
    if (missing > 0) append(0, missing);
  }
  if (value >= kPow10[precision]) throw out_of_range();
  if (round_digit >= 5 && ++value >= kPow10[precision]) throw out_of_range();
  if (sign == 0x4000) value = -value;
  check(static_cast<arrow::Decimal128Builder&>(builder).Append(
      arrow::Decimal128(static_cast<int64_t>(value >> 64), static_cast<uint64_t>(value))));
}

// One row per Arrow type datalab stores in PostgreSQL. `zoned` tells timestamps apart
// (1 with a zone, 0 without, -1 for every other type); `kind` says how the encoder writes a
// value (pg_binary_encode.h); `decode` is nullptr for an Arrow type written but never read
// back (large_utf8 reads back as utf8).
struct TypeRow {
  arrow::Type::type arrow_id;
  int zoned;
  const char* sql;
  std::vector<uint32_t> oids;  // the PostgreSQL types read as this Arrow type, the first one written
  PgKind kind;
  PgDecode decode;
};

const std::vector<TypeRow>& type_table() {
  static const std::vector<TypeRow> rows = {
      {arrow::Type::BOOL, -1, "boolean", {16}, PgKind::boolean, decode_bool},
      {arrow::Type::INT16, -1, "smallint", {21}, PgKind::int16, decode_fixed<arrow::Int16Type>},
      {arrow::Type::INT32, -1, "integer", {23}, PgKind::int32, decode_fixed<arrow::Int32Type>},
      {arrow::Type::INT64, -1, "bigint", {20}, PgKind::int64, decode_fixed<arrow::Int64Type>},
      {arrow::Type::FLOAT, -1, "real", {700}, PgKind::float32, decode_fixed<arrow::FloatType>},
      {arrow::Type::DOUBLE, -1, "double precision", {701}, PgKind::float64,
       decode_fixed<arrow::DoubleType>},
      {arrow::Type::STRING, -1, "text", {25, 1043, 1042, 19}, PgKind::text,
       decode_bytes<arrow::StringBuilder>},
      {arrow::Type::LARGE_STRING, -1, "text", {}, PgKind::large_text, nullptr},
      {arrow::Type::BINARY, -1, "bytea", {17}, PgKind::bytea, decode_bytes<arrow::BinaryBuilder>},
      {arrow::Type::DATE32, -1, "date", {1082}, PgKind::date, decode_date},
      {arrow::Type::TIMESTAMP, 0, "timestamp", {1114}, PgKind::timestamp, decode_timestamp},
      {arrow::Type::TIMESTAMP, 1, "timestamptz", {1184}, PgKind::timestamp, decode_timestamp},
      {arrow::Type::DECIMAL128, -1, "numeric", {1700}, PgKind::decimal, decode_decimal},
  };
  return rows;
}

const TypeRow* find_row(const arrow::DataType& type) {
  int zoned = -1;
  if (type.id() == arrow::Type::TIMESTAMP) zoned = static_cast<const arrow::TimestampType&>(type).timezone().empty() ? 0 : 1;
  for (const auto& row : type_table()) {
    if (row.arrow_id == type.id() && row.zoned == zoned) return &row;
  }
  return nullptr;
}

const TypeRow& row_for(const arrow::Field& field) {
  if (const TypeRow* row = find_row(*field.type())) return *row;
  throw Error(fmt::format("column '{}' has Arrow type {}, which datalab cannot store in PostgreSQL", field.name(),
                          field.type()->ToString()));
}

}  // namespace

std::string pg_column_type(const arrow::Field& field) {
  const TypeRow& row = row_for(field);
  if (row.arrow_id == arrow::Type::DECIMAL128) {
    const auto& decimal = static_cast<const arrow::Decimal128Type&>(*field.type());
    return fmt::format("numeric({},{})", decimal.precision(), decimal.scale());
  }
  return row.sql;
}

std::string pg_column_definitions(const arrow::Schema& schema) {
  std::string out;
  for (const auto& field : schema.fields()) {
    out += fmt::format("{}{} {}{}", out.empty() ? "" : ", ", quote_identifier(field->name()), pg_column_type(*field),
                       field->nullable() ? "" : " NOT NULL");
  }
  return out;
}

PgKind pg_kind(const arrow::Field& field) { return row_for(field).kind; }

PgDecode pg_decoder(const arrow::Field& field) {
  if (const TypeRow* row = find_row(*field.type()); row && row->decode) {
    if (row->arrow_id != arrow::Type::TIMESTAMP ||
        static_cast<const arrow::TimestampType&>(*field.type()).unit() == arrow::TimeUnit::MICRO) {
      return row->decode;
    }
  }
  throw Error(fmt::format("column '{}': datalab cannot read PostgreSQL values into Arrow type {}", field.name(),
                          field.type()->ToString()));
}

std::shared_ptr<arrow::DataType> arrow_type_of_pg(uint32_t oid, int typmod) {
  for (const auto& row : type_table()) {
    if (std::find(row.oids.begin(), row.oids.end(), oid) == row.oids.end()) continue;
    switch (row.arrow_id) {
      case arrow::Type::BOOL: return arrow::boolean();
      case arrow::Type::INT16: return arrow::int16();
      case arrow::Type::INT32: return arrow::int32();
      case arrow::Type::INT64: return arrow::int64();
      case arrow::Type::FLOAT: return arrow::float32();
      case arrow::Type::DOUBLE: return arrow::float64();
      case arrow::Type::STRING: return arrow::utf8();
      case arrow::Type::BINARY: return arrow::binary();
      case arrow::Type::DATE32: return arrow::date32();
      case arrow::Type::TIMESTAMP:
        return row.zoned ? arrow::timestamp(arrow::TimeUnit::MICRO, "UTC") : arrow::timestamp(arrow::TimeUnit::MICRO);
      case arrow::Type::DECIMAL128: {
        // typmod = ((precision << 16) | scale) + 4; an unconstrained numeric has none.
        if (typmod < 4) return nullptr;
        const int precision = ((typmod - 4) >> 16) & 0xffff, scale = (typmod - 4) & 0xffff;
        return precision <= 38 ? arrow::decimal128(precision, scale) : nullptr;
      }
      default: return nullptr;
    }
  }
  return nullptr;
}

std::string encode_pg_numeric(const std::string& unscaled, int scale) {
  const bool negative = !unscaled.empty() && unscaled[0] == '-';
  std::string digits = negative ? unscaled.substr(1) : unscaled;
  if (static_cast<int>(digits.size()) < scale + 1) digits.insert(0, scale + 1 - digits.size(), '0');
  std::string int_part = digits.substr(0, digits.size() - scale);
  std::string frac_part = digits.substr(digits.size() - scale);
  // Align to base-10000 groups: integer digits from the point leftwards, fraction rightwards.
  int_part.insert(0, (4 - int_part.size() % 4) % 4, '0');
  frac_part.append((4 - frac_part.size() % 4) % 4, '0');
  std::vector<int16_t> groups;
  for (std::size_t i = 0; i < int_part.size(); i += 4) groups.push_back(std::stoi(int_part.substr(i, 4)));
  for (std::size_t i = 0; i < frac_part.size(); i += 4) groups.push_back(std::stoi(frac_part.substr(i, 4)));
  int weight = static_cast<int>(int_part.size() / 4) - 1;
  std::size_t first = 0;
  while (first < groups.size() && groups[first] == 0) { ++first; --weight; }
  std::size_t last = groups.size();
  while (last > first && groups[last - 1] == 0) --last;
  std::string out;
  const bool zero = first == last;
  put16(out, static_cast<uint16_t>(last - first));
  put16(out, static_cast<uint16_t>(zero ? 0 : weight));
  put16(out, negative && !zero ? 0x4000 : 0x0000);
  put16(out, static_cast<uint16_t>(scale));
  for (std::size_t i = first; i < last; ++i) put16(out, static_cast<uint16_t>(groups[i]));
  return out;
}

void append_copy_binary_header(std::string& out) {
  static const char kSignature[] = "PGCOPY\n\377\r\n";
  out.append(kSignature, 11);
  put32(out, 0);  // flags: no OIDs
  put32(out, 0);  // header extension length
}

void append_copy_binary_trailer(std::string& out) { put16(out, 0xFFFF); }

}  // namespace datalab
