#include "modules/data_vault/data_vault_module.h"

#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "core/error.h"
#include "modules/data_vault/data_vault_sql.h"
#include "modules/data_vault/vault_loader.h"
#include "modules/data_vault/vault_source.h"
#include "inputs/star_input.h"

namespace datalab::data_vault {

namespace {

std::string now_timestamp(PgConnection& db) {
  return std::string(db.exec("SELECT clock_timestamp()::text").value(0, 0));
}

}  // namespace

void DataVaultModule::add_run_flags(CLI::App& command) {
  command.add_option("--source", options_.source, "fixtures (the star's shipped story) | folder with the star's CSV files")
      ->capture_default_str();
  command.add_option("--orders", options_.orders, "orders to generate over the input's customers and products")
      ->capture_default_str();
  command.add_option("--seed", options_.seed, "random seed: the same seed gives the same orders")->capture_default_str();
  command.add_option("--show", options_.shown_orders, "orders to show from the current-state query")->capture_default_str();
}

void DataVaultModule::run(AppContext& context) {
  inputs::StarInput input;
  if (options_.source == "fixtures") {
    input = inputs::fixture_input();
  } else if (std::filesystem::is_directory(options_.source)) {
    input = inputs::read_star_directory(options_.source);
  } else {
    throw ConfigError(fmt::format("--source '{}': expected fixtures or a folder", options_.source));
  }
  const auto loads = vault_loads(input, options_.orders, options_.seed);

  Report report(context.format);
  PgConnection db(PostgresSettings::from(context.config));
  report.note(fmt::format("data_vault: input {} plus {} generated orders (seed {}) into PostgreSQL {}", options_.source,
                          options_.orders, options_.seed, db.settings().describe()));
  if (!input.rejected.empty()) {
    ResultTable rejected{{"file", "row", "reason"}, {ValueKind::Text, ValueKind::Number, ValueKind::Text}, {}};
    for (const auto& r : input.rejected) rejected.add_row({r.file, std::to_string(r.row), r.reason});
    report.table("rejected input rows", rejected);
  }

  recreate_vault(db);
  // One column per load, plus a reload of the last load to show that it adds nothing.
  ResultTable changes{{"table"}, {ValueKind::Text}, {}};
  std::map<std::string, std::vector<std::optional<std::string>>> per_table;
  std::vector<std::string> order;
  auto record = [&](const std::string& title, const std::vector<TableChanges>& result) {
    changes.columns.push_back(title);
    changes.kinds.push_back(ValueKind::Text);
    for (const auto& c : result) {
      if (!per_table.count(c.table)) order.push_back(c.table);
      const bool satellite = c.table.rfind("sat_", 0) == 0;
      per_table[c.table].push_back(satellite ? fmt::format("+{} / closed {}", c.added, c.closed) : fmt::format("+{}", c.added));
    }
  };
  int64_t reload_added = 0;
  for (std::size_t i = 0; i < loads.size(); ++i) {
    record(fmt::format("load {}", i + 1), load_vault(db, loads[i], now_timestamp(db)));
  }
  const auto reload = load_vault(db, loads.back(), now_timestamp(db));
  for (const auto& c : reload) reload_added += c.added + c.closed;
  record(fmt::format("reload of load {}", loads.size()), reload);
  for (const auto& table : order) {
    std::vector<std::optional<std::string>> row{table};
    row.insert(row.end(), per_table[table].begin(), per_table[table].end());
    changes.add_row(std::move(row));
  }
  report.table("rows added per load (satellites: new versions / versions closed)", changes);
  report.note(fmt::format("reloading the same input added {} rows", reload_added));
  report.table(fmt::format("current state of orders rebuilt from the vault (first {})", options_.shown_orders),
               db.exec(sql::current_orders, {std::to_string(options_.shown_orders)}).to_table());
  report.table("data_vault tables", db.exec(sql::table_counts).to_table());
  report.finish();
  if (reload_added != 0) throw Error(fmt::format("reloading the same input added {} rows", reload_added));
  if (!input.rejected.empty()) {
    throw RejectedRows(fmt::format("module {} failed", name()), static_cast<int64_t>(input.rejected.size()));
  }
}

std::unique_ptr<Module> make_module() { return std::make_unique<DataVaultModule>(); }

}  // namespace datalab::data_vault
