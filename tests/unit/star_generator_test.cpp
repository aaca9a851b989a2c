#include "datagen/star_generator.h"

#include <gtest/gtest.h>

using namespace datalab;

TEST(StarGeneratorTest, SameSeedSameRowsAndEveryTenthChanges) {
  const StarGenerator a({100, 20, 50}, 7), b({100, 20, 50}, 7);
  EXPECT_TRUE(a.customers(1, 0, 100)->Equals(*b.customers(1, 0, 100)));
  EXPECT_TRUE(a.sales(10, 20)->Equals(*b.sales(10, 20)));
  EXPECT_EQ(a.rows_in_round(100, 2), 10);
  const auto changed = a.customers(2, 0, 10);
  const auto ids = std::static_pointer_cast<arrow::Int64Array>(changed->column(1));
  EXPECT_EQ(ids->Value(0), 10);
  EXPECT_EQ(ids->Value(9), 100);
  // Round 2 of customer 10 differs from round 1 in phone and email, not in name.
  const auto first = a.customers(1, 9, 1);
  EXPECT_EQ(first->column(2)->ToString(), changed->Slice(0, 1)->column(2)->ToString());
  EXPECT_NE(first->column(3)->ToString(), changed->Slice(0, 1)->column(3)->ToString());
  EXPECT_THROW(StarGenerator({0, 1, 1}, 1), std::exception);
}
