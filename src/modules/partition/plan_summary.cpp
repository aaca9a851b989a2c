#include "modules/partition/plan_summary.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace datalab::partition {

namespace {

using nlohmann::json;

int64_t produced_rows(const json& node) {
  return node.value("Actual Rows", int64_t{0}) * node.value("Actual Loops", int64_t{1});
}

// A Bitmap Heap Scan names its index only on the Bitmap Index Scan below it (several when
// the bitmaps are combined with BitmapAnd/BitmapOr).
std::string bitmap_indexes(const json& node) {
  std::string names;
  if (node.contains("Index Name")) names = node["Index Name"].get<std::string>();
  for (const auto& child : node.value("Plans", json::array())) {
    const auto more = bitmap_indexes(child);
    if (!more.empty()) names += (names.empty() ? "" : ", ") + more;
  }
  return names;
}

void walk(const json& node, PlanSummary& summary) {
  summary.subplans_removed += node.value("Subplans Removed", int64_t{0});
  if (node.contains("Relation Name")) {
    PartitionScan scan;
    scan.relation = node["Relation Name"].get<std::string>();
    scan.node_type = node.value("Node Type", "");
    scan.index_name = scan.node_type == "Bitmap Heap Scan" ? bitmap_indexes(node) : node.value("Index Name", "");
    scan.rows = produced_rows(node);
    summary.scans.push_back(std::move(scan));
    return;  // a scan's children are its bitmap index scans, already accounted for
  }
  for (const auto& child : node.value("Plans", json::array())) walk(child, summary);
}

}  // namespace

PlanSummary summarize_explain_json(std::string_view json_text) {
  const json document = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  // EXPLAIN (FORMAT JSON) returns a one-element array: [{"Plan": {...}, "Execution Time": ...}]
  if (!document.is_array() || document.empty() || !document[0].is_object() || !document[0].contains("Plan")) {
    throw Error("not an EXPLAIN (FORMAT JSON) plan: " + std::string(json_text.substr(0, 120)));
  }
  const json& top = document[0];
  PlanSummary summary;
  walk(top["Plan"], summary);
  summary.rows = produced_rows(top["Plan"]);
  summary.planning_ms = top.value("Planning Time", 0.0);
  summary.execution_ms = top.value("Execution Time", 0.0);
  return summary;
}

}  // namespace datalab::partition
