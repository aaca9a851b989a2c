#include "inputs/star_input.h"

#include <gtest/gtest.h>

#include "core/dates.h"

using namespace datalab;
using namespace datalab::inputs;

namespace {

std::string reason_for(const StarInput& input, const std::string& file, std::size_t row) {
  for (const auto& r : input.rejected) if (r.file == file && r.row == row) return r.reason;
  return "";
}

}  // namespace

TEST(StarInputTest, CleanValueTrimsSpacesAndOneLayerOfQuotes) {
  EXPECT_EQ(clean_value(" 'bruce.banner@gamma-lab.com'"), "bruce.banner@gamma-lab.com");
  EXPECT_EQ(clean_value("'Bruce Banner'"), "Bruce Banner");
  EXPECT_EQ(clean_value("  \" spaced \"  "), "spaced");
  EXPECT_EQ(clean_value("O'Brien"), "O'Brien");  // an inner quote is data
  EXPECT_EQ(clean_value("'"), "'");
}

TEST(StarInputTest, OriginalQuotedFormatParsesToCleanValues) {
  const auto input = parse_star_input(
      "customer_id,name,email,phone\n1,'Bruce Banner', 'bruce.banner@gamma-lab.com', '+971506666006'\n",
      "product_id,product_name,category\n1,'Rolex Submariner','Watch'\n",
      "sale_id,customer_id,product_id,amount,quantity,date_value\n1,1,1,12500.00,1,'2024-01-15'\n", "test");
  ASSERT_TRUE(input.rejected.empty()) << input.rejected.front().reason;
  ASSERT_EQ(input.customers.size(), 1u);
  EXPECT_EQ(input.customers[0].name, "Bruce Banner");
  EXPECT_EQ(input.customers[0].email, "bruce.banner@gamma-lab.com");
  EXPECT_EQ(input.customers[0].phone, "+971506666006");
  ASSERT_EQ(input.products.size(), 1u);
  EXPECT_EQ(input.products[0].name, "Rolex Submariner");  // product_name is the original's column name
  ASSERT_EQ(input.sales.size(), 1u);
  EXPECT_EQ(input.sales[0].amount_cents, 1'250'000);  // amount, not quantity, despite the column order
  EXPECT_EQ(input.sales[0].quantity, 1);
  EXPECT_EQ(input.sales[0].sale_time_us, int64_t{days_from_civil(2024, 1, 15)} * 86'400'000'000LL);
}

TEST(StarInputTest, BadRowsAreRejectedWithReasons) {
  const auto input = parse_star_input(
      "customer_id,name,email,phone\n"
      "1,Ann,ann@example.com,+1\n"
      "x,Bob,bob@example.com,+2\n"
      "3,,carl@example.com,+3\n"
      "4,Dan,not-an-email,+4\n",
      "product_id,name,category\n1,Thing,Tools\n2,Other, ' '\n",
      "sale_id,customer_id,product_id,quantity,amount,sale_time\n"
      "1,1,1,2,10.50,2024-03-01 12:00:00\n"
      "2,1,1,0,10.50,2024-03-01\n"
      "3,1,1,1,10.555,2024-03-01\n"
      "4,1,1,1,-5,2024-03-01\n"
      "5,1,1,1,5,2024-02-30\n"
      "1,1,1,1,5,2024-03-01\n",
      "test");
  EXPECT_EQ(input.customers.size(), 1u);
  EXPECT_EQ(reason_for(input, "customers", 2), "customer_id 'x' is not a positive integer");
  EXPECT_EQ(reason_for(input, "customers", 3), "name is empty");
  EXPECT_EQ(reason_for(input, "customers", 4), "email 'not-an-email' is not an e-mail address");
  EXPECT_EQ(input.products.size(), 1u);
  EXPECT_EQ(reason_for(input, "products", 2), "category is empty");
  ASSERT_EQ(input.sales.size(), 1u);
  EXPECT_EQ(input.sales[0].amount_cents, 1050);
  EXPECT_NE(reason_for(input, "sales", 2).find("quantity '0'"), std::string::npos);
  EXPECT_NE(reason_for(input, "sales", 3).find("amount '10.555'"), std::string::npos);
  EXPECT_NE(reason_for(input, "sales", 4).find("amount '-5'"), std::string::npos);
  EXPECT_NE(reason_for(input, "sales", 5).find("sale_time '2024-02-30'"), std::string::npos);
  EXPECT_EQ(reason_for(input, "sales", 6), "duplicate sale_id 1");
  EXPECT_EQ(input.rejected.size(), 9u);
}

TEST(StarInputTest, FixturesTellTheStoryOfThreeChangesEach) {
  const auto input = fixture_input();
  EXPECT_TRUE(input.rejected.empty());
  EXPECT_EQ(input.customers.size(), 6u);
  EXPECT_EQ(input.products.size(), 6u);
  EXPECT_EQ(input.sales.size(), 3u);
  std::vector<int64_t> keys;
  for (const auto& c : input.customers) keys.push_back(c.customer_id);
  EXPECT_EQ(change_rounds(keys), (std::vector<int32_t>{1, 1, 1, 2, 2, 2}));
}
