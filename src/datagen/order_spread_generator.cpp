#include "datagen/order_spread_generator.h"

#include <algorithm>
#include <charconv>

#include <arrow/util/decimal.h>
#include <fmt/format.h>

#include "core/dates.h"
#include "core/error.h"
#include "datagen/random.h"

namespace datalab {

namespace {

void ok(const arrow::Status& status) {
  if (!status.ok()) throw Error("order generation: " + status.ToString());
}

template <typename Builder>
std::shared_ptr<arrow::Array> finish(Builder& builder) {
  auto result = builder.Finish();
  if (!result.ok()) throw Error("order generation: " + result.status().ToString());
  return *result;
}

// Status with its share of orders in tenths of a percent; the server-side baseline in
// bench/partition/server_side.sql draws from the same weights.
struct StatusWeight {
  std::string_view name;
  int per_mille;
};
constexpr StatusWeight kStatuses[] = {
    {"delivered", 500}, {"shipped", 200}, {"paid", 150}, {"pending", 100}, {"cancelled", 50}};

std::string_view status_for(int64_t draw_per_mille) {
  for (const auto& s : kStatuses) {
    if (draw_per_mille < s.per_mille) return s.name;
    draw_per_mille -= s.per_mille;
  }
  return kStatuses[0].name;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

int32_t OrderSpread::first_day() const { return days_from_civil(start_year, 1, 1); }
int32_t OrderSpread::end_day() const { return days_from_civil(start_year + years, 1, 1); }

int32_t OrderSpread::load_date(int64_t row) const {
  const int64_t days = end_day() - first_day();
  return first_day() + static_cast<int32_t>(row * days / count);
}

int64_t OrderSpread::first_row_on_or_after(int32_t day) const {
  const int64_t days = end_day() - first_day();
  const int64_t offset = std::clamp<int64_t>(day - first_day(), 0, days);
  // Smallest row with row * days / count >= offset, i.e. row >= offset * count / days.
  return (offset * count + days - 1) / days;
}

std::string OrderSpread::to_string() const { return fmt::format("{}:{}:{}", count, years, start_year); }

OrderSpread parse_order_spread(std::string_view text) {
  OrderSpread spread;
  const auto first = text.find(':');
  const auto second = first == std::string_view::npos ? first : text.find(':', first + 1);
  const bool parsed = second != std::string_view::npos &&
                      parse_number(text.substr(0, first), spread.count) &&
                      parse_number(text.substr(first + 1, second - first - 1), spread.years) &&
                      parse_number(text.substr(second + 1), spread.start_year);
  if (!parsed) {
    throw ConfigError(fmt::format("--spread '{}' is not COUNT:YEARS:START_YEAR (e.g. 1000000:2:2024)", text));
  }
  if (spread.count < 0) throw ConfigError(fmt::format("--spread '{}': COUNT must not be negative", text));
  if (spread.years < 1 || spread.years > 100) {
    throw ConfigError(fmt::format("--spread '{}': YEARS must be between 1 and 100", text));
  }
  if (spread.start_year < 1900 || spread.start_year + spread.years > 2200) {
    throw ConfigError(fmt::format("--spread '{}': the period must lie within 1900–2199", text));
  }
  return spread;
}

std::vector<OrderSpread> original_order_spreads() {
  return {{1'000, 10, 2015}, {10'000, 5, 2020}, {1'000'000, 2, 2024}, {1'000'000, 1, 2025}};
}

OrderSpreadGenerator::OrderSpreadGenerator(std::vector<OrderSpread> spreads, uint64_t seed)
    : spreads_(std::move(spreads)), seed_(seed) {
  int64_t next_id = 0;
  for (const auto& s : spreads_) {
    id_offsets_.push_back(next_id);
    next_id += s.count;
  }
}

std::shared_ptr<arrow::Schema> OrderSpreadGenerator::schema() {
  static auto schema = arrow::schema({arrow::field("order_id", arrow::int64(), false),
                                      arrow::field("customer_id", arrow::int32(), false),
                                      arrow::field("amount", arrow::decimal128(12, 2), false),
                                      arrow::field("status", arrow::utf8(), false),
                                      arrow::field("load_date", arrow::date32(), false)});
  return schema;
}

int64_t OrderSpreadGenerator::total_rows() const {
  int64_t total = 0;
  for (const auto& s : spreads_) total += s.count;
  return total;
}

int OrderSpreadGenerator::first_year() const {
  int year = 0;
  for (const auto& s : spreads_) year = year == 0 ? s.start_year : std::min(year, s.start_year);
  return year;
}

int OrderSpreadGenerator::last_year() const {
  int year = -1;
  for (const auto& s : spreads_) year = std::max(year, s.start_year + s.years - 1);
  return year;
}

std::vector<OrderSpreadGenerator::Slice> OrderSpreadGenerator::rows_between(int32_t from_day,
                                                                             int32_t to_day) const {
  std::vector<Slice> slices;
  for (std::size_t s = 0; s < spreads_.size(); ++s) {
    const int64_t begin = spreads_[s].first_row_on_or_after(from_day);
    const int64_t end = spreads_[s].first_row_on_or_after(to_day);
    if (end > begin) slices.push_back({s, begin, end});
  }
  return slices;
}

std::shared_ptr<arrow::RecordBatch> OrderSpreadGenerator::orders(std::size_t spread, int64_t begin,
                                                                 int64_t count) const {
  const OrderSpread& s = spreads_.at(spread);
  if (begin < 0 || count < 0 || begin + count > s.count) {
    throw Error(fmt::format("order generation: rows [{}, {}) outside spread {}", begin, begin + count, s.to_string()));
  }
  arrow::Int64Builder id;
  arrow::Int32Builder customer;
  arrow::Decimal128Builder amount(schema()->field(2)->type());
  arrow::StringBuilder status;
  arrow::Date32Builder load_date;
  ok(id.Reserve(count)); ok(customer.Reserve(count)); ok(amount.Reserve(count));
  ok(status.Reserve(count)); ok(status.ReserveData(count * 9)); ok(load_date.Reserve(count));
  for (int64_t row = begin; row < begin + count; ++row) {
    const int64_t order_id = id_offsets_[spread] + row + 1;
    // A stream per order: the same seed gives the same order whatever the batching.
    Rng rng = Rng::for_stream(seed_, static_cast<uint64_t>(order_id));
    id.UnsafeAppend(order_id);
    customer.UnsafeAppend(static_cast<int32_t>(rng.uniform(1, kCustomers)));
    amount.UnsafeAppend(arrow::Decimal128(rng.uniform(kMinAmountCents, kMaxAmountCents)));
    const auto name = status_for(rng.uniform(0, 999));
    status.UnsafeAppend(name.data(), static_cast<int32_t>(name.size()));
    load_date.UnsafeAppend(s.load_date(row));
  }
  return arrow::RecordBatch::Make(schema(), count,
                                  {finish(id), finish(customer), finish(amount), finish(status), finish(load_date)});
}

}  // namespace datalab
