#pragma once
// Stage then merge: rows go by COPY into a session-private temporary table, then one
// statement moves them into their target (INSERT … SELECT … ON CONFLICT …). Run inside the
// caller's transaction, the target takes all of a batch or none of it. This is the one way
// modules stage rows: bulk rows never travel as SQL text or array parameters.
#include <memory>
#include <string>
#include <vector>

#include <arrow/api.h>

#include "storage/postgres/copy_in.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab {

class StagingTable {
 public:
  // pg_temp.<name>, a temporary table that the module's own script created.
  StagingTable(PgConnection& db, std::string name);
  // Creates pg_temp.<name> with the schema's columns (types from pg_types.h), dropped at
  // commit; a stage of that name from earlier in the transaction is replaced.
  StagingTable(PgConnection& db, std::string name, const arrow::Schema& schema);
  // The same with columns given as (name, PostgreSQL type) pairs.
  StagingTable(PgConnection& db, std::string name, const std::vector<std::pair<std::string, std::string>>& columns);

  CopyIn copy(std::shared_ptr<arrow::Schema> schema);                       // Arrow batches
  CopyIn copy(const std::vector<std::string>& columns, CopyFormat format);  // rows the caller encodes
  // Autovacuum never analyzes temporary tables: without statistics a merge of many rows
  // would be planned for an empty table.
  void analyze();
  void truncate();
  // INSERT INTO target (columns) SELECT columns FROM the stage ON CONFLICT (keys) DO NOTHING,
  // or DO UPDATE SET the other columns when `update_existing`; returns the rows written.
  long long merge_into(const std::string& target_schema, const std::string& target_table,
                       const std::vector<std::string>& columns, const std::vector<std::string>& keys,
                       bool update_existing);

  std::string qualified() const;  // pg_temp."name", for the module's own merge statements

 private:
  void create(const std::string& column_definitions);
  PgConnection& db_;
  std::string name_;
};

}  // namespace datalab
