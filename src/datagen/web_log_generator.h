#pragma once
// Seeded web-server access logs for the clickhouse module, as Arrow record batches:
// timestamps uniform over the 6 months before an as-of date, 10 000 users, 9 URLs,
// log-normal response times (mu 5, sigma 1.5, in whole milliseconds) and status codes
// weighted 200 x4, 404, 500, 302, 301. Every row draws from its own seeded stream, so the
// rows depend only on (seed, as-of, row number) — not on batch size or thread count.
#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

#include <arrow/api.h>

namespace datalab {

class WebLogGenerator {
 public:
  static constexpr int64_t kUsers = 10'000;
  static constexpr double kResponseMu = 5.0;
  static constexpr double kResponseSigma = 1.5;
  static constexpr std::array<std::string_view, 9> kUrls = {
      "/home", "/products", "/products/item", "/cart", "/checkout", "/login", "/logout", "/search", "/profile"};
  // Drawn uniformly: 200 four times as often as each of the others.
  static constexpr std::array<uint16_t, 8> kStatusCodes = {200, 200, 200, 200, 404, 500, 302, 301};

  // `as_of` (days since 1970): rows fall in [as_of - 6 months, as_of) UTC.
  WebLogGenerator(uint64_t seed, int32_t as_of);

  // timestamp (timestamp[s, UTC]), user_id (uint32), url (string), response_time (uint32, ms),
  // status_code (uint16); no nulls.
  static std::shared_ptr<arrow::Schema> schema();
  // Rows [begin, begin + count).
  std::shared_ptr<arrow::RecordBatch> batch(int64_t begin, int64_t count) const;

  int64_t first_second() const { return first_second_; }
  int64_t end_second() const { return end_second_; }  // exclusive

 private:
  uint64_t seed_;
  int64_t first_second_, end_second_;
};

}  // namespace datalab
