#pragma once
// Seeded orders spread over periods of whole years, as Arrow record batches, for the
// partition module. Each spread is one of the original's generation calls ("1 000 orders
// over 10 years from 2015"). Orders arrive in time order: row i of a spread gets the
// i-th equal share of its period, so order ids grow with the load date, every day of a
// dense spread (31 December included) gets orders, and the rows of any date range are a
// contiguous slice that can be generated on its own — straight into its partition.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/api.h>

namespace datalab {

struct OrderSpread {
  int64_t count = 0;
  int years = 1;
  int start_year = 2024;

  // The period is [1 January start_year, 1 January start_year + years), as days since 1970.
  int32_t first_day() const;
  int32_t end_day() const;
  int32_t load_date(int64_t row) const;
  // First row whose load date is on or after `day`, clamped to [0, count].
  int64_t first_row_on_or_after(int32_t day) const;
  // "COUNT:YEARS:START_YEAR", the form of the --spread flag.
  std::string to_string() const;
};

// "COUNT:YEARS:START_YEAR" -> OrderSpread; throws ConfigError on anything else.
OrderSpread parse_order_spread(std::string_view text);
// The original project's four generation calls: 2 011 000 orders over 2015–2025.
std::vector<OrderSpread> original_order_spreads();

class OrderSpreadGenerator {
 public:
  OrderSpreadGenerator(std::vector<OrderSpread> spreads, uint64_t seed);

  // order_id int64, customer_id int32, amount decimal(12,2), status utf8, load_date date32.
  static std::shared_ptr<arrow::Schema> schema();

  // A run of consecutive rows of one spread: [begin, end).
  struct Slice {
    std::size_t spread;
    int64_t begin, end;
    int64_t rows() const { return end - begin; }
  };
  // The rows whose load date falls in [from_day, to_day), one slice per spread that has any.
  std::vector<Slice> rows_between(int32_t from_day, int32_t to_day) const;
  // Rows [begin, begin + count) of one spread; order ids are global and start at 1.
  std::shared_ptr<arrow::RecordBatch> orders(std::size_t spread, int64_t begin, int64_t count) const;

  const std::vector<OrderSpread>& spreads() const { return spreads_; }
  int64_t total_rows() const;
  // The calendar years the spreads' periods cover (first and last inclusive); 0/-1 when none.
  int first_year() const;
  int last_year() const;

  static constexpr int32_t kCustomers = 100'000;
  static constexpr int64_t kMinAmountCents = 100, kMaxAmountCents = 99'999;

 private:
  std::vector<OrderSpread> spreads_;
  std::vector<int64_t> id_offsets_;  // order ids of spread s start after id_offsets_[s]
  uint64_t seed_;
};

}  // namespace datalab
