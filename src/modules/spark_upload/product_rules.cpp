#include "modules/spark_upload/product_rules.h"

namespace datalab::spark_upload {

std::string_view trim_spaces(std::string_view text) {
  const auto begin = text.find_first_not_of(' ');
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(' ') - begin + 1);
}

ProductCheck check_product(std::optional<std::string_view> product, std::optional<std::string_view> price) {
  if (!product || trim_spaces(*product).empty()) return {kMissingName};
  if (!price || trim_spaces(*price).empty()) return {kMissingPrice};
  std::string_view text = trim_spaces(*price);

  bool negative = false;
  if (text.front() == '+' || text.front() == '-') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  auto all_digits = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (!all_digits(whole) || (dot != std::string_view::npos && !all_digits(fraction))) return {kPriceNotNumber};

  // Cents, rounded half up on the magnitude (Java's ROUND_HALF_UP); too many digits = out of range.
  const auto significant = whole.find_first_not_of('0');
  const std::string_view digits = significant == std::string_view::npos ? std::string_view{} : whole.substr(significant);
  if (digits.size() > 10) return {kPriceOutOfRange};
  int64_t cents = 0;
  for (char c : digits) cents = cents * 10 + (c - '0');
  cents *= 100;
  if (fraction.size() >= 1) cents += (fraction[0] - '0') * 10;
  if (fraction.size() >= 2) cents += fraction[1] - '0';
  if (fraction.size() >= 3 && fraction[2] >= '5') cents += 1;
  if (cents > kMaxPriceCents) return {kPriceOutOfRange};
  if (negative && cents > 0) return {kNegativePrice};
  return {nullptr, cents};
}

}  // namespace datalab::spark_upload
