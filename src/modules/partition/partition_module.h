#pragma once
// Week 4: orders range-partitioned by load date, one partition per year plus a default
// one; generated orders loaded straight into their partitions; date-range queries whose
// EXPLAIN shows which partitions survive pruning and how each is scanned.
#include <cstdint>
#include <string>
#include <vector>

#include "modules/module.h"
#include "modules/partition/partition_loader.h"
#include "modules/partition/plan_summary.h"

namespace datalab::partition {

// A date-range query of the demonstration: load_date in [from, to).
struct RangeQuery {
  std::string name;
  std::string title;
  std::string from, to;
};

// The four ranges the module explains: inside one year, across two years, 31 December
// alone, and a range reaching before the first year (so the default partition is read).
const std::vector<RangeQuery>& demonstration_queries();

// EXPLAIN (ANALYZE, FORMAT JSON) of the orders in [from, to), summarized.
PlanSummary explain_orders_between(PgConnection& db, const std::string& from, const std::string& to);

class PartitionModule : public Module {
 public:
  std::string name() const override { return "partition"; }
  std::string summary() const override {
    return "orders partitioned by year: generated load, partition pruning shown by EXPLAIN (week 4)";
  }
  void add_run_flags(CLI::App& command) override;
  void add_commands(CLI::App& root, AppContext& context) override;
  void run(AppContext& context) override;
  ModuleFootprint footprint(const Config&) const override { return {{"partition"}, {}, {}, {}, {}}; }

 private:
  std::vector<std::string> spreads_;
  uint64_t seed_ = 42;
  PartitionLoadOptions load_options_;
  bool explain_ = true;
  // `datalab partition explain` arguments
  std::string from_, to_;
};

}  // namespace datalab::partition
