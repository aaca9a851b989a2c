#include "storage/iceberg/sql_catalog.h"

namespace datalab::iceberg {

SqlCatalog::SqlCatalog(PgConnection& db, std::string name) : db_(db), name_(std::move(name)) {}

void SqlCatalog::ensure_tables() {
  // Column names, types and keys as pyiceberg 0.12 creates them (checked against its DDL).
  db_.exec(
      "CREATE TABLE IF NOT EXISTS iceberg_tables ("
      " catalog_name VARCHAR(255) NOT NULL,"
      " table_namespace VARCHAR(255) NOT NULL,"
      " table_name VARCHAR(255) NOT NULL,"
      " metadata_location VARCHAR(1000),"
      " previous_metadata_location VARCHAR(1000),"
      " iceberg_type VARCHAR(5),"
      " PRIMARY KEY (catalog_name, table_namespace, table_name))");
  db_.exec(
      "CREATE TABLE IF NOT EXISTS iceberg_namespace_properties ("
      " catalog_name VARCHAR(255) NOT NULL,"
      " namespace VARCHAR(255) NOT NULL,"
      " property_key VARCHAR(255) NOT NULL,"
      " property_value VARCHAR(1000) NOT NULL,"
      " PRIMARY KEY (catalog_name, namespace, property_key))");
}

void SqlCatalog::ensure_namespace(const std::string& ns) {
  db_.exec(
      "INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value)"
      " VALUES ($1, $2, 'exists', 'true') ON CONFLICT DO NOTHING",
      {name_, ns});
}

std::optional<std::string> SqlCatalog::metadata_location(const std::string& ns, const std::string& table) {
  const auto r = db_.exec(
      "SELECT metadata_location FROM iceberg_tables"
      " WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3",
      {name_, ns, table});
  if (r.rows() == 0) return std::nullopt;
  return r.optional(0, 0);
}

bool SqlCatalog::create_table(const std::string& ns, const std::string& table, const std::string& location) {
  const auto r = db_.exec(
      "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location,"
      " previous_metadata_location, iceberg_type) VALUES ($1, $2, $3, $4, NULL, 'TABLE') ON CONFLICT DO NOTHING",
      {name_, ns, table, location});
  return r.affected() == 1;
}

bool SqlCatalog::swap_metadata(const std::string& ns, const std::string& table, const std::string& expected,
                               const std::string& new_location) {
  const auto r = db_.exec(
      "UPDATE iceberg_tables SET metadata_location = $5, previous_metadata_location = $4"
      " WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 AND metadata_location = $4",
      {name_, ns, table, expected, new_location});
  return r.affected() == 1;
}

bool SqlCatalog::drop_table(const std::string& ns, const std::string& table) {
  const auto r = db_.exec(
      "DELETE FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3",
      {name_, ns, table});
  return r.affected() == 1;
}

}  // namespace datalab::iceberg
