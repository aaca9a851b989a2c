#include "modules/partition/partition_module.h"

#include <fmt/format.h>

#include "core/dates.h"
#include "core/error.h"
#include "core/progress.h"
#include "modules/partition/partition_layout.h"
#include "modules/partition/partition_sql.h"

namespace datalab::partition {

namespace {

std::string milliseconds(double ms) { return fmt::format("{:.3f}", ms); }

std::optional<std::string> rate(int64_t rows, double seconds) {
  if (rows <= 0 || seconds <= 0) return std::nullopt;
  return std::to_string(static_cast<int64_t>(rows / seconds));
}

std::string seconds_text(double seconds) { return fmt::format("{:.3f}", seconds); }

std::vector<OrderSpread> spreads_from(const std::vector<std::string>& flags) {
  if (flags.empty()) return original_order_spreads();
  std::vector<OrderSpread> spreads;
  for (const auto& flag : flags) spreads.push_back(parse_order_spread(flag));
  return spreads;
}

void check_date(const std::string& text, const char* flag) {
  if (!parse_iso_date(text)) throw ConfigError(fmt::format("{} '{}' is not a date (expected YYYY-MM-DD)", flag, text));
}

int64_t partition_count(PgConnection& db) {
  return db.exec("SELECT count(*) FROM pg_inherits WHERE inhparent = 'partition.orders'::regclass").integer(0, 0);
}

// One summary row per query and one row per partition scanned.
void report_plans(Report& report, const std::vector<std::pair<RangeQuery, PlanSummary>>& plans, int64_t partitions) {
  ResultTable queries{{"query", "load_date from", "to (excl.)", "partitions scanned", "rows", "planning ms", "execution ms"},
                      {ValueKind::Text, ValueKind::Text, ValueKind::Text, ValueKind::Text, ValueKind::Number,
                       ValueKind::Number, ValueKind::Number},
                      {}};
  ResultTable scans{{"query", "partition", "scan", "index", "rows"},
                    {ValueKind::Text, ValueKind::Text, ValueKind::Text, ValueKind::Text, ValueKind::Number},
                    {}};
  for (const auto& [q, plan] : plans) {
    queries.add_row({q.name, q.from, q.to, fmt::format("{} of {}", plan.scans.size(), partitions),
                     std::to_string(plan.rows), milliseconds(plan.planning_ms), milliseconds(plan.execution_ms)});
    for (const auto& s : plan.scans) {
      scans.add_row({q.name, s.relation, s.node_type, s.index_name, std::to_string(s.rows)});
    }
  }
  report.table("date-range queries after partition pruning (EXPLAIN ANALYZE)", queries);
  report.table("partitions each query scanned, and how", scans);
}

}  // namespace

const std::vector<RangeQuery>& demonstration_queries() {
  static const std::vector<RangeQuery> queries = {
      {"one-year", "a week inside 2024", "2024-03-01", "2024-03-08"},
      {"two-years", "December 2024 and January 2025", "2024-12-01", "2025-02-01"},
      {"new-years-eve", "31 December 2024 alone (the original lost it to the default partition)", "2024-12-31",
       "2025-01-01"},
      {"before-first-year", "from mid-2014, before the first year partition: the default one must be read",
       "2014-07-01", "2015-07-01"},
  };
  return queries;
}

PlanSummary explain_orders_between(PgConnection& db, const std::string& from, const std::string& to) {
  const PgResult r = db.exec("EXPLAIN (ANALYZE, FORMAT JSON) " + std::string(sql::orders_between), {from, to});
  std::string text;
  for (int row = 0; row < r.rows(); ++row) text += r.value(row, 0);
  return summarize_explain_json(text);
}

void PartitionModule::add_run_flags(CLI::App& command) {
  command.add_option("--spread", spreads_,
                     "COUNT:YEARS:START_YEAR: COUNT orders spread evenly, in time order, over YEARS years "
                     "from 1 January START_YEAR (repeatable; default: the original's four calls "
                     "1000:10:2015 10000:5:2020 1000000:2:2024 1000000:1:2025, 2,011,000 orders)");
  command.add_option("--seed", seed_, "random seed: the same seed gives the same orders")->capture_default_str();
  command.add_option("--batch-rows", load_options_.batch_rows, "rows per generated Arrow batch")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}));
  command.add_option("--index-min-rows", load_options_.index_min_rows,
                     "partitions with at least this many rows get an index on load_date")
      ->capture_default_str();
  command.add_flag("!--no-explain", explain_, "load only: skip the partition listing and the EXPLAIN demonstrations");
}

void PartitionModule::run(AppContext& context) {
  Report report(context.format);
  const OrderSpreadGenerator generator(spreads_from(spreads_), seed_);
  PgConnection db(PostgresSettings::from(context.config));
  std::vector<std::string> described;
  for (const auto& s : generator.spreads()) described.push_back(s.to_string());
  report.note(fmt::format("partition: loading {} orders ({}) into PostgreSQL {} (seed {})",
                          with_thousands(static_cast<uint64_t>(generator.total_rows())), fmt::join(described, " "),
                          db.settings().describe(), seed_));

  load_options_.show_progress = context.format == OutputFormat::Table;
  const auto stats = recreate_and_load(db, generator, load_options_);
  ResultTable load{{"step", "rows", "seconds", "rows/s"},
                   {ValueKind::Text, ValueKind::Number, ValueKind::Number, ValueKind::Number},
                   {}};
  // Steps that load no rows leave rows and rows/s empty (NULL in JSON).
  load.add_row({fmt::format("create year partitions ({})", stats.created_partitions.size()), std::nullopt,
                seconds_text(stats.partitions_seconds), std::nullopt});
  load.add_row({"generate + COPY binary (FREEZE) into year partitions", std::to_string(stats.rows),
                seconds_text(stats.copy_seconds), rate(stats.rows, stats.copy_seconds)});
  load.add_row({fmt::format("index load_date: {}", fmt::join(stats.indexed_partitions, ", ")), std::nullopt,
                seconds_text(stats.index_seconds), std::nullopt});
  load.add_row({"ANALYZE", std::nullopt, seconds_text(stats.analyze_seconds), std::nullopt});
  report.table("generated and loaded", load);

  if (explain_) {
    report.table("partitions of partition.orders", db.exec(sql::partitions).to_table());
    std::vector<std::pair<RangeQuery, PlanSummary>> plans;
    for (const auto& q : demonstration_queries()) plans.emplace_back(q, explain_orders_between(db, q.from, q.to));
    report_plans(report, plans, partition_count(db));
  }
  report.finish();
}

void PartitionModule::add_commands(CLI::App& root, AppContext& context) {
  auto* cmd = root.add_subcommand("partition", "inspect the partitioned orders table");
  cmd->require_subcommand(1);

  cmd->add_subcommand("list", "partitions with bounds, rows, 31 December rows and indexes")->callback([&context] {
    PgConnection db(PostgresSettings::from(context.config));
    Report report(context.format);
    report.table("partitions of partition.orders", db.exec(sql::partitions).to_table());
    report.finish();
  });

  auto* explain = cmd->add_subcommand("explain", "which partitions a load_date range reads, and how (EXPLAIN ANALYZE)");
  explain->add_option("--from", from_, "first load date, YYYY-MM-DD (inclusive)")->required();
  explain->add_option("--to", to_, "last load date, YYYY-MM-DD (exclusive)")->required();
  explain->callback([this, &context] {
    check_date(from_, "--from");
    check_date(to_, "--to");
    PgConnection db(PostgresSettings::from(context.config));
    Report report(context.format);
    report_plans(report, {{RangeQuery{"range", "", from_, to_}, explain_orders_between(db, from_, to_)}},
                 partition_count(db));
    report.finish();
  });
}

std::unique_ptr<Module> make_module() { return std::make_unique<PartitionModule>(); }

}  // namespace datalab::partition
