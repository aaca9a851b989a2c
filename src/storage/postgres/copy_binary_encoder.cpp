#include "storage/postgres/copy_binary_encoder.h"

#include <cstring>

#include <arrow/util/decimal.h>
#include <fmt/format.h>

#include "core/error.h"

namespace datalab {

namespace {

// Days and microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
constexpr int32_t kPgEpochDays = 10957;
constexpr int64_t kPgEpochMicros = 946684800LL * 1000000;

inline void put16(std::string& out, uint16_t v) {
  v = __builtin_bswap16(v);
  out.append(reinterpret_cast<const char*>(&v), 2);
}
inline void put32(std::string& out, uint32_t v) {
  v = __builtin_bswap32(v);
  out.append(reinterpret_cast<const char*>(&v), 4);
}
inline void put64(std::string& out, uint64_t v) {
  v = __builtin_bswap64(v);
  out.append(reinterpret_cast<const char*>(&v), 8);
}

int64_t micros_per_unit(arrow::TimeUnit::type unit) {
  switch (unit) {
    case arrow::TimeUnit::SECOND: return -1000000;  // negative: multiply
    case arrow::TimeUnit::MILLI: return -1000;
    case arrow::TimeUnit::MICRO: return 1;
    case arrow::TimeUnit::NANO: return 1000;        // positive: divide
  }
  return 1;
}

void check_supported(const arrow::Field& field) {
  switch (field.type()->id()) {
    case arrow::Type::BOOL: case arrow::Type::INT16: case arrow::Type::INT32:
    case arrow::Type::INT64: case arrow::Type::FLOAT: case arrow::Type::DOUBLE:
    case arrow::Type::STRING: case arrow::Type::LARGE_STRING: case arrow::Type::DATE32:
    case arrow::Type::TIMESTAMP: case arrow::Type::DECIMAL128:
      return;
    default:
      throw Error(fmt::format("column '{}' has Arrow type {}, which datalab cannot COPY to PostgreSQL",
                              field.name(), field.type()->ToString()));
  }
}

}  // namespace

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

CopyBinaryTuple& CopyBinaryTuple::timestamp_micros(int64_t unix_micros) {
  return int64(unix_micros - kPgEpochMicros);
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

CopyBinaryEncoder::CopyBinaryEncoder(std::shared_ptr<arrow::Schema> schema) : schema_(std::move(schema)) {
  for (const auto& field : schema_->fields()) check_supported(*field);
}

void CopyBinaryEncoder::append_header(std::string& out) {
  static const char kSignature[] = "PGCOPY\n\377\r\n";
  out.append(kSignature, 11);
  put32(out, 0);  // flags: no OIDs
  put32(out, 0);  // header extension length
}

void CopyBinaryEncoder::append_trailer(std::string& out) { put16(out, 0xFFFF); }

void CopyBinaryEncoder::append_batch(const arrow::RecordBatch& batch, std::string& out) const {
  const int ncols = batch.num_columns();
  if (!batch.schema()->Equals(*schema_, /*check_metadata=*/false)) {
    throw Error("COPY encoder: batch schema differs from the writer's schema: " +
                batch.schema()->ToString());
  }
  std::vector<const arrow::Array*> columns(ncols);
  for (int c = 0; c < ncols; ++c) columns[c] = batch.column(c).get();

  for (int64_t row = 0; row < batch.num_rows(); ++row) {
    put16(out, static_cast<uint16_t>(ncols));
    for (int c = 0; c < ncols; ++c) {
      const arrow::Array& array = *columns[c];
      if (array.IsNull(row)) {
        put32(out, 0xFFFFFFFF);
        continue;
      }
      switch (array.type_id()) {
        case arrow::Type::BOOL:
          put32(out, 1);
          out.push_back(static_cast<const arrow::BooleanArray&>(array).Value(row) ? 1 : 0);
          break;
        case arrow::Type::INT16:
          put32(out, 2);
          put16(out, static_cast<uint16_t>(static_cast<const arrow::Int16Array&>(array).Value(row)));
          break;
        case arrow::Type::INT32:
          put32(out, 4);
          put32(out, static_cast<uint32_t>(static_cast<const arrow::Int32Array&>(array).Value(row)));
          break;
        case arrow::Type::INT64:
          put32(out, 8);
          put64(out, static_cast<uint64_t>(static_cast<const arrow::Int64Array&>(array).Value(row)));
          break;
        case arrow::Type::FLOAT: {
          const float v = static_cast<const arrow::FloatArray&>(array).Value(row);
          uint32_t bits;
          std::memcpy(&bits, &v, 4);
          put32(out, 4);
          put32(out, bits);
          break;
        }
        case arrow::Type::DOUBLE: {
          const double v = static_cast<const arrow::DoubleArray&>(array).Value(row);
          uint64_t bits;
          std::memcpy(&bits, &v, 8);
          put32(out, 8);
          put64(out, bits);
          break;
        }
        case arrow::Type::STRING: {
          const auto view = static_cast<const arrow::StringArray&>(array).GetView(row);
          put32(out, static_cast<uint32_t>(view.size()));
          out.append(view.data(), view.size());
          break;
        }
        case arrow::Type::LARGE_STRING: {
          const auto view = static_cast<const arrow::LargeStringArray&>(array).GetView(row);
          put32(out, static_cast<uint32_t>(view.size()));
          out.append(view.data(), view.size());
          break;
        }
        case arrow::Type::DATE32:
          put32(out, 4);
          put32(out, static_cast<uint32_t>(static_cast<const arrow::Date32Array&>(array).Value(row) -
                                           kPgEpochDays));
          break;
        case arrow::Type::TIMESTAMP: {
          const auto& ts = static_cast<const arrow::TimestampArray&>(array);
          const int64_t factor =
              micros_per_unit(static_cast<const arrow::TimestampType&>(*ts.type()).unit());
          const int64_t v = ts.Value(row);
          const int64_t micros = factor < 0 ? v * -factor : v / factor;
          put32(out, 8);
          put64(out, static_cast<uint64_t>(micros - kPgEpochMicros));
          break;
        }
        case arrow::Type::DECIMAL128: {
          const auto& dec = static_cast<const arrow::Decimal128Array&>(array);
          const auto& type = static_cast<const arrow::Decimal128Type&>(*dec.type());
          const arrow::Decimal128 value(dec.GetValue(row));
          const std::string encoded = encode_pg_numeric(value.ToIntegerString(), type.scale());
          put32(out, static_cast<uint32_t>(encoded.size()));
          out += encoded;
          break;
        }
        default:
          break;  // rejected in the constructor
      }
    }
  }
}

}  // namespace datalab
