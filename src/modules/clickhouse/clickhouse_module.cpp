#include "modules/clickhouse/clickhouse_module.h"

#include <optional>

#include <fmt/format.h>

#include "core/dates.h"
#include "core/error.h"
#include "core/progress.h"
#include "modules/clickhouse/web_log_analytics.h"

namespace datalab::clickhouse {

namespace {

std::string milliseconds(double seconds) { return fmt::format("{:.1f}", seconds * 1000); }

std::string ratio(double before, double after) {
  if (after <= 0 || before <= 0) return "-";
  return fmt::format("{:.1f}x", before / after);
}

ResultTable statistics_table(const AnalyticsComparison& c) {
  ResultTable table{{"statistic", "before", "after", "before/after"},
                    {ValueKind::Text, ValueKind::Number, ValueKind::Number, ValueKind::Text}, {}};
  const auto& b = c.before.statistics;
  const auto& a = c.after.statistics;
  auto row = [&](const char* name, double before, double after, std::string before_text, std::string after_text) {
    table.add_row({name, std::move(before_text), std::move(after_text), ratio(before, after)});
  };
  row("elapsed ms (server)", b.elapsed_seconds, a.elapsed_seconds, milliseconds(b.elapsed_seconds),
      milliseconds(a.elapsed_seconds));
  row("elapsed ms (client)", c.before.result.client_seconds, c.after.result.client_seconds,
      milliseconds(c.before.result.client_seconds), milliseconds(c.after.result.client_seconds));
  auto count = [&](const char* name, uint64_t before, uint64_t after) {
    row(name, static_cast<double>(before), static_cast<double>(after), std::to_string(before), std::to_string(after));
  };
  count("memory bytes", b.memory_bytes, a.memory_bytes);
  count("rows read", b.read_rows, a.read_rows);
  count("bytes read", b.read_bytes, a.read_bytes);
  count("result rows", b.result_rows, a.result_rows);
  count("result bytes", b.result_bytes, a.result_bytes);
  return table;
}

ResultTable first_rows(const QueryResult& result, std::size_t limit) {
  ResultTable table = result.to_table();
  if (table.rows.size() > limit) table.rows.resize(limit);
  return table;
}

int32_t parse_as_of(const std::string& text) {
  const auto date = parse_iso_date(text);
  if (!date) throw ConfigError(fmt::format("--as-of '{}' is not a date (expected YYYY-MM-DD)", text));
  return *date;
}

BodyCompression parse_compression(const std::string& text) {
  if (text == "none") return BodyCompression::None;
  if (text == "gzip") return BodyCompression::Gzip;
  throw ConfigError(fmt::format("--compression '{}' is not one of: none, gzip", text));
}

Optimization choose_optimization(const std::string& wanted, const ServerFeatures& features) {
  if (wanted == "auto") return features.best_optimization();
  if (wanted == "materialized-view") return Optimization::MaterializedView;
  if (wanted == "projection") {
    if (!features.projections) {
      throw ConfigError(fmt::format("--optimization projection needs ClickHouse 22.3 or newer; the server is {}",
                                    features.version_text));
    }
    return Optimization::Projection;
  }
  throw ConfigError(fmt::format("--optimization '{}' is not one of: auto, projection, materialized-view", wanted));
}

}  // namespace

int64_t parse_row_count(const std::string& text, const std::string& flag) {
  std::string digits;
  for (const char c : text) {
    if (c == '_' || c == ',') continue;
    if (c < '0' || c > '9' || digits.size() >= 15) {
      throw ConfigError(fmt::format("{} '{}' is not a whole number of rows (e.g. 10000000)", flag, text));
    }
    digits += c;
  }
  if (digits.empty() || std::stoll(digits) < 1) {
    throw ConfigError(fmt::format("{} '{}' must be a positive whole number", flag, text));
  }
  return std::stoll(digits);
}

void ClickHouseModule::add_commands(CLI::App& root, AppContext& context) {
  auto* group = root.add_subcommand("clickhouse", "queries on the ClickHouse server, with their statistics");
  group->require_subcommand(1);
  auto* query = group->add_subcommand("query", "run one query; show its result and statistics from system.query_log");
  query->add_option("sql", query_sql_, "the query (SELECT, SHOW, DESCRIBE, ...)")->required();
  query->callback([this, &context] {
    ClickHouseClient client(ClickHouseSettings::from(context.config));
    QueryOptions options;
    options.query_id = new_query_id("query");
    const auto result = client.select(query_sql_, options);
    QueryStatistics stats = result.response_statistics.value_or(QueryStatistics{});
    if (const auto logged = client.query_log({options.query_id}); !logged.empty()) stats = logged.front();
    Report report(context.format);
    report.table("result", result.to_table());
    report.summary("statistics", {{"query id", options.query_id},
                                  {"elapsed ms (server)", milliseconds(stats.elapsed_seconds)},
                                  {"elapsed ms (client)", milliseconds(result.client_seconds)},
                                  {"memory bytes", std::to_string(stats.memory_bytes)},
                                  {"rows read", std::to_string(stats.read_rows)},
                                  {"bytes read", std::to_string(stats.read_bytes)},
                                  {"result rows", std::to_string(stats.result_rows)},
                                  {"result bytes", std::to_string(stats.result_bytes)}});
    report.finish();
  });
}

void ClickHouseModule::add_run_flags(CLI::App& command) {
  command.add_option("--rows", options_.rows, "web_logs rows to generate")->capture_default_str();
  command.add_option("--seed", options_.seed, "random seed: the same seed gives the same rows")->capture_default_str();
  command.add_option("--as-of", options_.as_of, "rows cover the 6 months before this date (UTC)")
      ->capture_default_str();
  command.add_option("--batch-rows", options_.batch_rows, "rows per INSERT (one Native block each)")
      ->capture_default_str();
  command.add_option("--threads", options_.threads, "generate-and-insert threads (0: one per core)")
      ->capture_default_str();
  command.add_option("--compression", options_.compression, "request body compression: none | gzip")
      ->capture_default_str();
  command.add_option("--optimization", options_.optimization, "auto | projection | materialized-view")
      ->capture_default_str();
  command.add_flag("!--load-only", options_.analytics, "create and fill web_logs, skip the analytics");
}

void ClickHouseModule::run(AppContext& context) {
  // Validate every flag before touching the server.
  LoadOptions load;
  load.rows = parse_row_count(options_.rows, "--rows");
  load.batch_rows = parse_row_count(options_.batch_rows, "--batch-rows");
  load.insert.threads = options_.threads;
  load.insert.compression = parse_compression(options_.compression);
  const WebLogGenerator generator(options_.seed, parse_as_of(options_.as_of));

  const auto settings = ClickHouseSettings::from(context.config);
  ClickHouseClient client(settings);
  const auto features = ServerFeatures::detect(client);
  const Optimization optimization = choose_optimization(options_.optimization, features);

  Report report(context.format);
  report.summary("clickhouse: web_logs analytics",
                 {{"server", fmt::format("ClickHouse {} at {}", features.version_text, settings.describe())},
                  {"projections", features.projections ? "supported" : "not supported (server older than 22.3)"},
                  {"optimization", std::string(to_string(optimization))},
                  {"rows", std::to_string(load.rows)},
                  {"seed", std::to_string(options_.seed)},
                  {"time range", fmt::format("{} .. {} (UTC, end exclusive)",
                                             format_iso_date(static_cast<int32_t>(generator.first_second() / 86400)),
                                             format_iso_date(static_cast<int32_t>(generator.end_second() / 86400)))}});

  recreate_web_logs(client);
  std::optional<ProgressBar> progress;
  if (context.format == OutputFormat::Table) progress.emplace("web_logs", static_cast<uint64_t>(load.rows));
  const auto loaded = load_web_logs(settings, generator, load, [&](int64_t rows) {
    if (progress) progress->advance(static_cast<uint64_t>(rows));
  });
  if (progress) progress->finish();
  const auto stored = std::stoll(client.scalar("SELECT count() FROM web_logs"));
  if (stored != load.rows) {
    throw ServiceError(fmt::format("web_logs holds {} rows after inserting {}", stored, load.rows));
  }
  ResultTable load_table{{"table", "rows", "seconds", "rows/s", "batches", "threads", "format", "MB encoded", "MB sent"},
                         {ValueKind::Text, ValueKind::Number, ValueKind::Number, ValueKind::Number, ValueKind::Number,
                          ValueKind::Number, ValueKind::Text, ValueKind::Number, ValueKind::Number},
                         {}};
  load_table.add_row({"web_logs", std::to_string(loaded.rows), fmt::format("{:.3f}", loaded.seconds),
                      std::to_string(static_cast<int64_t>(loaded.rows / std::max(loaded.seconds, 1e-9))),
                      std::to_string(loaded.batches), std::to_string(loaded.threads),
                      options_.compression == "gzip" ? "Native + gzip" : "Native",
                      fmt::format("{:.1f}", loaded.encoded_bytes / 1e6), fmt::format("{:.1f}", loaded.sent_bytes / 1e6)});
  report.table("generated and inserted over HTTP", load_table);
  if (!options_.analytics) {
    report.finish();
    return;
  }

  // Background merges of the fresh parts would skew the "before" timings.
  if (!wait_until_settled(client, {"web_logs"}, std::chrono::seconds(120))) {
    report.note("note: web_logs was still merging after 120 s; timings include that load");
  }

  const auto comparisons = run_analytics(client, optimization);
  ResultTable overview{{"query", "optimization", "before ms", "after ms", "speed-up", "rows read before",
                        "rows read after", "identical results"},
                       {ValueKind::Text, ValueKind::Text, ValueKind::Number, ValueKind::Number, ValueKind::Text,
                        ValueKind::Number, ValueKind::Number, ValueKind::Bool},
                       {}};
  std::vector<std::string> differing;
  for (const auto& c : comparisons) {
    report.table(fmt::format("{}: before vs after ({})", c.query->title, c.optimization), statistics_table(c));
    report.table(fmt::format("{}: result{}", c.query->title,
                             c.after.result.rows.size() > 10 ? " (first 10 rows)" : ""),
                 first_rows(c.after.result, 10));
    overview.add_row({c.query->name, c.optimization, milliseconds(c.before.statistics.elapsed_seconds),
                      milliseconds(c.after.statistics.elapsed_seconds),
                      ratio(c.before.statistics.elapsed_seconds, c.after.statistics.elapsed_seconds),
                      std::to_string(c.before.statistics.read_rows), std::to_string(c.after.statistics.read_rows),
                      c.identical ? "true" : "false"});
    if (!c.identical) differing.push_back(c.query->name);
  }
  report.table("analytics before and after optimization", overview);
  report.finish();
  if (!differing.empty()) {
    throw Error(fmt::format("results differ before and after optimization: {}", fmt::join(differing, ", ")));
  }
}

ModuleFootprint ClickHouseModule::footprint(const Config&) const {
  // The materialized views first: each feeds a table from web_logs.
  return {{},
          {"web_logs_errors_per_day_mv", "web_logs_requests_per_day_mv", "web_logs_requests_per_user_mv",
           "web_logs_response_per_url_mv", "web_logs_errors_per_day", "web_logs_requests_per_day",
           "web_logs_requests_per_user", "web_logs_response_per_url", "web_logs"},
          {},
          {},
          {}};
}

std::unique_ptr<Module> make_module() { return std::make_unique<ClickHouseModule>(); }

}  // namespace datalab::clickhouse
