#pragma once
// Where an Iceberg table's current metadata file is recorded. A commit becomes visible only
// through create_table / swap_metadata, which must be atomic: a writer that lost a race gets
// false and nothing changes. SqlCatalog (PostgreSQL) is the implementation datalab ships.
#include <optional>
#include <string>

namespace datalab::iceberg {

class Catalog {
 public:
  virtual ~Catalog() = default;
  // Creates whatever the catalog keeps its entries in, when missing (idempotent).
  virtual void ensure_tables() {}
  // Creates the namespace when missing (idempotent).
  virtual void ensure_namespace(const std::string& ns) = 0;
  // The table's current metadata location (none: no such table).
  virtual std::optional<std::string> metadata_location(const std::string& ns, const std::string& table) = 0;
  // Registers a new table; false when another writer registered it first.
  virtual bool create_table(const std::string& ns, const std::string& table, const std::string& metadata_location) = 0;
  // Points the table at new metadata only if it still points at `expected`; false otherwise.
  virtual bool swap_metadata(const std::string& ns, const std::string& table, const std::string& expected,
                             const std::string& new_location) = 0;
};

}  // namespace datalab::iceberg
