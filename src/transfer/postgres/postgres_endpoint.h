#pragma once
// PostgreSQL as a `datalab copy` source (a table or a query, read by binary COPY straight into
// Arrow batches) and target (binary COPY inside one transaction: append, replace by
// TRUNCATE + COPY FREEZE, or merge through a staging table; incremental watermarks in
// datalab.copy_watermarks, committed with the rows).
#include <memory>
#include <optional>
#include <string>

#include "storage/postgres/postgres_settings.h"

#include "transfer/batch_stream.h"
#include "transfer/endpoint.h"

namespace datalab::transfer {

// What a postgres:// end names: its connection (no ?name= but table= and query=) and its
// table ("schema.table", or "table" in public). Both are ConfigErrors naming the URL when wrong.
PostgresSettings postgres_settings_of(const Endpoint& endpoint);
struct PgTableName {
  std::string schema, table;
  std::string quoted() const;  // "schema"."table"
  std::string text() const { return schema + "." + table; }
};
PgTableName postgres_table_of(const Endpoint& endpoint);

std::unique_ptr<BatchSource> make_postgres_source(const Endpoint& endpoint, const std::optional<IncrementalFilter>& filter);
std::unique_ptr<BatchTarget> make_postgres_target(const Endpoint& endpoint);

}  // namespace datalab::transfer
