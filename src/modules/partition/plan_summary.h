#pragma once
// What an EXPLAIN (ANALYZE, FORMAT JSON) says about a query on a partitioned table: which
// partitions survived pruning, how each was read (sequential or through an index), the
// rows returned and the time taken.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace datalab::partition {

struct PartitionScan {
  std::string relation;    // the partition read, e.g. orders_2024
  std::string node_type;   // Seq Scan, Index Scan, Index Only Scan, Bitmap Heap Scan
  std::string index_name;  // empty for a sequential scan
  int64_t rows = 0;        // rows the scan produced (actual rows x loops)
  bool uses_index() const { return !index_name.empty(); }
};

struct PlanSummary {
  std::vector<PartitionScan> scans;  // in plan order
  int64_t rows = 0;                  // rows returned by the query
  int64_t subplans_removed = 0;      // partitions pruned at execution time
  double planning_ms = 0;
  double execution_ms = 0;
};

// Parses the text of EXPLAIN (ANALYZE, FORMAT JSON) output; throws datalab::Error when the
// text is not such a plan.
PlanSummary summarize_explain_json(std::string_view json_text);

}  // namespace datalab::partition
