#include "storage/clickhouse/native_block_encoder.h"

#include <cstring>
#include <optional>
#include <regex>

#include <fmt/format.h>

#include "core/dates.h"
#include "core/error.h"

namespace datalab::clickhouse {

namespace {

void append_bytes(std::string& out, const void* data, std::size_t size) {
  out.append(static_cast<const char*>(data), size);
}

void append_string(std::string& out, std::string_view text) {
  append_varuint(out, text.size());
  out.append(text);
}

// Values of a fixed-width column, straight from the Arrow buffer (both little-endian).
template <typename ArrowType>
void append_fixed(std::string& out, const arrow::Array& array) {
  using C = typename ArrowType::c_type;
  const C* values = array.data()->GetValues<C>(1);
  append_bytes(out, values, sizeof(C) * static_cast<std::size_t>(array.length()));
}

// A value the ClickHouse type cannot hold: thrown by an appender with the row in the
// array, turned into an error naming the column (and the rows) by encode().
struct OutOfRange {
  int64_t row;
  std::string value, range;
};

// Date is UInt16 days since 1970; Arrow's date32 is int32 days, which may lie outside.
void append_dates(std::string& out, const arrow::Array& array) {
  const int32_t* days = array.data()->GetValues<int32_t>(1);
  const auto old = out.size();
  out.resize(old + 2 * static_cast<std::size_t>(array.length()));
  char* p = out.data() + old;
  for (int64_t i = 0; i < array.length(); ++i, p += 2) {
    const int32_t value = array.IsNull(i) ? 0 : days[i];
    if (value < 0 || value > 0xFFFF) {
      throw OutOfRange{i, format_iso_date(value), "Date holds 1970-01-01 to 2149-06-06"};
    }
    const auto day = static_cast<uint16_t>(value);
    std::memcpy(p, &day, 2);
  }
}

// DateTime is UInt32 seconds; Arrow's timestamp[s] is int64, which may lie outside.
void append_datetimes(std::string& out, const arrow::Array& array) {
  const int64_t* seconds = array.data()->GetValues<int64_t>(1);
  const auto old = out.size();
  out.resize(old + 4 * static_cast<std::size_t>(array.length()));
  char* p = out.data() + old;
  for (int64_t i = 0; i < array.length(); ++i, p += 4) {
    const int64_t value = array.IsNull(i) ? 0 : seconds[i];
    if (value < 0 || value > 0xFFFFFFFFLL) {
      throw OutOfRange{i, fmt::format("{} seconds since 1970", value),
                       "DateTime holds 1970-01-01 00:00:00 to 2106-02-07 06:28:15 UTC"};
    }
    const auto stored = static_cast<uint32_t>(value);
    std::memcpy(p, &stored, 4);
  }
}

// Decimal(P,S) is the unscaled value as a little-endian integer of 4 (P <= 9), 8 (P <= 18)
// or 16 bytes; Arrow's decimal128 is 16 little-endian bytes, so its low bytes are that integer.
template <std::size_t Width>
void append_decimals(std::string& out, const arrow::Array& array) {
  const auto& decimals = static_cast<const arrow::Decimal128Array&>(array);
  const auto old = out.size();
  out.resize(old + Width * static_cast<std::size_t>(array.length()));
  char* p = out.data() + old;
  for (int64_t i = 0; i < array.length(); ++i, p += Width) std::memcpy(p, decimals.GetValue(i), Width);
}

void append_bools(std::string& out, const arrow::Array& array) {
  const auto& bools = static_cast<const arrow::BooleanArray&>(array);
  for (int64_t i = 0; i < bools.length(); ++i) out += static_cast<char>(bools.IsValid(i) && bools.Value(i));
}

template <typename StringArray>
void append_strings(std::string& out, const arrow::Array& array) {
  const auto& strings = static_cast<const StringArray&>(array);
  for (int64_t i = 0; i < strings.length(); ++i) {
    append_string(out, strings.IsNull(i) ? std::string_view{} : strings.GetView(i));
  }
}

// The one table of the Arrow types this connector sends: the ClickHouse type each becomes
// and how its values are written. Timestamps go only in whole seconds (DateTime): another
// unit would lose or invent precision.
using AppendValues = void (*)(std::string& out, const arrow::Array& array);
struct TypeRow {
  arrow::Type::type arrow_id;
  const char* clickhouse;
  AppendValues append;
};

const std::vector<TypeRow>& type_table() {
  static const std::vector<TypeRow> rows = {
      {arrow::Type::INT8, "Int8", append_fixed<arrow::Int8Type>},
      {arrow::Type::INT16, "Int16", append_fixed<arrow::Int16Type>},
      {arrow::Type::INT32, "Int32", append_fixed<arrow::Int32Type>},
      {arrow::Type::INT64, "Int64", append_fixed<arrow::Int64Type>},
      {arrow::Type::UINT8, "UInt8", append_fixed<arrow::UInt8Type>},
      {arrow::Type::UINT16, "UInt16", append_fixed<arrow::UInt16Type>},
      {arrow::Type::UINT32, "UInt32", append_fixed<arrow::UInt32Type>},
      {arrow::Type::UINT64, "UInt64", append_fixed<arrow::UInt64Type>},
      {arrow::Type::FLOAT, "Float32", append_fixed<arrow::FloatType>},
      {arrow::Type::DOUBLE, "Float64", append_fixed<arrow::DoubleType>},
      {arrow::Type::BOOL, "UInt8", append_bools},
      {arrow::Type::DATE32, "Date", append_dates},
      {arrow::Type::TIMESTAMP, "DateTime", append_datetimes},
      {arrow::Type::STRING, "String", append_strings<arrow::StringArray>},
      {arrow::Type::LARGE_STRING, "String", append_strings<arrow::LargeStringArray>},
      {arrow::Type::BINARY, "String", append_strings<arrow::BinaryArray>},
      {arrow::Type::DECIMAL128, "Decimal", nullptr},  // width and name from the precision: see decimal_row
  };
  return rows;
}

// The ClickHouse type and writer of an Arrow type; a decimal's follow from its precision.
struct Mapping {
  std::string clickhouse;
  AppendValues append = nullptr;
};

std::optional<Mapping> find_mapping(const arrow::DataType& type) {
  if (type.id() == arrow::Type::TIMESTAMP &&
      static_cast<const arrow::TimestampType&>(type).unit() != arrow::TimeUnit::SECOND) {
    return std::nullopt;
  }
  if (type.id() == arrow::Type::DECIMAL128) {
    const auto& decimal = static_cast<const arrow::Decimal128Type&>(type);
    const int p = decimal.precision();
    // Spelled as system.columns spells it, so a table's type and ours compare as text.
    return Mapping{fmt::format("Decimal({}, {})", p, decimal.scale()),
                   p <= 9 ? append_decimals<4> : p <= 18 ? append_decimals<8> : append_decimals<16>};
  }
  for (const auto& row : type_table()) {
    if (row.arrow_id == type.id() && row.append) return Mapping{row.clickhouse, row.append};
  }
  return std::nullopt;
}

}  // namespace

void append_varuint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

std::string NativeBlockEncoder::clickhouse_type(const arrow::DataType& type) {
  const auto mapping = find_mapping(type);
  return mapping ? mapping->clickhouse : "";
}

std::shared_ptr<arrow::Field> NativeBlockEncoder::arrow_field(const std::string& name, std::string_view type) {
  bool nullable = false;
  if (type.starts_with("Nullable(") && type.ends_with(")")) {
    nullable = true;
    type = type.substr(9, type.size() - 10);
  }
  static const std::vector<std::pair<std::string_view, std::shared_ptr<arrow::DataType>>> simple = {
      {"Int8", arrow::int8()},       {"Int16", arrow::int16()},     {"Int32", arrow::int32()},
      {"Int64", arrow::int64()},     {"UInt8", arrow::uint8()},     {"UInt16", arrow::uint16()},
      {"UInt32", arrow::uint32()},   {"UInt64", arrow::uint64()},   {"Float32", arrow::float32()},
      {"Float64", arrow::float64()}, {"String", arrow::utf8()},     {"Date", arrow::date32()},
      {"DateTime", arrow::timestamp(arrow::TimeUnit::SECOND)},
  };
  for (const auto& [text, arrow_type] : simple) {
    if (type == text) return arrow::field(name, arrow_type, nullable);
  }
  // Decimal(P, S), and the Decimal32(S)/64/128 aliases with their fixed precisions.
  static const std::regex decimal(R"(Decimal(32|64|128)?\((\d+)(?:,\s*(\d+))?\))");
  std::match_results<std::string_view::const_iterator> match;
  if (std::regex_match(type.begin(), type.end(), match, decimal)) {
    int precision = 0, scale = 0;
    if (match[1].matched) {
      if (match[3].matched) return nullptr;
      precision = match[1] == "32" ? 9 : match[1] == "64" ? 18 : 38;
      scale = std::stoi(match[2]);
    } else {
      precision = std::stoi(match[2]);
      scale = match[3].matched ? std::stoi(match[3]) : 0;
    }
    if (precision < 1 || precision > 38 || scale > precision) return nullptr;
    return arrow::field(name, arrow::decimal128(precision, scale), nullable);
  }
  return nullptr;
}

NativeBlockEncoder::NativeBlockEncoder(std::shared_ptr<arrow::Schema> schema) : schema_(std::move(schema)) {
  for (const auto& field : schema_->fields()) {
    const auto row = find_mapping(*field->type());
    if (!row) {
      throw Error(fmt::format("column '{}': Arrow type {} cannot be sent to ClickHouse", field->name(),
                              field->type()->ToString()));
    }
    types_.push_back(field->nullable() ? fmt::format("Nullable({})", row->clickhouse) : row->clickhouse);
    appenders_.push_back(row->append);
  }
}

void NativeBlockEncoder::encode(const arrow::RecordBatch& batch, std::string& out, int64_t first_row) const {
  if (!batch.schema()->Equals(*schema_, /*check_metadata=*/false)) {
    throw Error("record batch schema differs from the insert's schema: " + batch.schema()->ToString());
  }
  append_varuint(out, static_cast<uint64_t>(batch.num_columns()));
  append_varuint(out, static_cast<uint64_t>(batch.num_rows()));
  for (int c = 0; c < batch.num_columns(); ++c) {
    const arrow::Array& array = *batch.column(c);
    append_string(out, schema_->field(c)->name());
    append_string(out, types_[static_cast<std::size_t>(c)]);
    if (schema_->field(c)->nullable()) {
      // Nullable(T): a byte per row (1 = NULL), then T's values with placeholders at NULLs.
      for (int64_t i = 0; i < array.length(); ++i) out += static_cast<char>(array.IsNull(i));
    } else if (array.null_count() > 0) {
      throw ConfigError(fmt::format("column '{}' is not Nullable in ClickHouse but has {} NULLs in rows {}-{}",
                                    schema_->field(c)->name(), array.null_count(), first_row + 1,
                                    first_row + batch.num_rows()));
    }
    try {
      appenders_[static_cast<std::size_t>(c)](out, array);
    } catch (const OutOfRange& e) {
      throw ConfigError(fmt::format("column '{}': {} (row {}, in rows {}-{}) does not fit ClickHouse's {}: {}",
                                    schema_->field(c)->name(), e.value, first_row + e.row + 1, first_row + 1,
                                    first_row + batch.num_rows(), types_[static_cast<std::size_t>(c)], e.range));
    }
  }
}

}  // namespace datalab::clickhouse
