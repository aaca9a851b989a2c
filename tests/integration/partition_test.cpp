#include <map>
#include <set>

#include <gtest/gtest.h>

#include "integration/test_database.h"
#include "modules/partition/partition_loader.h"
#include "modules/partition/partition_module.h"

using namespace datalab;
using namespace datalab::partition;

namespace {

// Small, but with the default data set's shape: a thin spread from 2015, dense years
// 2023–2024 (two orders a day: 1462 over 731 days) and a 2025 spread.
const std::vector<OrderSpread> kSpreads = {{200, 10, 2015}, {1462, 2, 2023}, {400, 1, 2025}};
constexpr int64_t kRows = 200 + 1462 + 400;

PartitionLoadOptions small_load() {
  PartitionLoadOptions options;
  options.batch_rows = 97;  // several batches per partition
  options.index_min_rows = 500;
  options.show_progress = false;
  return options;
}

std::set<std::string> relations(const PlanSummary& plan) {
  std::set<std::string> names;
  for (const auto& scan : plan.scans) names.insert(scan.relation);
  return names;
}

}  // namespace

class PartitionLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<PgConnection>(test_support::test_postgres_settings());
    stats_ = recreate_and_load(*db_, OrderSpreadGenerator(kSpreads, 42), small_load());
  }
  long long count(const std::string& sql) { return db_->exec(sql).integer(0, 0); }
  // partition name -> "rows|sum of amounts|md5 of every row in id order"
  std::map<std::string, std::string> fingerprint() {
    const PgResult r = db_->exec(
        "SELECT tableoid::regclass::text, count(*) || '|' || sum(amount) || '|' || "
        "md5(string_agg(concat_ws(',', order_id, customer_id, amount, status, load_date), ';' ORDER BY order_id)) "
        "FROM partition.orders GROUP BY 1");
    std::map<std::string, std::string> result;
    for (int row = 0; row < r.rows(); ++row) result[std::string(r.value(row, 0))] = std::string(r.value(row, 1));
    return result;
  }
  std::unique_ptr<PgConnection> db_;
  PartitionLoadStats stats_;
};

TEST_F(PartitionLoadTest, YearPartitionsAreCreatedAheadOfTheDataAndBusyOnesIndexed) {
  EXPECT_EQ(stats_.rows, kRows);
  EXPECT_EQ(count("SELECT count(*) FROM partition.orders"), kRows);
  ASSERT_EQ(stats_.created_partitions.size(), 11u);  // 2015 ... 2025
  EXPECT_EQ(stats_.created_partitions.front(), "orders_2015");
  EXPECT_EQ(stats_.created_partitions.back(), "orders_2025");
  EXPECT_EQ(count("SELECT count(*) FROM partition.orders_default"), 0);
  EXPECT_EQ(db_->exec("SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = 'partition.orders_2024'::regclass")
                .value(0, 0),
            "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')");
  EXPECT_EQ(stats_.indexed_partitions, (std::vector<std::string>{"orders_2023", "orders_2024"}));
  EXPECT_EQ(count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'partition'"), 2);
}

TEST_F(PartitionLoadTest, DecemberThirtyFirstRowsLandInTheirYearsPartition) {
  // Dense years have two orders every day, 31 December included.
  EXPECT_EQ(count("SELECT count(*) FROM partition.orders_2023 WHERE load_date = '2023-12-31'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM partition.orders_2024 WHERE load_date = '2024-12-31'"), 2);
  // Every row sits in the partition named after its year, checked through tableoid.
  EXPECT_EQ(count("SELECT count(*) FROM partition.orders "
                  "WHERE tableoid::regclass::text <> 'partition.orders_' || extract(year FROM load_date)"),
            0);
  // A new row routed through the parent goes the same way.
  EXPECT_EQ(db_->exec("INSERT INTO partition.orders VALUES (999999, 1, 10.00, 'paid', '2025-12-31') "
                      "RETURNING tableoid::regclass::text")
                .value(0, 0),
            "partition.orders_2025");
}

TEST_F(PartitionLoadTest, RowsWithoutAYearPartitionLandInTheDefaultOneUntilTheirYearIsCreated) {
  db_->exec("INSERT INTO partition.orders VALUES (900001, 1, 1.00, 'paid', '1999-06-01'), "
            "(900002, 2, 2.00, 'paid', '1999-12-31'), (900003, 3, 3.00, 'paid', '2030-01-01')");
  EXPECT_EQ(count("SELECT count(*) FROM partition.orders_default"), 3);
  const auto created = db_->transaction([&] { return create_missing_year_partitions(*db_, 1999, 2000); });
  EXPECT_EQ(created, (std::vector<std::string>{"orders_1999", "orders_2000"}));
  EXPECT_EQ(count("SELECT count(*) FROM partition.orders_1999"), 2);  // moved out of the default partition
  EXPECT_EQ(count("SELECT count(*) FROM partition.orders_default"), 1);  // 2030 still has no year
  EXPECT_EQ(count("SELECT count(*) FROM partition.orders"), kRows + 3);
  // Creating again finds nothing missing.
  EXPECT_TRUE(db_->transaction([&] { return create_missing_year_partitions(*db_, 1999, 2000); }).empty());
  EXPECT_TRUE(db_->transaction([&] { return create_missing_year_partitions(*db_, 2015, 2025); }).empty());
}

TEST_F(PartitionLoadTest, PruningReadsOnlyTheExpectedPartitions) {
  const std::map<std::string, std::set<std::string>> expected = {
      {"one-year", {"orders_2024"}},
      {"two-years", {"orders_2024", "orders_2025"}},
      {"new-years-eve", {"orders_2024"}},
      {"before-first-year", {"orders_2015", "orders_default"}},  // 2014 has no partition of its own
  };
  ASSERT_EQ(demonstration_queries().size(), expected.size());
  for (const auto& q : demonstration_queries()) {
    const PlanSummary plan = explain_orders_between(*db_, q.from, q.to);
    EXPECT_EQ(relations(plan), expected.at(q.name)) << q.name;
    const std::string sql = "SELECT count(*) FROM partition.orders WHERE load_date >= '" + q.from +
                            "' AND load_date < '" + q.to + "'";
    EXPECT_EQ(plan.rows, count(sql)) << q.name;
  }
  EXPECT_EQ(explain_orders_between(*db_, "2024-12-31", "2025-01-01").rows, 2);
  // With sequential scans discouraged, the indexed partition is read through its index.
  db_->exec("SET enable_seqscan = off");
  const PlanSummary indexed = explain_orders_between(*db_, "2024-03-01", "2024-03-08");
  db_->exec("RESET enable_seqscan");
  ASSERT_EQ(indexed.scans.size(), 1u);
  EXPECT_EQ(indexed.scans[0].index_name, "orders_2024_load_date_idx");
}

TEST_F(PartitionLoadTest, RerunsArePredictable) {
  const auto first = fingerprint();
  ASSERT_EQ(first.size(), 11u);  // the default partition is empty, so it has no group
  recreate_and_load(*db_, OrderSpreadGenerator(kSpreads, 42), small_load());
  EXPECT_EQ(fingerprint(), first);
  // Another seed: same rows per partition (dates do not depend on it), other values.
  recreate_and_load(*db_, OrderSpreadGenerator(kSpreads, 43), small_load());
  const auto other = fingerprint();
  ASSERT_EQ(other.size(), first.size());
  for (const auto& [partition, print] : first) {
    EXPECT_EQ(other.at(partition).substr(0, other.at(partition).find('|')), print.substr(0, print.find('|')));
    EXPECT_NE(other.at(partition), print);
  }
}
