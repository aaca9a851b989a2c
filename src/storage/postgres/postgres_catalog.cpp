#include "storage/postgres/postgres_catalog.h"

#include <map>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"

namespace datalab {

namespace {

std::vector<std::string> split_names(std::string_view text) {
  std::vector<std::string> names;
  std::stringstream in{std::string(text)};
  for (std::string name; std::getline(in, name, '\x1f');) names.push_back(name);
  return names;
}

// Column names of an attnum array, in key order, joined by a unit separator (names may hold commas).
constexpr const char* kColumnNames =
    "(SELECT string_agg(a.attname, E'\\x1f' ORDER BY k.ord) FROM unnest({0}) WITH ORDINALITY k(attnum, ord)"
    " JOIN pg_attribute a ON a.attrelid = {1} AND a.attnum = k.attnum)";

}  // namespace

CatalogSchema read_catalog_schema(PgConnection& db, const std::string& schema) {
  if (db.exec("SELECT 1 FROM pg_namespace WHERE nspname = $1", {schema}).rows() == 0) {
    throw MissingSchemaError(schema);
  }
  CatalogSchema result{schema, {}};
  std::map<std::string, std::size_t> index_of;

  const PgResult columns = db.exec(
      "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull"
      "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      "  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
      " WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
      " ORDER BY c.relname, a.attnum",
      {schema});
  for (int i = 0; i < columns.rows(); ++i) {
    const std::string table(columns.value(i, 0));
    auto [it, added] = index_of.emplace(table, result.tables.size());
    if (added) result.tables.push_back({table, {}, {}});
    result.tables[it->second].columns.push_back(
        {std::string(columns.value(i, 1)), std::string(columns.value(i, 2)), columns.value(i, 3) == "t"});
  }

  const PgResult constraints = db.exec(
      fmt::format("SELECT c.relname, con.conname, con.contype, {}, coalesce(fc.relname, ''), coalesce({}, '')"
                  "  FROM pg_constraint con"
                  "  JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                  "  LEFT JOIN pg_class fc ON fc.oid = con.confrelid"
                  " WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'f')"
                  " ORDER BY c.relname, con.contype, con.conname",
                  fmt::format(kColumnNames, "con.conkey", "con.conrelid"),
                  fmt::format(kColumnNames, "con.confkey", "con.confrelid")),
      {schema});
  for (int i = 0; i < constraints.rows(); ++i) {
    const auto it = index_of.find(std::string(constraints.value(i, 0)));
    if (it == index_of.end()) continue;  // a partition's inherited constraint
    result.tables[it->second].keys.push_back({std::string(constraints.value(i, 1)), constraints.value(i, 2)[0],
                                              split_names(constraints.value(i, 3)), std::string(constraints.value(i, 4)),
                                              split_names(constraints.value(i, 5)), ""});
  }

  // Unique indexes that are not constraints, e.g. "one current version per key".
  const PgResult indexes = db.exec(
      fmt::format("SELECT c.relname, i.relname, {}, coalesce(pg_get_expr(x.indpred, x.indrelid), '')"
                  "  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                  "  JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                  " WHERE n.nspname = $1 AND x.indisunique"
                  "   AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x'))"
                  " ORDER BY c.relname, i.relname",
                  fmt::format(kColumnNames, "x.indkey::int2[]", "x.indrelid")),
      {schema});
  for (int i = 0; i < indexes.rows(); ++i) {
    const auto it = index_of.find(std::string(indexes.value(i, 0)));
    if (it == index_of.end()) continue;
    result.tables[it->second].keys.push_back({std::string(indexes.value(i, 1)), 'u', split_names(indexes.value(i, 2)),
                                              "", {}, std::string(indexes.value(i, 3))});
  }
  return result;
}

}  // namespace datalab
