#include "storage/postgres/postgres_copy_reader.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/arrow_status.h"
#include "core/error.h"

namespace datalab {

namespace {

constexpr int64_t kPgEpochMicros = 946684800000000LL;  // 2000-01-01 in Unix microseconds
constexpr int32_t kPgEpochDays = 10957;

uint16_t be16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}
uint32_t be32(const char* p) { return (uint32_t{be16(p)} << 16) | be16(p + 2); }
uint64_t be64(const char* p) { return (uint64_t{be32(p)} << 32) | be32(p + 4); }

void check(const arrow::Status& status) { check_arrow(status, "cannot build Arrow batch"); }

__int128 pow10_128(int n) {
  __int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

}  // namespace

// One column: its builder and how it decodes a binary COPY value.
struct PostgresCopyReader::Column {
  std::string name;
  std::shared_ptr<arrow::DataType> type;
  std::unique_ptr<arrow::ArrayBuilder> builder;
  int32_t scale = 0;  // decimals
  int32_t precision = 38;  // decimal digits in all

  void append_null() { check(builder->AppendNull()); }

  void append(const char* p, int32_t len) {
    switch (type->id()) {
      case arrow::Type::INT64:
        expect(len, 8);
        check(static_cast<arrow::Int64Builder&>(*builder).Append(static_cast<int64_t>(be64(p))));
        break;
      case arrow::Type::INT32:
        expect(len, 4);
        check(static_cast<arrow::Int32Builder&>(*builder).Append(static_cast<int32_t>(be32(p))));
        break;
      case arrow::Type::INT16:
        expect(len, 2);
        check(static_cast<arrow::Int16Builder&>(*builder).Append(static_cast<int16_t>(be16(p))));
        break;
      case arrow::Type::BOOL:
        expect(len, 1);
        check(static_cast<arrow::BooleanBuilder&>(*builder).Append(p[0] != 0));
        break;
      case arrow::Type::DOUBLE: {
        expect(len, 8);
        const uint64_t bits = be64(p);
        double v;
        std::memcpy(&v, &bits, sizeof v);
        check(static_cast<arrow::DoubleBuilder&>(*builder).Append(v));
        break;
      }
      case arrow::Type::STRING:
        check(static_cast<arrow::StringBuilder&>(*builder).Append(p, len));
        break;
      case arrow::Type::DATE32:
        expect(len, 4);
        check(static_cast<arrow::Date32Builder&>(*builder).Append(static_cast<int32_t>(be32(p)) + kPgEpochDays));
        break;
      case arrow::Type::TIMESTAMP:
        expect(len, 8);
        check(static_cast<arrow::TimestampBuilder&>(*builder).Append(static_cast<int64_t>(be64(p)) + kPgEpochMicros));
        break;
      case arrow::Type::DECIMAL128:
        append_numeric(p, len);
        break;
      default:
        throw Error(fmt::format("column {}: Arrow type {} is not supported by the COPY reader", name, type->ToString()));
    }
  }

  // numeric: ndigits, weight, sign, dscale (int16 each), then ndigits base-10000 digits.
  void append_numeric(const char* p, int32_t len) {
    if (len < 8) throw Error(fmt::format("column {}: short numeric value", name));
    const int ndigits = static_cast<int16_t>(be16(p));
    const int weight = static_cast<int16_t>(be16(p + 2));
    const uint16_t sign = be16(p + 4);
    if (sign != 0x0000 && sign != 0x4000) {  // NaN 0xC000, Infinity 0xD000, -Infinity 0xF000
      const char* special = sign == 0xC000 ? "NaN" : sign == 0xD000 ? "Infinity" : sign == 0xF000 ? "-Infinity" : "?";
      throw Error(fmt::format("column {}: numeric {} cannot be stored as {}", name, special, type->ToString()));
    }
    if (len < 8 + 2 * ndigits) throw Error(fmt::format("column {}: short numeric value", name));
    // Digits past the first one below the scale cannot change the half-up rounding: skip them,
    // so a long fraction never overflows the 128-bit accumulator.
    const int used = std::clamp(weight + 1 + (scale + 4) / 4 + 1, 0, ndigits);
    const __int128 limit = pow10_128(precision);  // |value| must stay below 10^precision
    const auto out_of_range = [&] {
      return Error(fmt::format("column {}: a numeric value does not fit {} (cast it in the query)", name,
                               type->ToString()));
    };
    __int128 value = 0;
    for (int i = 0; i < used; ++i) {
      if (value > pow10_128(38) / 10000) throw out_of_range();
      value = value * 10000 + be16(p + 8 + 2 * i);
    }
    // The last digit used sits at 10000^(weight - used + 1); rescale to 10^-scale.
    const int shift = 4 * (weight - used + 1) + scale;
    if (used > 0) {
      if (shift >= 0) {
        if (shift > 38 || value > limit / pow10_128(shift)) throw out_of_range();
        value *= pow10_128(shift);
      } else {
        const __int128 div = pow10_128(std::min(-shift, 38));
        const __int128 rem = value % div;
        value /= div;
        if (rem * 2 >= div) ++value;  // round half up, like numeric's own rounding
      }
    }
    if (value >= limit) throw out_of_range();
    if (sign == 0x4000) value = -value;
    const arrow::Decimal128 d(static_cast<int64_t>(value >> 64), static_cast<uint64_t>(value));
    check(static_cast<arrow::Decimal128Builder&>(*builder).Append(d));
  }

  void expect(int32_t len, int32_t want) const {
    if (len != want) {
      throw Error(fmt::format("column {}: the query returns a {}-byte value where {} needs {} bytes "
                              "(cast the column in the query)", name, len, type->ToString(), want));
    }
  }
};

PostgresCopyReader::PostgresCopyReader(PgConnection& db, const std::string& query,
                                       std::shared_ptr<arrow::Schema> schema, int64_t batch_rows)
    : db_(db), schema_(std::move(schema)), batch_rows_(batch_rows > 0 ? batch_rows : 65536) {
  for (const auto& field : schema_->fields()) {
    auto column = std::make_unique<Column>();
    column->name = field->name();
    column->type = field->type();
    if (field->type()->id() == arrow::Type::DECIMAL128) {
      column->scale = static_cast<const arrow::Decimal128Type&>(*field->type()).scale();
      column->precision = static_cast<const arrow::Decimal128Type&>(*field->type()).precision();
    }
    auto builder = arrow::MakeBuilder(field->type());
    if (!builder.ok()) throw Error("cannot build Arrow batch: " + builder.status().ToString());
    column->builder = std::move(*builder);
    columns_.push_back(std::move(column));
  }
  db_.exec(fmt::format("COPY ({}) TO STDOUT (FORMAT binary)", query));
}

PostgresCopyReader::~PostgresCopyReader() {
  if (done_) return;
  // Abandoned early: drain the rest of the COPY so the connection stays usable.
  try {
    PQrequestCancel(db_.raw());
    char* buffer = nullptr;
    while (PQgetCopyData(db_.raw(), &buffer, 0) > 0) PQfreemem(buffer);
    while (PGresult* r = PQgetResult(db_.raw())) PQclear(r);
  } catch (...) {
  }
}

bool PostgresCopyReader::read_row() {
  char* buffer = nullptr;
  const int len = PQgetCopyData(db_.raw(), &buffer, 0);
  if (len == -1) {
    finish_copy();
    return false;
  }
  if (len < 0) throw_postgres_error(db_.raw(), nullptr, "COPY from PostgreSQL failed");
  std::unique_ptr<char, decltype(&PQfreemem)> owned(buffer, &PQfreemem);
  const char* p = buffer;
  const char* end = buffer + len;
  if (!header_done_) {
    if (len < 19 || std::memcmp(p, "PGCOPY\n\377\r\n\0", 11) != 0) throw Error("COPY binary: bad header");
    const uint32_t extension = be32(p + 15);
    p += 19 + extension;
    header_done_ = true;
    if (p >= end) return read_row();  // header in a message of its own
  }
  const int16_t fields = static_cast<int16_t>(be16(p));
  p += 2;
  if (fields == -1) {  // trailer
    return read_row();
  }
  if (fields != static_cast<int16_t>(columns_.size())) {
    throw Error(fmt::format("COPY binary: the query returns {} columns, the schema has {}", fields, columns_.size()));
  }
  for (auto& column : columns_) {
    if (end - p < 4) throw Error("COPY binary: truncated row");
    const int32_t size = static_cast<int32_t>(be32(p));
    p += 4;
    if (size < 0) {
      column->append_null();
      continue;
    }
    if (end - p < size) throw Error("COPY binary: truncated value");
    column->append(p, size);
    p += size;
  }
  ++rows_;
  return true;
}

void PostgresCopyReader::finish_copy() {
  done_ = true;
  const PgResult result(PQgetResult(db_.raw()));
  const bool ok = PQresultStatus(result.get()) == PGRES_COMMAND_OK;
  while (PGresult* r = PQgetResult(db_.raw())) PQclear(r);
  // A query failing part way (a division by zero in row n) arrives here, SQLSTATE and all.
  if (!ok) throw_postgres_error(db_.raw(), result.get(), "COPY from PostgreSQL failed");
}

std::shared_ptr<arrow::RecordBatch> PostgresCopyReader::next() {
  if (done_) return nullptr;
  int64_t n = 0;
  while (n < batch_rows_ && read_row()) ++n;
  if (n == 0) return nullptr;
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  for (auto& column : columns_) {
    std::shared_ptr<arrow::Array> array;
    check(column->builder->Finish(&array));
    arrays.push_back(std::move(array));
  }
  return arrow::RecordBatch::Make(schema_, n, std::move(arrays));
}

}  // namespace datalab
