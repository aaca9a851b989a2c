#include "modules/data_vault/vault_loader.h"

#include <fmt/format.h>

#include "core/dates.h"
#include "core/sql_script.h"
#include "modules/data_vault/data_vault_sql.h"

namespace datalab::data_vault {

namespace {

struct TableLoad {
  const char* table;
  std::string_view sql;
};

// Hubs first, then the links that reference them, then the satellites.
const std::vector<TableLoad>& table_loads() {
  static const std::vector<TableLoad> loads = {
      {"hub_customer", sql::hub_customer},       {"hub_product", sql::hub_product},
      {"hub_order", sql::hub_order},             {"hub_order_status", sql::hub_order_status},
      {"link_customer_order", sql::link_customer_order}, {"link_order_product", sql::link_order_product},
      {"link_order_status", sql::link_order_status},     {"sat_customer", sql::sat_customer},
      {"sat_product", sql::sat_product},         {"sat_order", sql::sat_order},
      {"sat_order_line", sql::sat_order_line},   {"sat_order_status", sql::sat_order_status},
  };
  return loads;
}

std::string timestamp_text(int64_t micros) {
  const int64_t days = micros >= 0 ? micros / 86'400'000'000LL : -((-micros + 86'399'999'999LL) / 86'400'000'000LL);
  const int64_t seconds = (micros - days * 86'400'000'000LL) / 1'000'000;
  return fmt::format("{} {:02}:{:02}:{:02}", format_iso_date(static_cast<int32_t>(days)), seconds / 3600,
                     seconds / 60 % 60, seconds % 60);
}

// Stages rows as parallel text arrays: one round trip per table, values never spliced into SQL.
template <typename Row>
void stage(PgConnection& db, const std::string& table, const std::vector<std::string>& columns,
           const std::vector<std::string>& types, const std::vector<Row>& rows,
           const std::function<std::vector<std::string>(const Row&)>& fields) {
  if (rows.empty()) return;
  std::vector<std::vector<std::optional<std::string>>> arrays(columns.size());
  for (const auto& row : rows) {
    auto values = fields(row);
    for (std::size_t c = 0; c < columns.size(); ++c) arrays[c].push_back(std::move(values[c]));
  }
  PgParams params;
  std::string casts, names;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    params.push_back(to_pg_array(arrays[c]));
    casts += fmt::format("{}${}::{}[]", c ? ", " : "", c + 1, types[c]);
    names += (c ? ", " : "") + quote_identifier(columns[c]);
  }
  db.exec(fmt::format("INSERT INTO {} ({}) SELECT * FROM unnest({})", quote_identifier(table), names, casts), params);
}

}  // namespace

void recreate_vault(PgConnection& db) {
  db.transaction([&] { db.run_script(sql::create_tables, "create_tables.sql"); });
}

std::vector<TableChanges> load_vault(PgConnection& db, const VaultLoad& load, const std::string& load_date,
                                     const std::string& record_source) {
  std::vector<TableChanges> changes;
  db.transaction([&] {
    db.run_script(sql::create_staging, "create_staging.sql");
    stage<inputs::CustomerRecord>(db, "customer_stage", {"customer_id", "name", "email", "phone"},
                                {"bigint", "text", "text", "text"}, load.customers, [](const auto& c) {
                                  return std::vector<std::string>{std::to_string(c.customer_id), c.name, c.email, c.phone};
                                });
    stage<inputs::ProductRecord>(db, "product_stage", {"product_id", "name", "category"}, {"bigint", "text", "text"},
                               load.products, [](const auto& p) {
                                 return std::vector<std::string>{std::to_string(p.product_id), p.name, p.category};
                               });
    stage<OrderRecord>(db, "order_stage", {"order_id", "customer_id", "order_date"}, {"bigint", "bigint", "date"},
                       load.orders, [](const auto& o) {
                         return std::vector<std::string>{std::to_string(o.order_id), std::to_string(o.customer_id),
                                                         format_iso_date(o.order_date)};
                       });
    stage<OrderLineRecord>(db, "order_line_stage", {"order_id", "product_id", "quantity", "unit_price"},
                           {"bigint", "bigint", "integer", "numeric"}, load.lines, [](const auto& l) {
                             return std::vector<std::string>{std::to_string(l.order_id), std::to_string(l.product_id),
                                                             std::to_string(l.quantity),
                                                             inputs::format_cents(l.unit_price_cents)};
                           });
    stage<OrderStatusRecord>(db, "order_status_stage", {"order_id", "status", "status_time"},
                             {"bigint", "text", "timestamp"}, load.statuses, [](const auto& s) {
                               return std::vector<std::string>{std::to_string(s.order_id), s.status,
                                                               timestamp_text(s.status_time_us)};
                             });
    for (const auto& [table, script] : table_loads()) {
      TableChanges change{table, 0, 0};
      for (const auto& statement : split_sql_script(script)) {
        // Each statement takes the load date ($1) and, when it writes rows, the record source ($2).
        PgParams params{load_date};
        if (statement.text.find("$2") != std::string::npos) params.push_back(record_source);
        const long long affected = db.exec(statement.text, params).affected();
        (statement.text.rfind("UPDATE", 0) == 0 ? change.closed : change.added) += affected;
      }
      changes.push_back(change);
    }
  });
  return changes;
}

}  // namespace datalab::data_vault
