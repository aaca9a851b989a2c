#pragma once
// The Iceberg catalog (catalog.h) in PostgreSQL, in the layout of pyiceberg's SqlCatalog (and
// Java's JdbcCatalog): tables iceberg_tables and iceberg_namespace_properties in the
// connection's default schema, rows keyed by catalog name. A commit swaps a table's
// metadata pointer with compare-and-swap, so concurrent writers never lose a commit and a
// failed one never becomes visible.
#include <optional>
#include <string>

#include "storage/iceberg/catalog.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab::iceberg {

class SqlCatalog final : public Catalog {
 public:
  SqlCatalog(PgConnection& db, std::string name);
  const std::string& name() const { return name_; }

  // Creates the catalog tables when missing (idempotent).
  void ensure_tables() override;
  // Creates the namespace when missing (pyiceberg's marker property exists=true).
  void ensure_namespace(const std::string& ns) override;
  std::optional<std::string> metadata_location(const std::string& ns, const std::string& table) override;
  // Registers a new table; false when another writer registered it first.
  bool create_table(const std::string& ns, const std::string& table, const std::string& metadata_location) override;
  // Points the table at new metadata only if it still points at `expected`; false otherwise.
  bool swap_metadata(const std::string& ns, const std::string& table, const std::string& expected,
                     const std::string& new_location) override;
  // Removes the table's catalog entry (its files stay); true when it existed.
  bool drop_table(const std::string& ns, const std::string& table);

 private:
  PgConnection& db_;
  std::string name_;
};

}  // namespace datalab::iceberg
