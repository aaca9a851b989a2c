#include "storage/postgres/staging_table.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"
#include "storage/postgres/pg_types.h"

namespace datalab {

namespace {
std::string quoted_list(const std::vector<std::string>& names, const std::string& prefix = "") {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + prefix + quote_identifier(name);
  return out;
}
}  // namespace

StagingTable::StagingTable(PgConnection& db, std::string name) : db_(db), name_(std::move(name)) {}

StagingTable::StagingTable(PgConnection& db, std::string name, const arrow::Schema& schema)
    : db_(db), name_(std::move(name)) {
  create(pg_column_definitions(schema));
}

StagingTable::StagingTable(PgConnection& db, std::string name,
                           const std::vector<std::pair<std::string, std::string>>& columns)
    : db_(db), name_(std::move(name)) {
  std::string definitions;
  for (const auto& [column, type] : columns) {
    definitions += fmt::format("{}{} {}", definitions.empty() ? "" : ", ", quote_identifier(column), type);
  }
  create(definitions);
}

void StagingTable::create(const std::string& column_definitions) {
  // Dropped at commit: outside a transaction the table would vanish before the rows arrive.
  if (!db_.in_transaction()) throw Error(fmt::format("staging table {} needs a transaction", name_));
  db_.exec("DROP TABLE IF EXISTS " + qualified());
  db_.exec(fmt::format("CREATE TEMP TABLE {} ({}) ON COMMIT DROP", quote_identifier(name_), column_definitions));
}

CopyIn StagingTable::copy(std::shared_ptr<arrow::Schema> schema) { return CopyIn(db_, "pg_temp", name_, std::move(schema)); }

CopyIn StagingTable::copy(const std::vector<std::string>& columns, CopyFormat format) {
  return CopyIn(db_, "pg_temp", name_, columns, {format, false});
}

void StagingTable::analyze() { db_.exec("ANALYZE " + qualified()); }

void StagingTable::truncate() { db_.exec("TRUNCATE " + qualified()); }

long long StagingTable::merge_into(const std::string& target_schema, const std::string& target_table,
                                   const std::vector<std::string>& columns, const std::vector<std::string>& keys,
                                   bool update_existing) {
  std::string action = "DO NOTHING";
  if (update_existing) {
    std::vector<std::string> rest;
    for (const auto& column : columns) {
      if (std::find(keys.begin(), keys.end(), column) == keys.end()) rest.push_back(column);
    }
    std::string assignments;
    for (const auto& column : rest) {
      assignments += fmt::format("{}{} = EXCLUDED.{}", assignments.empty() ? "" : ", ", quote_identifier(column),
                                 quote_identifier(column));
    }
    if (!assignments.empty()) action = "DO UPDATE SET " + assignments;
  }
  return db_.exec(fmt::format("INSERT INTO {}.{} ({}) SELECT {} FROM {} ON CONFLICT ({}) {}",
                              quote_identifier(target_schema), quote_identifier(target_table), quoted_list(columns),
                              quoted_list(columns), qualified(), quoted_list(keys), action))
      .affected();
}

std::string StagingTable::qualified() const { return "pg_temp." + quote_identifier(name_); }

}  // namespace datalab
