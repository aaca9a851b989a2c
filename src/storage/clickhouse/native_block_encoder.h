#pragma once
// Encodes Arrow record batches as blocks of ClickHouse's Native format: columnar, so
// fixed-width columns are copied whole and the server skips per-row parsing. Over HTTP a
// block is: column count, row count (varints), then per column its name, type and data.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/api.h>

namespace datalab::clickhouse {

class NativeBlockEncoder {
 public:
  // Throws Error naming the column when a type has no ClickHouse counterpart here.
  explicit NativeBlockEncoder(std::shared_ptr<arrow::Schema> schema);

  // Appends one block for the batch to `out` (the batch must have the encoder's schema). A
  // value the ClickHouse type cannot hold (a Date before 1970, a NULL in a column that is
  // not Nullable) is a ConfigError naming the column and the rows, counted from first_row + 1.
  void encode(const arrow::RecordBatch& batch, std::string& out, int64_t first_row = 0) const;
  // "DateTime", "Nullable(String)", ... for each column, in schema order.
  const std::vector<std::string>& clickhouse_types() const { return types_; }
  // The ClickHouse type of an Arrow type: int/uint/float widths, string, bool -> UInt8,
  // timestamp[s] -> DateTime, date32 -> Date, decimal128(p,s) -> Decimal(p, s), binary ->
  // String; an empty string when there is none.
  static std::string clickhouse_type(const arrow::DataType& type);
  // The other way: the Arrow field a column of ClickHouse type `type` reads as ("Nullable(T)"
  // gives a nullable field; DateTime is timestamp[s] without a zone), nullptr when the type is
  // not one of the above (Array, Enum, DateTime('zone'), LowCardinality, ...).
  static std::shared_ptr<arrow::Field> arrow_field(const std::string& name, std::string_view type);

 private:
  std::shared_ptr<arrow::Schema> schema_;
  std::vector<std::string> types_;
  std::vector<void (*)(std::string&, const arrow::Array&)> appenders_;  // one per column, from the type table
};

// LEB128, as ClickHouse writes sizes and string lengths.
void append_varuint(std::string& out, uint64_t value);

}  // namespace datalab::clickhouse
