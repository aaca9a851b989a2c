#pragma once
// What makes a products row loadable, written once for both engines: the native engine runs
// check_product() row by row; the Spark engine runs the same rules as a Spark expression
// (spark_transform.cpp), and tests feed the same edge cases through both.
//
// A row is rejected, with the first reason that applies, when
//   - Product is missing or blank                         -> "missing product name"
//   - Price is missing or blank                           -> "missing price"
//   - Price (spaces trimmed) is not [+-]digits[.digits]   -> "price is not a number"
//   - Price rounded to cents (half up) needs > 10 digits  -> "price out of range"
//   - Price rounded to cents is below zero                -> "negative price"
// Prices keep two decimals (numeric(12,2)), rounded half away from zero like Spark's cast.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace datalab::spark_upload {

inline constexpr const char* kMissingName = "missing product name";
inline constexpr const char* kMissingPrice = "missing price";
inline constexpr const char* kPriceNotNumber = "price is not a number";
inline constexpr const char* kPriceOutOfRange = "price out of range";
inline constexpr const char* kNegativePrice = "negative price";

// The pattern a trimmed price must match (Java regex, used by the Spark engine).
inline constexpr const char* kPricePattern = "^[+-]?[0-9]+([.][0-9]+)?\\z";
// Largest |price| in cents that numeric(12,2) holds.
inline constexpr int64_t kMaxPriceCents = 999'999'999'999;

struct ProductCheck {
  const char* reason = nullptr;  // nullptr: accepted
  int64_t price_cents = 0;       // set when accepted
};

// `product` / `price` are nullopt when the value is absent (NULL in the landing file).
ProductCheck check_product(std::optional<std::string_view> product, std::optional<std::string_view> price);

// Spark's trim(): removes ASCII spaces (not tabs or newlines) from both ends.
std::string_view trim_spaces(std::string_view text);

}  // namespace datalab::spark_upload
