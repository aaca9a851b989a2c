#include <gtest/gtest.h>

#include <filesystem>

#include <fmt/format.h>

#include "core/dates.h"
#include "integration/test_database.h"
#include "modules/erd/schema_diagram.h"
#include "modules/star/star_loader.h"
#include "storage/postgres/postgres_catalog.h"

using namespace datalab;
using namespace datalab::star;

namespace {

const int32_t kFirstLoad = days_from_civil(2025, 1, 10);
const int32_t kLaterLoad = days_from_civil(2025, 2, 1);

class StarLoadTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = std::make_unique<PgConnection>(test_support::test_postgres_settings()); }
  long long count(const std::string& sql) { return db_->exec(sql).integer(0, 0); }
  std::string text(const std::string& sql) { return std::string(db_->exec(sql).value(0, 0)); }
  StarLoadResult load(const StarInput& input, LoadMode mode, int32_t date = kFirstLoad) {
    return load_star(*db_, batches_from(input), date, mode, false);
  }
  // The current versions only, as a later snapshot of the source would deliver them.
  static StarInput current_snapshot(const StarInput& input) {
    StarInput snapshot = input;
    snapshot.customers.erase(snapshot.customers.begin(), snapshot.customers.begin() + 3);
    snapshot.products.erase(snapshot.products.begin(), snapshot.products.begin() + 3);
    return snapshot;
  }
  std::unique_ptr<PgConnection> db_;
};

}  // namespace

TEST_F(StarLoadTest, ChangedRowClosesOldVersionAndOpensNewOne) {
  load(fixture_input(), LoadMode::Recreate);
  EXPECT_EQ(count("SELECT count(*) FROM star.customer_dim"), 6);
  EXPECT_EQ(count("SELECT count(*) FROM star.customer_dim WHERE is_current"), 3);
  // Bruce's phone changed: the first version is closed, the second is current.
  const auto bruce = db_->exec(
      "SELECT phone, end_date::text, is_current, start_date::text FROM star.customer_dim "
      "WHERE customer_id = 1 ORDER BY customer_key");
  ASSERT_EQ(bruce.rows(), 2);
  EXPECT_EQ(bruce.value(0, 0), "+971506666006");
  EXPECT_EQ(bruce.value(0, 1), "2025-01-10");
  EXPECT_EQ(bruce.value(0, 2), "f");
  EXPECT_EQ(bruce.value(1, 0), "+971588888888");
  EXPECT_EQ(bruce.value(1, 1), "9999-12-31");
  EXPECT_EQ(bruce.value(1, 2), "t");
  EXPECT_EQ(bruce.value(1, 3), "2025-01-10");
  EXPECT_EQ(text("SELECT category FROM star.product_dim WHERE product_id = 1 AND is_current"), "Jewelry");
  // The row hash is the MD5 of the business columns.
  EXPECT_EQ(count("SELECT count(*) FROM star.customer_dim WHERE row_hash <> md5(row(name, email, phone)::text)"), 0);

  // A later change of one customer closes exactly that version on the later date.
  auto change = current_snapshot(fixture_input());
  change.customers[1].email = "natasha@avengers.org";
  const auto result = load(change, LoadMode::Incremental, kLaterLoad);
  EXPECT_EQ(result.changes[0].closed, 1);
  EXPECT_EQ(result.changes[0].opened, 1);
  EXPECT_EQ(result.changes[0].unchanged, 2);
  EXPECT_EQ(count("SELECT count(*) FROM star.customer_dim WHERE customer_id = 2"), 3);
  EXPECT_EQ(text("SELECT end_date::text FROM star.customer_dim WHERE customer_id = 2 AND email = 'blackwidow@shield.gov' "
                 "AND name = 'Natasha Romanova'"),
            "2025-02-01");
  EXPECT_EQ(text("SELECT start_date::text || ' ' || end_date::text FROM star.customer_dim WHERE customer_id = 2 AND is_current"),
            "2025-02-01 9999-12-31");
}

TEST_F(StarLoadTest, UnchangedRowsAndRerunsChangeNothing) {
  load(fixture_input(), LoadMode::Recreate);
  const std::string before = text(
      "SELECT string_agg(concat_ws('|', customer_key, customer_id, row_hash, start_date, end_date, is_current), ';' "
      "ORDER BY customer_key) FROM star.customer_dim");
  const auto result = load(current_snapshot(fixture_input()), LoadMode::Incremental, kLaterLoad);
  for (const auto& c : result.changes) {
    EXPECT_EQ(c.closed, 0) << c.dimension;
    EXPECT_EQ(c.opened, 0) << c.dimension;
    EXPECT_EQ(c.unchanged, 3) << c.dimension;
  }
  EXPECT_EQ(result.sales_loaded, 0);
  EXPECT_EQ(result.sales_already_loaded, 3);
  EXPECT_EQ(count("SELECT count(*) FROM star.sales_fact"), 3);
  EXPECT_EQ(text("SELECT string_agg(concat_ws('|', customer_key, customer_id, row_hash, start_date, end_date, is_current), ';' "
                 "ORDER BY customer_key) FROM star.customer_dim"),
            before);
  // The whole run again (schema rebuilt) ends in exactly the same state.
  load(fixture_input(), LoadMode::Recreate);
  EXPECT_EQ(text("SELECT string_agg(concat_ws('|', customer_key, customer_id, row_hash, start_date, end_date, is_current), ';' "
                 "ORDER BY customer_key) FROM star.customer_dim"),
            before);
}

// The original put product keys into the customer column, the amount into quantity, and
// kept the sale time as text.
TEST_F(StarLoadTest, FactsPointAtTheRightDimensionsWithTypedColumns) {
  load(fixture_input(), LoadMode::Recreate);
  const auto facts = db_->exec(
      "SELECT f.sale_id, c.customer_id, p.product_id, f.quantity, f.amount::text, f.sale_time::text, c.is_current, p.is_current"
      "  FROM star.sales_fact f JOIN star.customer_dim c ON c.customer_key = f.customer_key"
      "  JOIN star.product_dim p ON p.product_key = f.product_key ORDER BY f.sale_id");
  ASSERT_EQ(facts.rows(), 3);
  // fixtures/sales.csv: (sale, customer, product, quantity, amount, time)
  const std::vector<std::vector<std::string>> expected = {
      {"1", "1", "3", "1", "125000.00", "2024-01-15 10:30:00"},
      {"2", "2", "1", "2", "25000.00", "2024-01-20 14:05:00"},
      {"3", "3", "2", "3", "21000.50", "2024-02-05 09:15:00"}};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 6; ++c) EXPECT_EQ(facts.value(r, c), expected[r][c]) << "sale " << r + 1 << " column " << c;
    EXPECT_EQ(facts.value(r, 6), "t");
    EXPECT_EQ(facts.value(r, 7), "t");
  }
  const auto types = db_->exec(
      "SELECT column_name, data_type, coalesce(numeric_scale, -1) FROM information_schema.columns "
      "WHERE table_schema = 'star' AND table_name = 'sales_fact' AND column_name IN ('amount', 'quantity', 'sale_time') "
      "ORDER BY column_name");
  ASSERT_EQ(types.rows(), 3);
  EXPECT_EQ(types.value(0, 1), "numeric");
  EXPECT_EQ(types.value(0, 2), "2");
  EXPECT_EQ(types.value(1, 1), "integer");
  EXPECT_EQ(types.value(2, 1), "timestamp without time zone");
  EXPECT_EQ(count("SELECT count(*) FROM pg_constraint WHERE conrelid = 'star.sales_fact'::regclass AND contype = 'f'"), 2);
}

TEST_F(StarLoadTest, SalesWithoutCurrentDimensionsAreReportedNotLoaded) {
  auto input = fixture_input();
  input.sales.push_back({4, 99, 1, 1, 100, 0});
  input.sales.push_back({5, 1, 77, 1, 100, 0});
  const auto result = load(input, LoadMode::Recreate);
  EXPECT_EQ(result.sales_loaded, 3);
  EXPECT_EQ(result.sales_unmatched, 2);
  ASSERT_EQ(result.unmatched_examples.size(), 2u);
  EXPECT_EQ(result.unmatched_examples[0], (std::pair<int64_t, std::string>{4, "customer 99 does not exist"}));
  EXPECT_EQ(result.unmatched_examples[1], (std::pair<int64_t, std::string>{5, "product 77 does not exist"}));
}

// The original project's CSV files (quoted values, stray spaces) load cleanly.
TEST_F(StarLoadTest, OriginalReferenceCsvFilesLoad) {
  const auto folder = std::filesystem::path(DATALAB_SOURCE_DIR) / ".." / "shared" / "reference-data";
  if (!std::filesystem::exists(folder / "star_customers.csv")) GTEST_SKIP() << "no " << folder;
  const auto input = read_star_directory(folder.string());
  EXPECT_TRUE(input.rejected.empty());
  const auto result = load(input, LoadMode::Recreate);
  EXPECT_EQ(result.sales_loaded, 3);
  EXPECT_EQ(count("SELECT count(*) FROM star.customer_dim"), 6);
  EXPECT_EQ(count("SELECT count(*) FROM star.product_dim"), 6);
  EXPECT_EQ(count("SELECT count(*) FROM star.customer_dim WHERE name ~ '^[ '']|[ '']$' OR email ~ '^[ '']|[ '']$' "
                  "OR phone ~ '^[ '']|[ '']$'"),
            0);
  EXPECT_EQ(text("SELECT phone FROM star.customer_dim WHERE customer_id = 1 AND is_current"), "+971588888888");
  EXPECT_EQ(text("SELECT name FROM star.product_dim WHERE product_id = 3 AND is_current"), "Mercedes P-Class");
  EXPECT_EQ(text("SELECT string_agg(concat_ws('|', f.sale_id, c.customer_id, p.product_id, f.quantity, f.amount, f.sale_time), ';' "
                 "ORDER BY f.sale_id) FROM star.sales_fact f JOIN star.customer_dim c USING (customer_key) "
                 "JOIN star.product_dim p USING (product_key)"),
            "1|1|1|1|12500.00|2024-01-15 00:00:00;2|2|2|1|115000.00|2024-01-20 00:00:00;"
            "3|3|3|1|7500.00|2024-02-05 00:00:00");
}

TEST_F(StarLoadTest, GeneratedVolumeStreamsThroughStaging) {
  const StarGenerator generator({2'000, 300, 20'000}, 42);
  const auto result = load_star(*db_, batches_from(generator, 1'000), kFirstLoad, LoadMode::Recreate, false);
  EXPECT_EQ(count("SELECT count(*) FROM star.customer_dim"), 2'200);
  EXPECT_EQ(count("SELECT count(*) FROM star.customer_dim WHERE NOT is_current"), 200);
  EXPECT_EQ(count("SELECT count(*) FROM star.product_dim"), 330);
  EXPECT_EQ(count("SELECT count(*) FROM star.sales_fact"), 20'000);
  EXPECT_EQ(result.sales_unmatched, 0);
  EXPECT_EQ(count("SELECT count(*) FROM star.sales_fact f JOIN star.customer_dim c USING (customer_key) WHERE NOT c.is_current"), 0);
  ASSERT_EQ(result.changes.size(), 4u);
  EXPECT_EQ(result.changes[1].closed, 200);
  EXPECT_EQ(result.changes[1].opened, 200);
}

TEST_F(StarLoadTest, ErdDotNamesEveryTableAndForeignKey) {
  load(fixture_input(), LoadMode::Recreate);
  const auto schema = read_catalog_schema(*db_, "star");
  ASSERT_EQ(schema.tables.size(), 3u);
  const std::string dot = erd::to_dot(schema);
  for (const auto* table : {"customer_dim", "product_dim", "sales_fact"}) {
    EXPECT_NE(dot.find(fmt::format("\"{}\" [label=<", table)), std::string::npos) << table;
  }
  EXPECT_NE(dot.find("\"sales_fact\":\"customer_key__out\":e -> \"customer_dim\":\"customer_key\":w "
                     "[tooltip=\"sales_fact_customer_key_fkey\""),
            std::string::npos);
  EXPECT_NE(dot.find("\"sales_fact\":\"product_key__out\":e -> \"product_dim\":\"product_key\":w "
                     "[tooltip=\"sales_fact_product_key_fkey\""),
            std::string::npos);
  EXPECT_NE(dot.find("numeric(12,2)"), std::string::npos);
  EXPECT_NE(dot.find("unique (customer_id) where is_current"), std::string::npos);
  const auto png = std::filesystem::temp_directory_path() / "datalab-erd-test.png";
  erd::write_diagram(dot, png.string());
  EXPECT_GT(std::filesystem::file_size(png), 1000u);
  std::filesystem::remove(png);
}
