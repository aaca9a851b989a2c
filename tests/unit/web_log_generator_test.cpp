// The web-log generator: reproducible by seed whatever the batching, and the SPEC's
// distributions (6 months before the as-of date, 10 000 users, 9 URLs, weighted status codes,
// log-normal response times).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/dates.h"
#include "core/error.h"
#include "datagen/web_log_generator.h"
#include "modules/clickhouse/clickhouse_module.h"

namespace datalab {
namespace {

const int32_t kAsOf = *parse_iso_date("2025-06-30");

TEST(ClickHouseWebLogGeneratorTest, SameSeedSameRowsWhateverTheBatching) {
  const WebLogGenerator generator(7, kAsOf);
  const auto whole = generator.batch(0, 1000);
  const auto first = generator.batch(0, 300);
  const auto rest = generator.batch(300, 700);
  EXPECT_TRUE(whole->Slice(0, 300)->Equals(*first));
  EXPECT_TRUE(whole->Slice(300, 700)->Equals(*rest));
  EXPECT_TRUE(WebLogGenerator(7, kAsOf).batch(0, 1000)->Equals(*whole));
  EXPECT_FALSE(WebLogGenerator(8, kAsOf).batch(0, 1000)->Equals(*whole));
}

TEST(ClickHouseWebLogGeneratorTest, FollowsTheSpecDistributions) {
  const WebLogGenerator generator(42, kAsOf);
  EXPECT_EQ(generator.first_second(), int64_t{*parse_iso_date("2024-12-30")} * 86400);
  EXPECT_EQ(generator.end_second(), int64_t{kAsOf} * 86400);
  constexpr int64_t n = 200'000;
  const auto batch = generator.batch(0, n);
  ASSERT_TRUE(batch->ValidateFull().ok());
  const auto& ts = static_cast<const arrow::TimestampArray&>(*batch->column(0));
  const auto& users = static_cast<const arrow::UInt32Array&>(*batch->column(1));
  const auto& urls = static_cast<const arrow::StringArray&>(*batch->column(2));
  const auto& times = static_cast<const arrow::UInt32Array&>(*batch->column(3));
  const auto& codes = static_cast<const arrow::UInt16Array&>(*batch->column(4));
  std::set<std::string> url_set;
  std::set<uint32_t> user_set;
  std::map<uint16_t, int64_t> code_counts;
  double log_sum = 0, log_sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_GE(ts.Value(i), generator.first_second());
    ASSERT_LT(ts.Value(i), generator.end_second());
    ASSERT_GE(users.Value(i), 1u);
    ASSERT_LE(users.Value(i), 10000u);
    ASSERT_GE(times.Value(i), 1u);
    url_set.insert(std::string(urls.GetView(i)));
    user_set.insert(users.Value(i));
    code_counts[codes.Value(i)]++;
    const double l = std::log(static_cast<double>(times.Value(i)));
    log_sum += l;
    log_sq += l * l;
  }
  EXPECT_EQ(url_set.size(), 9u);
  EXPECT_GT(user_set.size(), 9900u);
  ASSERT_EQ(code_counts.size(), 5u);
  for (const uint16_t code : {404, 500, 302, 301}) {
    EXPECT_NEAR(static_cast<double>(code_counts[code]) / n, 1.0 / 8, 0.01) << code;
  }
  EXPECT_NEAR(static_cast<double>(code_counts[200]) / n, 4.0 / 8, 0.01);
  // log(ceil(x)) is slightly above log(x); mean and spread of the logs are mu and sigma.
  const double mean = log_sum / n, sd = std::sqrt(log_sq / n - mean * mean);
  EXPECT_NEAR(mean, 5.0, 0.05);
  EXPECT_NEAR(sd, 1.5, 0.05);
}

TEST(ClickHouseRowCountTest, AcceptsDigitsAndRejectsTheRest) {
  using clickhouse::parse_row_count;
  EXPECT_EQ(parse_row_count("10000000", "--rows"), 10'000'000);
  EXPECT_EQ(parse_row_count("10_000_000", "--rows"), 10'000'000);
  EXPECT_EQ(parse_row_count("1,000", "--rows"), 1000);
  for (const char* bad : {"", "abc", "-5", "0", "1e6", "12x", "99999999999999999999"}) {
    EXPECT_THROW(parse_row_count(bad, "--rows"), ConfigError) << bad;
  }
}

}  // namespace
}  // namespace datalab
