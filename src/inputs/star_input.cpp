#include "inputs/star_input.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include "core/dates.h"
#include "core/error.h"
#include "formats/records.h"
#include "inputs/star_fixtures.h"

namespace datalab::inputs {

namespace {

constexpr int64_t kMaxCents = 9'999'999'999'99;  // numeric(12,2)

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

bool parse_positive(std::string_view text, int64_t& out) {
  const auto* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, out);
  return result.ec == std::errc() && result.ptr == end && out > 0;
}

// One CSV file's rows, cleaned, with the field lookup and rejection bookkeeping every
// file needs. `aliases` maps the original project's column names to ours.
class FileRows {
 public:
  FileRows(std::string file, const std::string& text, const std::string& origin,
           const std::vector<std::string>& required, const std::map<std::string, std::string>& aliases,
           StarInput& input)
      : file_(std::move(file)), input_(input) {
    if (trim(text).empty()) return;
    for (auto& raw : parse_csv_records(text, origin + "/" + file_)) {
      TextRecord record;
      for (auto& [name, value] : raw) {
        const std::string column(trim(name));
        const auto alias = aliases.find(column);
        record[alias == aliases.end() ? column : alias->second] = clean_value(value);
      }
      rows_.push_back(std::move(record));
    }
    const auto well_formed = std::find_if(rows_.begin(), rows_.end(),
                                          [](const TextRecord& r) { return !r.count(kMalformedRowField); });
    if (well_formed == rows_.end()) return;
    std::set<std::string> ignored;
    for (const auto& [name, value] : *well_formed) {
      if (std::find(required.begin(), required.end(), name) == required.end()) ignored.insert(name);
    }
    for (const auto& name : ignored) input_.warnings.push_back(fmt::format("{}: column '{}' ignored", file_, name));
    required_ = required;
  }
  std::size_t size() const { return rows_.size(); }
  // Empty when every required field is present and not empty.
  std::string missing(std::size_t i) const {
    if (auto bad = rows_[i].find(kMalformedRowField); bad != rows_[i].end()) return "malformed row, " + bad->second;
    for (const auto& name : required_) {
      const auto it = rows_[i].find(name);
      if (it == rows_[i].end()) return fmt::format("{} is missing", name);
      if (it->second.empty()) return fmt::format("{} is empty", name);
    }
    return {};
  }
  const std::string& field(std::size_t i, const std::string& name) const { return rows_[i].at(name); }
  bool id(std::size_t i, const std::string& name, int64_t& out) {
    if (parse_positive(field(i, name), out)) return true;
    reject(i, fmt::format("{} '{}' is not a positive integer", name, field(i, name)));
    return false;
  }
  void reject(std::size_t i, std::string reason) { input_.rejected.push_back({file_, i + 1, std::move(reason)}); }

 private:
  std::string file_;
  StarInput& input_;
  std::vector<TextRecord> rows_;
  std::vector<std::string> required_;
};

bool plausible_email(const std::string& email) {
  const auto at = email.find('@');
  return at != std::string::npos && at > 0 && email.find('@', at + 1) == std::string::npos &&
         email.find('.', at + 2) != std::string::npos && email.back() != '.' &&
         email.find(' ') == std::string::npos;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("cannot read '{}'", path.string()));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::string clean_value(std::string_view raw) {
  std::string_view value = trim(raw);
  if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') && value.back() == value.front()) {
    value = trim(value.substr(1, value.size() - 2));
  }
  return std::string(value);
}

int64_t parse_amount_cents(std::string_view text) {
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() || fraction.size() > 2 || (dot != std::string_view::npos && fraction.empty())) return -1;
  for (char c : whole) if (c < '0' || c > '9') return -1;
  for (char c : fraction) if (c < '0' || c > '9') return -1;
  if (whole.size() > 10) return -1;
  int64_t cents = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), cents);
  cents *= 100;
  if (!fraction.empty()) cents += (fraction[0] - '0') * 10 + (fraction.size() > 1 ? fraction[1] - '0' : 0);
  return cents > kMaxCents ? -1 : cents;
}

int64_t parse_sale_time(std::string_view text) {
  if (text.size() < 10) return -1;
  const auto day = parse_iso_date(text.substr(0, 10));
  if (!day) return -1;
  int64_t seconds = 0;
  if (text.size() > 10) {
    const std::string_view clock = text.substr(11);
    if ((text[10] != ' ' && text[10] != 'T') || clock.size() != 8 || clock[2] != ':' || clock[5] != ':') return -1;
    int h = 0, m = 0, s = 0;
    for (auto [part, value, limit] : {std::tuple{clock.substr(0, 2), &h, 23}, {clock.substr(3, 2), &m, 59},
                                      {clock.substr(6, 2), &s, 59}}) {
      const auto r = std::from_chars(part.data(), part.data() + 2, *value);
      if (r.ec != std::errc() || r.ptr != part.data() + 2 || *value < 0 || *value > limit) return -1;
    }
    seconds = h * 3600 + m * 60 + s;
  }
  return (static_cast<int64_t>(*day) * 86'400 + seconds) * 1'000'000;
}

std::string format_cents(int64_t cents) { return fmt::format("{}.{:02}", cents / 100, cents % 100); }

StarInput parse_star_input(const std::string& customers_csv, const std::string& products_csv,
                           const std::string& sales_csv, const std::string& origin) {
  StarInput input;

  FileRows customers("customers", customers_csv, origin, {"customer_id", "name", "email", "phone"},
                     {{"customer_name", "name"}}, input);
  for (std::size_t i = 0; i < customers.size(); ++i) {
    if (auto why = customers.missing(i); !why.empty()) { customers.reject(i, why); continue; }
    CustomerRecord c{0, customers.field(i, "name"), customers.field(i, "email"), customers.field(i, "phone")};
    if (!customers.id(i, "customer_id", c.customer_id)) continue;
    if (!plausible_email(c.email)) { customers.reject(i, fmt::format("email '{}' is not an e-mail address", c.email)); continue; }
    input.customers.push_back(std::move(c));
  }

  FileRows products("products", products_csv, origin, {"product_id", "name", "category"},
                    {{"product_name", "name"}}, input);
  for (std::size_t i = 0; i < products.size(); ++i) {
    if (auto why = products.missing(i); !why.empty()) { products.reject(i, why); continue; }
    ProductRecord p{0, products.field(i, "name"), products.field(i, "category")};
    if (!products.id(i, "product_id", p.product_id)) continue;
    input.products.push_back(std::move(p));
  }

  // The original called the sale time `date_value`; either name is accepted.
  FileRows sales("sales", sales_csv, origin, {"sale_id", "customer_id", "product_id", "quantity", "amount", "sale_time"},
                 {{"date_value", "sale_time"}, {"sale_date", "sale_time"}}, input);
  std::set<int64_t> sale_ids;
  for (std::size_t i = 0; i < sales.size(); ++i) {
    if (auto why = sales.missing(i); !why.empty()) { sales.reject(i, why); continue; }
    SaleRecord s{};
    int64_t quantity = 0;
    if (!sales.id(i, "sale_id", s.sale_id) || !sales.id(i, "customer_id", s.customer_id) ||
        !sales.id(i, "product_id", s.product_id)) continue;
    if (!parse_positive(sales.field(i, "quantity"), quantity) || quantity > 1'000'000) {
      sales.reject(i, fmt::format("quantity '{}' is not a whole number from 1 to 1000000", sales.field(i, "quantity")));
      continue;
    }
    s.quantity = static_cast<int32_t>(quantity);
    s.amount_cents = parse_amount_cents(sales.field(i, "amount"));
    if (s.amount_cents < 0) {
      sales.reject(i, fmt::format("amount '{}' is not a non-negative amount with at most 2 decimals", sales.field(i, "amount")));
      continue;
    }
    s.sale_time_us = parse_sale_time(sales.field(i, "sale_time"));
    if (s.sale_time_us < 0) {
      sales.reject(i, fmt::format("sale_time '{}' is not a date or date and time (YYYY-MM-DD[ HH:MM:SS])", sales.field(i, "sale_time")));
      continue;
    }
    if (!sale_ids.insert(s.sale_id).second) {
      sales.reject(i, fmt::format("duplicate sale_id {}", s.sale_id));
      continue;
    }
    input.sales.push_back(s);
  }
  return input;
}

StarInput fixture_input() {
  return parse_star_input(std::string(star_fixtures::customers), std::string(star_fixtures::products),
                          std::string(star_fixtures::sales), "fixtures");
}

StarInput read_star_directory(const std::string& folder) {
  auto find = [&](const std::string& name) {
    for (const auto& candidate : {name + ".csv", "star_" + name + ".csv"}) {
      const auto path = std::filesystem::path(folder) / candidate;
      if (std::filesystem::exists(path)) return read_text(path);
    }
    throw ConfigError(fmt::format("{}: neither {}.csv nor star_{}.csv found", folder, name, name));
  };
  return parse_star_input(find("customers"), find("products"), find("sales"), folder);
}

std::vector<int32_t> change_rounds(const std::vector<int64_t>& keys) {
  std::unordered_map<int64_t, int32_t> seen;
  std::vector<int32_t> rounds;
  rounds.reserve(keys.size());
  for (int64_t key : keys) rounds.push_back(++seen[key]);
  return rounds;
}

}  // namespace datalab::inputs
