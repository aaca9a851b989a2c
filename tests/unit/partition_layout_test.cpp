#include "modules/partition/partition_layout.h"

#include <gtest/gtest.h>

#include "core/dates.h"
#include "core/error.h"
#include "datagen/order_spread_generator.h"

using namespace datalab;
using namespace datalab::partition;

TEST(PartitionLayout, YearBoundsRunFromFirstJanuaryToTheNextFirstJanuary) {
  const auto statements = create_partition_statements(days_from_civil(2023, 6, 15), days_from_civil(2025, 1, 1));
  ASSERT_EQ(statements.size(), 2u);
  EXPECT_EQ(statements[0],
            "CREATE TABLE \"partition\".\"orders_2023\" PARTITION OF \"partition\".\"orders\" "
            "FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')");
  EXPECT_EQ(statements[1],
            "CREATE TABLE \"partition\".\"orders_2024\" PARTITION OF \"partition\".\"orders\" "
            "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')");
}

TEST(PartitionLayout, LastDayOfARangeNeedsItsYearsPartition) {
  // [2024-12-31, 2025-01-01) is 31 December alone: 2024 only. One more day reaches 2025.
  const auto one_day = year_partitions_for(days_from_civil(2024, 12, 31), days_from_civil(2025, 1, 1));
  ASSERT_EQ(one_day.size(), 1u);
  EXPECT_EQ(one_day[0].name, "orders_2024");
  EXPECT_EQ(one_day[0].to, "2025-01-01");  // exclusive: 31 December is inside
  const auto two_days = year_partitions_for(days_from_civil(2024, 12, 31), days_from_civil(2025, 1, 2));
  ASSERT_EQ(two_days.size(), 2u);
  EXPECT_EQ(two_days[1].name, "orders_2025");
  EXPECT_TRUE(year_partitions_for(days_from_civil(2024, 1, 1), days_from_civil(2024, 1, 1)).empty());
  EXPECT_EQ(year_partition(2000).from, "2000-01-01");
  EXPECT_EQ(year_partition(2000).to, "2001-01-01");
}

TEST(PartitionOrderSpread, ParsesTheFlagAndRejectsNonsense) {
  const OrderSpread s = parse_order_spread("1000000:2:2024");
  EXPECT_EQ(s.count, 1'000'000);
  EXPECT_EQ(s.years, 2);
  EXPECT_EQ(s.start_year, 2024);
  EXPECT_EQ(s.to_string(), "1000000:2:2024");
  for (const char* bad : {"", "1000", "1000:2", "1000:2:", "x:2:2024", "1000:0:2024", "-5:1:2024", "10:1:1800",
                          "1000:2:2024:1", "1000:2:2024x"}) {
    EXPECT_THROW(parse_order_spread(bad), ConfigError) << bad;
  }
}

TEST(PartitionOrderSpread, TheOriginalFourCallsAreTheDefaultDataSet) {
  const OrderSpreadGenerator generator(original_order_spreads(), 42);
  EXPECT_EQ(generator.total_rows(), 2'011'000);
  EXPECT_EQ(generator.first_year(), 2015);
  EXPECT_EQ(generator.last_year(), 2025);
}

TEST(PartitionOrderSpread, DatesCoverTheWholePeriodInOrder) {
  const OrderSpread s{1'000'000, 2, 2024};
  EXPECT_EQ(s.load_date(0), days_from_civil(2024, 1, 1));
  EXPECT_EQ(s.load_date(s.count - 1), days_from_civil(2025, 12, 31));
  const OrderSpread small{1000, 3, 2020};
  for (int64_t row = 1; row < small.count; ++row) ASSERT_LE(small.load_date(row - 1), small.load_date(row));
  // first_row_on_or_after is the exact inverse of load_date.
  for (int32_t day = small.first_day() - 2; day <= small.end_day() + 2; ++day) {
    const int64_t first = small.first_row_on_or_after(day);
    if (first < small.count) {
      ASSERT_GE(small.load_date(first), day) << day;
    }
    if (first > 0) {
      ASSERT_LT(small.load_date(first - 1), day) << day;
    }
  }
}

TEST(PartitionOrderSpread, YearSlicesPartitionEveryRowExactlyOnce) {
  const OrderSpreadGenerator generator(original_order_spreads(), 42);
  int64_t total = 0;
  for (int year = generator.first_year(); year <= generator.last_year(); ++year) {
    for (const auto& slice : generator.rows_between(days_from_civil(year, 1, 1), days_from_civil(year + 1, 1, 1))) {
      const auto& spread = generator.spreads()[slice.spread];
      EXPECT_EQ(year_of(spread.load_date(slice.begin)), year);
      EXPECT_EQ(year_of(spread.load_date(slice.end - 1)), year);
      total += slice.rows();
    }
  }
  EXPECT_EQ(total, generator.total_rows());
}

TEST(PartitionOrderSpread, SameSeedSameOrdersWhateverTheBatching) {
  const OrderSpreadGenerator a({{5000, 2, 2024}, {300, 1, 2025}}, 7), b({{5000, 2, 2024}, {300, 1, 2025}}, 7);
  EXPECT_TRUE(a.orders(0, 0, 5000)->Slice(1234, 100)->Equals(*b.orders(0, 1234, 100)));
  const auto second = a.orders(1, 0, 300);
  EXPECT_EQ(std::static_pointer_cast<arrow::Int64Array>(second->column(0))->Value(0), 5001);  // ids are global
  const OrderSpreadGenerator other({{5000, 2, 2024}, {300, 1, 2025}}, 8);
  EXPECT_FALSE(a.orders(0, 0, 1000)->Equals(*other.orders(0, 0, 1000)));
  EXPECT_THROW(a.orders(1, 250, 100), Error);
}

TEST(PartitionOrderSpread, ValuesStayInTheirDomains) {
  const OrderSpreadGenerator generator({{20'000, 1, 2024}}, 3);
  const auto batch = generator.orders(0, 0, 20'000);
  const auto customers = std::static_pointer_cast<arrow::Int32Array>(batch->GetColumnByName("customer_id"));
  const auto amounts = std::static_pointer_cast<arrow::Decimal128Array>(batch->GetColumnByName("amount"));
  const auto statuses = std::static_pointer_cast<arrow::StringArray>(batch->GetColumnByName("status"));
  int64_t delivered = 0;
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    ASSERT_GE(customers->Value(i), 1);
    ASSERT_LE(customers->Value(i), OrderSpreadGenerator::kCustomers);
    const arrow::Decimal128 cents(amounts->GetValue(i));
    ASSERT_GE(cents, arrow::Decimal128(OrderSpreadGenerator::kMinAmountCents));
    ASSERT_LE(cents, arrow::Decimal128(OrderSpreadGenerator::kMaxAmountCents));
    delivered += statuses->GetView(i) == "delivered";
  }
  EXPECT_NEAR(static_cast<double>(delivered) / batch->num_rows(), 0.5, 0.02);
}
