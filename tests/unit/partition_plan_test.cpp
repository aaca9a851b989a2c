#include "modules/partition/plan_summary.h"

#include <gtest/gtest.h>

#include "core/error.h"

using namespace datalab;
using namespace datalab::partition;

namespace {

// Shaped like PostgreSQL 15's EXPLAIN (ANALYZE, FORMAT JSON) of a range query on a
// partitioned table (costs and timings trimmed).
const char* kThreePartitions = R"json([
  {
    "Plan": {
      "Node Type": "Append", "Parallel Aware": false, "Actual Rows": 42, "Actual Loops": 1,
      "Subplans Removed": 0,
      "Plans": [
        {"Node Type": "Seq Scan", "Parent Relationship": "Member", "Relation Name": "orders_2015",
         "Alias": "orders_1", "Actual Rows": 2, "Actual Loops": 1,
         "Filter": "((load_date >= '2014-07-01'::date) AND (load_date < '2015-07-01'::date))"},
        {"Node Type": "Bitmap Heap Scan", "Parent Relationship": "Member", "Relation Name": "orders_2024",
         "Alias": "orders_2", "Actual Rows": 30, "Actual Loops": 1,
         "Plans": [
           {"Node Type": "Bitmap Index Scan", "Parent Relationship": "Outer",
            "Index Name": "orders_2024_load_date_idx", "Actual Rows": 30, "Actual Loops": 1}
         ]},
        {"Node Type": "Index Scan", "Parent Relationship": "Member", "Scan Direction": "Forward",
         "Index Name": "orders_2025_load_date_idx", "Relation Name": "orders_2025", "Alias": "orders_3",
         "Actual Rows": 10, "Actual Loops": 1}
      ]
    },
    "Planning Time": 0.512,
    "Triggers": [],
    "Execution Time": 1.25
  }
])json";

// One partition left after pruning: no Append, the scan is the plan's root.
const char* kOnePartition = R"json([{"Plan": {"Node Type": "Index Scan", "Index Name": "orders_2024_load_date_idx",
  "Relation Name": "orders_2024", "Actual Rows": 2740, "Actual Loops": 1},
  "Planning Time": 0.1, "Execution Time": 0.9}])json";

// A parallel plan: per-worker rows are averaged over loops; runtime pruning removed two.
const char* kParallel = R"json([{"Plan": {"Node Type": "Gather", "Actual Rows": 900, "Actual Loops": 1,
  "Plans": [{"Node Type": "Parallel Append", "Actual Rows": 300, "Actual Loops": 3, "Subplans Removed": 2,
    "Plans": [{"Node Type": "Parallel Seq Scan", "Relation Name": "orders_default", "Actual Rows": 300,
               "Actual Loops": 3}]}]},
  "Planning Time": 0.2, "Execution Time": 12.5}])json";

}  // namespace

TEST(PartitionPlan, CollectsEachScannedPartitionWithItsScanAndIndex) {
  const PlanSummary plan = summarize_explain_json(kThreePartitions);
  ASSERT_EQ(plan.scans.size(), 3u);
  EXPECT_EQ(plan.scans[0].relation, "orders_2015");
  EXPECT_EQ(plan.scans[0].node_type, "Seq Scan");
  EXPECT_FALSE(plan.scans[0].uses_index());
  EXPECT_EQ(plan.scans[0].rows, 2);
  EXPECT_EQ(plan.scans[1].relation, "orders_2024");
  EXPECT_EQ(plan.scans[1].node_type, "Bitmap Heap Scan");
  EXPECT_EQ(plan.scans[1].index_name, "orders_2024_load_date_idx");  // from the Bitmap Index Scan below
  EXPECT_EQ(plan.scans[2].node_type, "Index Scan");
  EXPECT_EQ(plan.scans[2].index_name, "orders_2025_load_date_idx");
  EXPECT_EQ(plan.rows, 42);
  EXPECT_DOUBLE_EQ(plan.planning_ms, 0.512);
  EXPECT_DOUBLE_EQ(plan.execution_ms, 1.25);
  EXPECT_EQ(plan.subplans_removed, 0);
}

TEST(PartitionPlan, ASinglePartitionPlanHasTheScanAtItsRoot) {
  const PlanSummary plan = summarize_explain_json(kOnePartition);
  ASSERT_EQ(plan.scans.size(), 1u);
  EXPECT_EQ(plan.scans[0].relation, "orders_2024");
  EXPECT_TRUE(plan.scans[0].uses_index());
  EXPECT_EQ(plan.rows, 2740);
}

TEST(PartitionPlan, ParallelRowsCountEveryLoopAndRuntimePruningIsCounted) {
  const PlanSummary plan = summarize_explain_json(kParallel);
  ASSERT_EQ(plan.scans.size(), 1u);
  EXPECT_EQ(plan.scans[0].relation, "orders_default");
  EXPECT_EQ(plan.scans[0].rows, 900);
  EXPECT_EQ(plan.rows, 900);
  EXPECT_EQ(plan.subplans_removed, 2);
}

TEST(PartitionPlan, RejectsWhatIsNotAJsonPlan) {
  EXPECT_THROW(summarize_explain_json("Seq Scan on orders_2024"), Error);
  EXPECT_THROW(summarize_explain_json("[]"), Error);
  EXPECT_THROW(summarize_explain_json(R"({"Plan": {}})"), Error);
}
