#include "modules/clickhouse/web_log_analytics.h"

#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/sql_script.h"
#include "modules/clickhouse/clickhouse_sql.h"

namespace datalab::clickhouse {

namespace {

void run_script(ClickHouseClient& client, std::string_view script) {
  for (const auto& statement : split_sql_script(script)) client.execute(statement.text);
}

std::string table_list(const std::vector<std::string>& tables) {
  std::string list;
  for (const auto& table : tables) list += (list.empty() ? "" : ", ") + quote_string(table);
  return list;
}

QueryRun run_measured(ClickHouseClient& client, const AnalyticsQuery& query, std::string_view sql,
                      std::string_view phase) {
  QueryOptions options;
  options.query_id = new_query_id(fmt::format("{}-{}", query.name, phase));
  QueryRun run;
  run.result = client.select(sql, options);
  if (run.result.response_statistics) run.statistics = *run.result.response_statistics;
  run.statistics.query_id = options.query_id;
  return run;
}

}  // namespace

std::string_view to_string(Optimization optimization) {
  return optimization == Optimization::Projection ? "projection" : "materialized view";
}

ServerFeatures ServerFeatures::from_version(const std::string& version_text) {
  ServerFeatures features;
  features.version_text = version_text;
  features.version = parse_server_version(version_text).value_or(ServerVersion{});
  // Projections arrived experimental in 21.6; from 22.3 the optimizer uses them by default.
  features.projections = features.version.at_least(22, 3);
  return features;
}

ServerFeatures ServerFeatures::detect(ClickHouseClient& client) { return from_version(client.server_version()); }

const std::vector<AnalyticsQuery>& analytics_queries() {
  static const std::vector<AnalyticsQuery> queries = {
      {"requests_per_day", "Requests per day", sql::requests_per_day, sql::requests_per_day_from_view,
       "web_logs_requests_per_day", true},
      {"avg_response_per_url", "Average response time per URL", sql::avg_response_per_url,
       sql::avg_response_per_url_from_view, "web_logs_response_per_url", true},
      {"errors_per_day", "4xx and 5xx errors per day", sql::errors_per_day, sql::errors_per_day_from_view,
       "web_logs_errors_per_day", false},
      {"top_users", "Top 10 users by requests", sql::top_users, sql::top_users_from_view,
       "web_logs_requests_per_user", true},
  };
  return queries;
}

void recreate_web_logs(ClickHouseClient& client) { run_script(client, sql::create_web_logs); }

ParallelInsertSummary load_web_logs(const ClickHouseSettings& settings, const WebLogGenerator& generator,
                                    const LoadOptions& options, const std::function<void(int64_t)>& on_rows) {
  const int64_t batches = (options.rows + options.batch_rows - 1) / options.batch_rows;
  return insert_in_parallel(
      settings, "web_logs", batches,
      [&](int64_t n) {
        const int64_t begin = n * options.batch_rows;
        return generator.batch(begin, std::min(options.batch_rows, options.rows - begin));
      },
      on_rows, options.insert);
}

bool wait_until_settled(ClickHouseClient& client, const std::vector<std::string>& tables,
                        std::chrono::seconds timeout) {
  const std::string where = fmt::format("database = {} AND table IN ({})", quote_string(client.settings().database),
                                        table_list(tables));
  const std::string sql = fmt::format(
      "SELECT (SELECT count() FROM system.merges WHERE {0}) + "
      "(SELECT count() FROM system.mutations WHERE {0} AND is_done = 0)",
      where);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(20);
  while (client.scalar(sql) != "0") {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(500));
  }
  return true;
}

std::vector<AnalyticsComparison> run_analytics(ClickHouseClient& client, Optimization optimization) {
  std::vector<AnalyticsComparison> comparisons;
  for (const auto& query : analytics_queries()) {
    AnalyticsComparison comparison;
    comparison.query = &query;
    comparison.before = run_measured(client, query, query.sql, "before");
    comparisons.push_back(std::move(comparison));
  }

  // Optimize, then wait until every derived table or projection is complete.
  run_script(client, sql::errors_per_day_view);
  std::vector<std::string> built = {"web_logs", "web_logs_errors_per_day"};
  if (optimization == Optimization::Projection) {
    run_script(client, sql::projections);
  } else {
    run_script(client, sql::materialized_views);
    for (const char* table : {"web_logs_requests_per_day", "web_logs_response_per_url", "web_logs_requests_per_user"}) {
      built.emplace_back(table);
    }
  }
  // Merge each aggregate table into one part per partition: what a settled server serves.
  for (std::size_t i = 1; i < built.size(); ++i) client.execute("OPTIMIZE TABLE " + quote_identifier(built[i]) + " FINAL");
  if (!wait_until_settled(client, built, std::chrono::seconds(600))) {
    throw ServiceError("the optimizations were still being built after 10 minutes (system.merges / system.mutations)");
  }

  for (auto& comparison : comparisons) {
    const auto& query = *comparison.query;
    const bool projection = optimization == Optimization::Projection && query.projection_capable;
    comparison.optimization = projection ? "projection " + query.name : "materialized view " + query.view_table;
    comparison.after = run_measured(client, query, projection ? query.sql : query.view_sql, "after");
    comparison.identical =
        comparison.before.result.columns == comparison.after.result.columns &&
        comparison.before.result.rows == comparison.after.result.rows;
  }

  // Memory and result sizes are only in the query log.
  std::vector<std::string> ids;
  for (const auto& c : comparisons) {
    ids.push_back(c.before.statistics.query_id);
    ids.push_back(c.after.statistics.query_id);
  }
  const auto logged = client.query_log(ids);
  for (auto& c : comparisons) {
    for (QueryRun* run : {&c.before, &c.after}) {
      for (const auto& s : logged) {
        if (s.query_id != run->statistics.query_id) continue;
        // query_log counts whole milliseconds (18.x); the response's elapsed is finer.
        const double precise_elapsed = run->statistics.elapsed_seconds;
        run->statistics = s;
        if (precise_elapsed > 0) run->statistics.elapsed_seconds = precise_elapsed;
      }
      if (run->statistics.result_rows == 0) run->statistics.result_rows = run->result.rows.size();
    }
  }
  return comparisons;
}

}  // namespace datalab::clickhouse
