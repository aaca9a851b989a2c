#pragma once
// The star schema's input rows (customers, products, sales) read from CSV text and validated;
// shared by the star and data_vault modules, which load the same story two ways.
// The original project's files quote values with single quotes and leave stray spaces
// ("1,'Bruce Banner', 'bruce@x.com'"): every value is trimmed and unquoted first.
// A key that appears more than once is a history: its k-th row is change round k.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace datalab::inputs {

struct CustomerRecord {
  int64_t customer_id;
  std::string name, email, phone;
};
struct ProductRecord {
  int64_t product_id;
  std::string name, category;
};
struct SaleRecord {
  int64_t sale_id, customer_id, product_id;
  int32_t quantity;
  int64_t amount_cents;  // numeric(12,2) as its unscaled value: no float rounding
  int64_t sale_time_us;  // microseconds since 1970-01-01 (timestamp without time zone)
};

struct InputRejection {
  std::string file;    // customers | products | sales
  std::size_t row;     // 1-based data row (header not counted)
  std::string reason;  // names the field and the value
};

struct StarInput {
  std::vector<CustomerRecord> customers;  // accepted, in input order
  std::vector<ProductRecord> products;
  std::vector<SaleRecord> sales;
  std::vector<InputRejection> rejected;
  std::vector<std::string> warnings;  // e.g. columns that were ignored
};

// Trims spaces, then one pair of surrounding single or double quotes, then spaces again.
std::string clean_value(std::string_view raw);
// "12500", "12500.5", "12500.00" -> cents; nullopt-like -1 for anything else (negative,
// more than two decimals, not a number, too large for numeric(12,2)).
int64_t parse_amount_cents(std::string_view text);
// "2024-01-15", "2024-01-15 10:30:00" or "2024-01-15T10:30:00" -> microseconds; -1 when invalid.
int64_t parse_sale_time(std::string_view text);
std::string format_cents(int64_t cents);

// Parses the three CSV texts (header line first); `origin` prefixes error messages.
StarInput parse_star_input(const std::string& customers_csv, const std::string& products_csv,
                           const std::string& sales_csv, const std::string& origin);
// The fixtures shipped in the binary: three customers and three products, each changed
// once, and three sales.
StarInput fixture_input();
// customers.csv / products.csv / sales.csv in a folder (star_ prefixed names accepted).
StarInput read_star_directory(const std::string& folder);

// Change round (1-based) of each row: the k-th occurrence of a key is round k.
std::vector<int32_t> change_rounds(const std::vector<int64_t>& keys);

}  // namespace datalab::inputs
