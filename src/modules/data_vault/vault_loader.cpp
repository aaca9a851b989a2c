#include "modules/data_vault/vault_loader.h"

#include <fmt/format.h>

#include "core/dates.h"
#include "core/sql_script.h"
#include "modules/data_vault/data_vault_sql.h"
#include "storage/postgres/staging_table.h"

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

// Stages rows by COPY into the temporary table create_staging.sql made.
template <typename Row>
void stage(PgConnection& db, const std::string& table, const std::vector<std::string>& columns,
           const std::vector<Row>& rows, const std::function<std::vector<std::string>(const Row&)>& fields) {
  if (rows.empty()) return;
  CopyIn copy = StagingTable(db, table).copy(columns, CopyFormat::text);
  std::string encoded;
  std::vector<std::optional<std::string>> values(columns.size());
  for (const auto& row : rows) {
    auto texts = fields(row);
    for (std::size_t c = 0; c < columns.size(); ++c) values[c] = std::move(texts[c]);
    append_copy_text_row(encoded, values);
    if (encoded.size() >= (1 << 20)) {
      copy.write_rows(encoded);
      encoded.clear();
    }
  }
  copy.write_rows(encoded);
  copy.finish();
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
                                load.customers, [](const auto& c) {
                                  return std::vector<std::string>{std::to_string(c.customer_id), c.name, c.email, c.phone};
                                });
    stage<inputs::ProductRecord>(db, "product_stage", {"product_id", "name", "category"},
                               load.products, [](const auto& p) {
                                 return std::vector<std::string>{std::to_string(p.product_id), p.name, p.category};
                               });
    stage<OrderRecord>(db, "order_stage", {"order_id", "customer_id", "order_date"},
                       load.orders, [](const auto& o) {
                         return std::vector<std::string>{std::to_string(o.order_id), std::to_string(o.customer_id),
                                                         format_iso_date(o.order_date)};
                       });
    stage<OrderLineRecord>(db, "order_line_stage", {"order_id", "product_id", "quantity", "unit_price"},
                           load.lines, [](const auto& l) {
                             return std::vector<std::string>{std::to_string(l.order_id), std::to_string(l.product_id),
                                                             std::to_string(l.quantity),
                                                             inputs::format_cents(l.unit_price_cents)};
                           });
    stage<OrderStatusRecord>(db, "order_status_stage", {"order_id", "status", "status_time"},
                             load.statuses, [](const auto& s) {
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
