#include "modules/star/star_module.h"

#include <filesystem>

#include <fmt/format.h>

#include "core/dates.h"
#include "core/error.h"
#include "core/progress.h"
#include "modules/star/star_loader.h"
#include "modules/star/star_sql.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab::star {

namespace {

constexpr int kShownRows = 12;

ResultTable rejected_table(const std::vector<InputRejection>& rejected) {
  ResultTable table{{"file", "row", "reason"}, {ValueKind::Text, ValueKind::Number, ValueKind::Text}, {}};
  for (const auto& r : rejected) table.add_row({r.file, std::to_string(r.row), r.reason});
  return table;
}

ResultTable changes_table(const std::vector<RoundChanges>& changes) {
  ResultTable table{{"dimension", "round", "received", "unchanged", "closed versions", "new versions"},
                    {ValueKind::Text, ValueKind::Number, ValueKind::Number, ValueKind::Number, ValueKind::Number,
                     ValueKind::Number},
                    {}};
  for (const auto& c : changes) {
    table.add_row({c.dimension, std::to_string(c.round), std::to_string(c.received), std::to_string(c.unchanged),
                   std::to_string(c.closed), std::to_string(c.opened)});
  }
  return table;
}

ResultTable steps_table(const std::vector<StepTiming>& steps) {
  ResultTable table{{"step", "rows", "seconds", "rows/s"},
                    {ValueKind::Text, ValueKind::Number, ValueKind::Number, ValueKind::Number}, {}};
  for (const auto& s : steps) {
    table.add_row({s.step, std::to_string(s.rows), fmt::format("{:.3f}", s.seconds),
                   s.rows > 0 && s.seconds > 0 ? std::to_string(static_cast<int64_t>(s.rows / s.seconds)) : "-"});
  }
  return table;
}

}  // namespace

int32_t parse_load_date(const std::string& text) {
  if (text.empty()) return today_utc();
  const auto date = parse_iso_date(text);
  if (!date) throw ConfigError(fmt::format("--load-date '{}' is not a date (expected YYYY-MM-DD)", text));
  return *date;
}

void StarModule::add_run_flags(CLI::App& command) {
  source_flag_ = command.add_option("--source", options_.source,
                                    "fixtures (shipped story) | generated | folder with customers/products/sales CSV")
                     ->capture_default_str();
  size_flags_ = {
      command.add_option("--customers", options_.sizes.customers, "customers to generate (implies --source generated)")
          ->capture_default_str(),
      command.add_option("--products", options_.sizes.products, "products to generate (implies --source generated)")
          ->capture_default_str(),
      command.add_option("--sales", options_.sizes.sales, "sales to generate (implies --source generated)")
          ->capture_default_str()};
  command.add_option("--seed", options_.seed, "random seed: the same seed gives the same data")->capture_default_str();
  command.add_option("--load-date", options_.load_date, "SCD2 date of this load, YYYY-MM-DD (default: today)");
  command.add_option("--batch-rows", options_.batch_rows, "rows per generated batch")->capture_default_str();
}

void StarModule::run(AppContext& context) {
  std::string source = options_.source;
  const bool sizes_given = std::any_of(size_flags_.begin(), size_flags_.end(), [](auto* f) { return f && f->count() > 0; });
  if (sizes_given && (!source_flag_ || source_flag_->count() == 0)) source = "generated";
  if (options_.batch_rows <= 0) throw ConfigError("--batch-rows must be positive");
  const int32_t load_date = parse_load_date(options_.load_date);

  Report report(context.format);
  StarInput input;
  std::optional<StarGenerator> generator;
  StarBatches batches;
  if (source == "generated") {
    generator.emplace(options_.sizes, options_.seed);
    batches = batches_from(*generator, options_.batch_rows);
  } else {
    if (source == "fixtures") {
      input = fixture_input();
    } else if (std::filesystem::is_directory(source)) {
      input = read_star_directory(source);
    } else {
      throw ConfigError(fmt::format("--source '{}': expected fixtures, generated or a folder", source));
    }
    batches = batches_from(input);
  }

  PgConnection db(PostgresSettings::from(context.config));
  report.note(fmt::format("star: {} into PostgreSQL {}, load date {}",
                          source == "generated"
                              ? fmt::format("generated data ({} customers, {} products, {} sales, seed {})",
                                            with_thousands(options_.sizes.customers), with_thousands(options_.sizes.products),
                                            with_thousands(options_.sizes.sales), options_.seed)
                              : "input " + source,
                          db.settings().describe(), format_iso_date(load_date)));
  for (const auto& warning : input.warnings) report.note("warning: " + warning);
  if (!input.rejected.empty()) report.table("rejected input rows", rejected_table(input.rejected));

  const auto result = load_star(db, batches, load_date, LoadMode::Recreate, context.format == OutputFormat::Table);
  report.table("SCD2 changes per load round (a repeated key is its next round)", changes_table(result.changes));
  report.summary("sales_fact load", {{"sales staged", with_thousands(result.sales_staged)},
                                     {"facts inserted", with_thousands(result.sales_loaded)},
                                     {"already loaded (skipped)", with_thousands(result.sales_already_loaded)},
                                     {"rejected: no current customer or product", with_thousands(result.sales_unmatched)}});
  if (!result.unmatched_examples.empty()) {
    ResultTable unmatched{{"sale_id", "reason"}, {ValueKind::Number, ValueKind::Text}, {}};
    for (const auto& [id, reason] : result.unmatched_examples) unmatched.add_row({std::to_string(id), reason});
    report.table(fmt::format("rejected sales (first {})", StarLoadResult::kUnmatchedExamples), unmatched);
  }
  report.table("load steps", steps_table(result.steps));
  const std::string limit = std::to_string(kShownRows);
  report.table(fmt::format("customer_dim versions (first {})", kShownRows), db.exec(sql::customer_versions, {limit}).to_table());
  report.table(fmt::format("product_dim versions (first {})", kShownRows), db.exec(sql::product_versions, {limit}).to_table());
  report.table(fmt::format("sales_fact through its surrogate keys (first {})", kShownRows),
               db.exec(sql::sales_with_dimensions, {limit}).to_table());
  report.table("star tables", db.exec(sql::table_counts).to_table());
  report.finish();
  const auto rejected = static_cast<int64_t>(input.rejected.size()) + static_cast<int64_t>(result.sales_unmatched);
  if (rejected > 0) throw RejectedRows(fmt::format("module {} failed", name()), rejected);
}


std::unique_ptr<Module> make_module() { return std::make_unique<StarModule>(); }

}  // namespace datalab::star
