#include "modules/data_vault/vault_source.h"

#include <gtest/gtest.h>

#include "inputs/star_input.h"

using namespace datalab;
using inputs::fixture_input;

TEST(DataVaultSourceTest, LoadsSplitHistoryAndStatusesUnfold) {
  const auto loads = data_vault::vault_loads(fixture_input(), 30, 42);
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_EQ(loads[0].customers.size(), 3u);
  EXPECT_EQ(loads[1].customers.size(), 3u);
  EXPECT_EQ(loads[1].customers[0].phone, "+971588888888");
  EXPECT_EQ(loads[0].orders.size(), 30u);
  EXPECT_FALSE(loads[1].statuses.empty());
  const auto expected = data_vault::expected_current_orders(loads);
  ASSERT_EQ(expected.size(), 30u);
  for (const auto& order : expected) {
    EXPECT_FALSE(order.status.empty());
    EXPECT_FALSE(order.products.empty());
  }
}
