#pragma once
// Week 5: web-log analytics on ClickHouse. Fills web_logs with generated rows, runs the four
// analytics before and after their optimization (projections or materialized views, by what
// the server supports) and reports each query's statistics and speed-up.
#include <cstdint>
#include <string>

#include "modules/module.h"

namespace datalab::clickhouse {

struct ClickHouseRunOptions {
  std::string rows = "10000000";  // parsed by the module, for a clear message on bad input
  uint64_t seed = 42;
  std::string as_of = "2025-06-30";  // rows cover the 6 months before it, so reruns match
  std::string batch_rows = "250000";  // ~70 MiB peak; as fast as 1M-row batches (bench/clickhouse)
  int threads = 0;                  // 0: one per core
  std::string compression = "none";  // none | gzip
  std::string optimization = "auto";  // auto | projection | materialized-view
  bool analytics = true;              // false: create and load web_logs only (benchmarks)
};

// "10000000", "10_000_000" or "10,000,000" -> 10000000; throws ConfigError naming the flag.
int64_t parse_row_count(const std::string& text, const std::string& flag);

class ClickHouseModule : public Module {
 public:
  std::string name() const override { return "clickhouse"; }
  std::string summary() const override {
    return "web-log analytics on ClickHouse with per-query statistics, before/after optimization (week 5)";
  }
  void add_run_flags(CLI::App& command) override;
  void add_commands(CLI::App& root, AppContext& context) override;
  void run(AppContext& context) override;
  ModuleFootprint footprint(const Config& config) const override;

 private:
  ClickHouseRunOptions options_;
  std::string query_sql_;  // `datalab clickhouse query SQL`
};

}  // namespace datalab::clickhouse
