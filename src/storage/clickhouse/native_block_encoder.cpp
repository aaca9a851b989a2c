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
  };
  return rows;
}

const TypeRow* find_row(const arrow::DataType& type) {
  if (type.id() == arrow::Type::TIMESTAMP &&
      static_cast<const arrow::TimestampType&>(type).unit() != arrow::TimeUnit::SECOND) {
    return nullptr;
  }
  for (const auto& row : type_table()) {
    if (row.arrow_id == type.id()) return &row;
  }
  return nullptr;
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
  const TypeRow* row = find_row(type);
  return row ? row->clickhouse : "";
}

NativeBlockEncoder::NativeBlockEncoder(std::shared_ptr<arrow::Schema> schema) : schema_(std::move(schema)) {
  for (const auto& field : schema_->fields()) {
    const TypeRow* row = find_row(*field->type());
    if (!row) {
      throw Error(fmt::format("column '{}': Arrow type {} cannot be sent to ClickHouse", field->name(),
                              field->type()->ToString()));
    }
    types_.push_back(field->nullable() ? fmt::format("Nullable({})", row->clickhouse) : row->clickhouse);
    appenders_.push_back(row->append);
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
    appenders_[static_cast<std::size_t>(c)](out, array);
  }
}

}  // namespace datalab::clickhouse
