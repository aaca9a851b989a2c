#pragma once
// The week 5 story on a ClickHouse server: create and fill web_logs, then run the four
// analytics before and after their optimization — projections where the server has them,
// materialized views otherwise — and compare results and per-query statistics.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "datagen/web_log_generator.h"
#include "storage/clickhouse/clickhouse_client.h"
#include "storage/clickhouse/parallel_inserter.h"

namespace datalab::clickhouse {

enum class Optimization { MaterializedView, Projection };
std::string_view to_string(Optimization optimization);

struct ServerFeatures {
  std::string version_text;
  ServerVersion version;
  bool projections = false;  // ALTER ... ADD PROJECTION, used by the optimizer by default (22.3+)

  static ServerFeatures from_version(const std::string& version_text);
  static ServerFeatures detect(ClickHouseClient& client);
  Optimization best_optimization() const {
    return projections ? Optimization::Projection : Optimization::MaterializedView;
  }
};

struct AnalyticsQuery {
  std::string name;       // "requests_per_day"
  std::string title;      // "Requests per day"
  std::string_view sql;   // on the raw rows
  std::string_view view_sql;  // on the materialized view's table
  std::string view_table;     // that table (SummingMergeTree / AggregatingMergeTree)
  bool projection_capable;    // false: uses its materialized view on every server
};
const std::vector<AnalyticsQuery>& analytics_queries();

// Drops web_logs and everything derived from it, then creates web_logs empty.
void recreate_web_logs(ClickHouseClient& client);

struct LoadOptions {
  int64_t rows = 10'000'000;
  int64_t batch_rows = 250'000;
  ParallelInsertOptions insert;
};
// Generates rows with `generator` on insert.threads threads and streams them into web_logs.
ParallelInsertSummary load_web_logs(const ClickHouseSettings& settings, const WebLogGenerator& generator,
                                    const LoadOptions& options, const std::function<void(int64_t)>& on_rows);

// Polls system.merges and system.mutations until nothing runs on these tables. Returns
// false when `timeout` passes first.
bool wait_until_settled(ClickHouseClient& client, const std::vector<std::string>& tables,
                        std::chrono::seconds timeout);

struct QueryRun {
  QueryResult result;
  QueryStatistics statistics;  // from system.query_log (the response's numbers when absent)
};

struct AnalyticsComparison {
  const AnalyticsQuery* query = nullptr;
  std::string optimization;  // "projection requests_per_day", "materialized view ..."
  QueryRun before, after;
  bool identical = false;
};

// Runs every query, applies the optimizations, waits until they are fully built, runs the
// queries again and collects statistics for both runs.
std::vector<AnalyticsComparison> run_analytics(ClickHouseClient& client, Optimization optimization);

}  // namespace datalab::clickhouse
