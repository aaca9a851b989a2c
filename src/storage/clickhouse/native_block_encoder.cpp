#include "storage/clickhouse/native_block_encoder.h"

#include <cstring>

#include <fmt/format.h>

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

// Date is UInt16 days since 1970; Arrow's date32 is int32 days.
void append_dates(std::string& out, const arrow::Array& array) {
  const int32_t* days = array.data()->GetValues<int32_t>(1);
  const auto old = out.size();
  out.resize(old + 2 * static_cast<std::size_t>(array.length()));
  char* p = out.data() + old;
  for (int64_t i = 0; i < array.length(); ++i, p += 2) {
    const auto day = static_cast<uint16_t>(array.IsNull(i) ? 0 : days[i]);
    std::memcpy(p, &day, 2);
  }
}

// DateTime is UInt32 seconds; Arrow's timestamp[s] is int64.
void append_datetimes(std::string& out, const arrow::Array& array) {
  const int64_t* seconds = array.data()->GetValues<int64_t>(1);
  const auto old = out.size();
  out.resize(old + 4 * static_cast<std::size_t>(array.length()));
  char* p = out.data() + old;
  for (int64_t i = 0; i < array.length(); ++i, p += 4) {
    const auto value = static_cast<uint32_t>(array.IsNull(i) ? 0 : seconds[i]);
    std::memcpy(p, &value, 4);
  }
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

void append_values(std::string& out, const arrow::Array& array) {
  switch (array.type_id()) {
    case arrow::Type::INT8: return append_fixed<arrow::Int8Type>(out, array);
    case arrow::Type::INT16: return append_fixed<arrow::Int16Type>(out, array);
    case arrow::Type::INT32: return append_fixed<arrow::Int32Type>(out, array);
    case arrow::Type::INT64: return append_fixed<arrow::Int64Type>(out, array);
    case arrow::Type::UINT8: return append_fixed<arrow::UInt8Type>(out, array);
    case arrow::Type::UINT16: return append_fixed<arrow::UInt16Type>(out, array);
    case arrow::Type::UINT32: return append_fixed<arrow::UInt32Type>(out, array);
    case arrow::Type::UINT64: return append_fixed<arrow::UInt64Type>(out, array);
    case arrow::Type::FLOAT: return append_fixed<arrow::FloatType>(out, array);
    case arrow::Type::DOUBLE: return append_fixed<arrow::DoubleType>(out, array);
    case arrow::Type::BOOL: return append_bools(out, array);
    case arrow::Type::DATE32: return append_dates(out, array);
    case arrow::Type::TIMESTAMP: return append_datetimes(out, array);
    case arrow::Type::STRING: return append_strings<arrow::StringArray>(out, array);
    case arrow::Type::LARGE_STRING: return append_strings<arrow::LargeStringArray>(out, array);
    default: throw Error("unsupported Arrow type " + array.type()->ToString());
  }
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
  switch (type.id()) {
    case arrow::Type::INT8: return "Int8";
    case arrow::Type::INT16: return "Int16";
    case arrow::Type::INT32: return "Int32";
    case arrow::Type::INT64: return "Int64";
    case arrow::Type::UINT8: return "UInt8";
    case arrow::Type::UINT16: return "UInt16";
    case arrow::Type::UINT32: return "UInt32";
    case arrow::Type::UINT64: return "UInt64";
    case arrow::Type::FLOAT: return "Float32";
    case arrow::Type::DOUBLE: return "Float64";
    case arrow::Type::BOOL: return "UInt8";
    case arrow::Type::DATE32: return "Date";
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING: return "String";
    case arrow::Type::TIMESTAMP:
      // Only whole seconds map onto DateTime without losing or inventing precision.
      return static_cast<const arrow::TimestampType&>(type).unit() == arrow::TimeUnit::SECOND ? "DateTime" : "";
    default: return "";
  }
}

NativeBlockEncoder::NativeBlockEncoder(std::shared_ptr<arrow::Schema> schema) : schema_(std::move(schema)) {
  for (const auto& field : schema_->fields()) {
    const std::string type = clickhouse_type(*field->type());
    if (type.empty()) {
      throw Error(fmt::format("column '{}': Arrow type {} cannot be sent to ClickHouse", field->name(),
                              field->type()->ToString()));
    }
    types_.push_back(field->nullable() ? "Nullable(" + type + ")" : type);
  }
}

void NativeBlockEncoder::encode(const arrow::RecordBatch& batch, std::string& out) const {
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
      throw Error(fmt::format("column '{}' is declared NOT NULL but has {} nulls", schema_->field(c)->name(),
                              array.null_count()));
    }
    append_values(out, array);
  }
}

}  // namespace datalab::clickhouse
