#pragma once
// The shape of a live PostgreSQL schema read from the system catalogs: tables, columns
// with their types, primary and unique keys (constraints and unique indexes) and foreign
// keys. Used to draw ERDs from what is really in the database.
#include <string>
#include <vector>

#include "storage/postgres/postgres_connection.h"

namespace datalab {

struct CatalogColumn {
  std::string name, type;
  bool not_null = false;
};

struct CatalogKey {
  std::string name;                  // constraint or index name
  char kind = 'u';                   // 'p' primary, 'u' unique, 'f' foreign
  std::vector<std::string> columns;  // in key order
  std::string referenced_table;      // foreign keys: schema-local table name
  std::vector<std::string> referenced_columns;
  std::string predicate;             // partial unique indexes: the WHERE clause
};

struct CatalogTable {
  std::string name;
  std::vector<CatalogColumn> columns;  // in table order
  std::vector<CatalogKey> keys;
};

struct CatalogSchema {
  std::string name;
  std::vector<CatalogTable> tables;  // ordinary and partitioned tables, by name; no partitions
};

// Throws ConfigError when the schema does not exist.
CatalogSchema read_catalog_schema(PgConnection& db, const std::string& schema);

}  // namespace datalab
