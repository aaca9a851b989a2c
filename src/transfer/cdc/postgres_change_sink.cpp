#include "transfer/cdc/postgres_change_sink.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "storage/postgres/copy_in.h"
#include "storage/postgres/logical_replication.h"
#include "storage/postgres/staging_table.h"

namespace datalab::cdc {

namespace {

constexpr std::size_t kApplyChanges = 20'000;  // pending changes per table before they are merged
constexpr const char* kStage = "datalab_cdc_stage";

PostgresSettings settings_of(const transfer::Endpoint& e) {
  for (const auto& [name, value] : e.options) {
    if (name != "schema") {
      throw ConfigError(fmt::format("'{}': unknown option ?{}= (a PostgreSQL target of changes takes schema)",
                                    e.masked, name));
    }
  }
  if (!e.table.empty() || !e.query.empty()) {
    throw ConfigError(fmt::format("'{}': changes go to tables named after the published ones: give ?schema=name "
                                  "(or nothing, for the source's schemas) instead of ?table= or ?query=",
                                  e.masked));
  }
  return {e.host, e.port, e.database, e.user, e.password};
}

// Each name through `format` ({c}: the quoted name), separated by `separator`.
std::string joined(const std::vector<std::string>& names, const std::string& format,
                   const std::string& separator = ", ") {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += separator;
    out += fmt::format(fmt::runtime(format), fmt::arg("c", quote_identifier(name)));
  }
  return out;
}

}  // namespace

PostgresChangeSink::PostgresChangeSink(const transfer::Endpoint& target, const std::string& stream_id,
                                       const std::string& publication, const std::string& slot)
    : db_(settings_of(target)), masked_(target.masked), stream_id_(stream_id), publication_(publication), slot_(slot) {
  const auto schema = target.options.find("schema");
  if (schema != target.options.end()) schema_ = schema->second;
}

std::optional<Lsn> PostgresChangeSink::stored_position() {
  db_.exec("CREATE SCHEMA IF NOT EXISTS datalab");
  db_.exec("CREATE TABLE IF NOT EXISTS datalab.cdc_positions (stream_id text PRIMARY KEY, lsn pg_lsn NOT NULL, "
           "stored_at timestamptz NOT NULL DEFAULT now())");
  const PgResult row = db_.exec("SELECT lsn::text FROM datalab.cdc_positions WHERE stream_id = $1", {stream_id_});
  if (row.rows() == 0) return std::nullopt;
  return parse_lsn(row.value(0, 0));
}

void PostgresChangeSink::forget_position() {
  if (db_.exec("SELECT to_regclass('datalab.cdc_positions')").is_null(0, 0)) return;
  db_.exec("DELETE FROM datalab.cdc_positions WHERE stream_id = $1", {stream_id_});
}

void PostgresChangeSink::begin() {
  if (open_) return;
  db_.exec("BEGIN");
  open_ = true;
}

PostgresChangeSink::Table& PostgresChangeSink::ready(const TableShape& shape) {
  auto found = tables_.find(shape.oid);
  if (found != tables_.end()) {
    const auto& known = found->second.source_columns;
    bool same = known.size() == shape.columns.size();
    for (std::size_t c = 0; same && c < known.size(); ++c) same = known[c].name == shape.columns[c].name;
    if (same) return found->second;
    apply(found->second);  // what came before the new columns, under the old ones
  }
  if (shape.primary_key.empty()) {
    throw ConfigError(fmt::format("{} has no primary key: its changes cannot be applied to a table by key (stream it "
                                  "into Kafka, or give it a primary key)",
                                  shape.qualified()));
  }
  Table table;
  table.schema = schema_.empty() ? shape.schema : schema_;
  table.name = shape.name;
  // The stream's own slot here and the table in its publication: the target is the source.
  if (db_.exec("SELECT 1 FROM pg_publication_tables p, pg_replication_slots s WHERE p.pubname = $1 AND "
               "p.schemaname = $2 AND p.tablename = $3 AND s.slot_name = $4 AND s.database = current_database()",
               {publication_, table.schema, table.name, slot_})
          .rows() > 0) {
    throw ConfigError(fmt::format("{} is the published table itself: give the target ?schema=name for the copies",
                                  shape.qualified()));
  }
  table.source_columns = shape.columns;
  for (const auto& column : shape.columns) table.columns.push_back(column.name);
  for (const int k : shape.primary_key) table.key.push_back(shape.columns[k].name);

  // The source's types, named by the target server (built-in types have the same OIDs everywhere).
  std::vector<std::string> source_types;
  for (const auto& column : shape.columns) {
    const PgResult type = db_.exec("SELECT format_type($1::oid, $2::int)",
                                   {std::to_string(column.type_oid), std::to_string(column.type_modifier)});
    if (type.is_null(0, 0) || type.value(0, 0) == "???") {
      throw ConfigError(fmt::format("{}.{} has a type (OID {}) the target server does not know: create {} yourself",
                                    shape.qualified(), column.name, column.type_oid, table.quoted()));
    }
    source_types.emplace_back(type.value(0, 0));
  }
  const bool exists = !db_.exec("SELECT to_regclass($1)", {table.quoted()}).is_null(0, 0);
  if (!exists) {
    std::vector<std::string> definitions;
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      definitions.push_back(quote_identifier(table.columns[c]) + " " + source_types[c]);
    }
    db_.exec("CREATE SCHEMA IF NOT EXISTS " + quote_identifier(table.schema));
    db_.exec(fmt::format("CREATE TABLE {} ({}, PRIMARY KEY ({}))", table.quoted(), fmt::join(definitions, ", "),
                         joined(table.key, "{c}")));
  }
  const PgResult existing = db_.exec(
      "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::regclass "
      "AND attnum > 0 AND NOT attisdropped",
      {table.quoted()});
  std::map<std::string, std::string> target_types;
  for (int r = 0; r < existing.rows(); ++r) target_types[std::string(existing.value(r, 0))] = existing.value(r, 1);
  table.stage_columns = {{"_seq", "bigint"}, {"_op", "text"}, {"_unchanged", "text[]"}};
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    auto type = target_types.find(table.columns[c]);
    if (type == target_types.end()) {  // a column added at the source
      db_.exec(fmt::format("ALTER TABLE {} ADD COLUMN {} {}", table.quoted(), quote_identifier(table.columns[c]),
                           source_types[c]));
      spdlog::info("cdc: {} gets the new column {} {}", table.quoted(), table.columns[c], source_types[c]);
      type = target_types.emplace(table.columns[c], source_types[c]).first;
    }
    table.stage_columns.emplace_back(table.columns[c], type->second);
  }
  if (found != tables_.end()) {
    found->second = std::move(table);
    return found->second;
  }
  return tables_.emplace(shape.oid, std::move(table)).first->second;
}

void PostgresChangeSink::write(const Change& change) {
  begin();
  Table& table = ready(*change.table);
  if (change.op == ChangeOp::truncate) {
    apply(table);
    db_.exec("TRUNCATE " + table.quoted());
    return;
  }
  const pgoutput::Tuple& row = change.after ? *change.after : *change.before;
  Pending pending;
  pending.op = change.op == ChangeOp::remove ? 'd' : 'u';
  std::string key;
  for (const int k : change.table->primary_key) {
    key += row[k].text;
    key += '\x1f';
  }
  const auto last = table.last_by_key.find(key);
  for (std::size_t c = 0; c < row.size(); ++c) {
    switch (row[c].kind) {
      case pgoutput::Value::Kind::null: pending.values.emplace_back(std::nullopt); break;
      case pgoutput::Value::Kind::text: pending.values.emplace_back(row[c].text); break;
      case pgoutput::Value::Kind::unchanged:
        // Unchanged since the key's last change in this batch, when there is one; else the target's.
        if (last != table.last_by_key.end() &&
            std::find(table.pending[last->second].unchanged.begin(), table.pending[last->second].unchanged.end(),
                      table.columns[c]) == table.pending[last->second].unchanged.end()) {
          pending.values.push_back(table.pending[last->second].values[c]);
        } else {
          pending.values.emplace_back(std::nullopt);
          pending.unchanged.push_back(table.columns[c]);
        }
        break;
    }
  }
  if (pending.op == 'd') {
    table.last_by_key.erase(key);
  } else {
    table.last_by_key[key] = table.pending.size();
  }
  table.pending.push_back(std::move(pending));
  if (table.pending.size() >= kApplyChanges) apply(table);
}

void PostgresChangeSink::snapshot_begins(const TableShape& shape) {
  begin();
  Table& table = ready(shape);
  db_.exec("TRUNCATE " + table.quoted());  // the snapshot is the whole table: it replaces what was there
}

void PostgresChangeSink::apply(Table& table) {
  if (table.pending.empty()) return;
  StagingTable stage(db_, kStage, table.stage_columns);
  std::vector<std::string> stage_names;
  for (const auto& [name, type] : table.stage_columns) stage_names.push_back(name);
  {
    CopyIn copy = stage.copy(stage_names, CopyFormat::text);
    std::string rows;
    std::vector<std::optional<std::string>> fields;
    for (const auto& change : table.pending) {
      fields.assign({std::to_string(++sequence_), std::string(1, change.op), std::nullopt});
      if (!change.unchanged.empty()) {
        fields[2] = to_pg_array({change.unchanged.begin(), change.unchanged.end()});
      }
      fields.insert(fields.end(), change.values.begin(), change.values.end());
      append_copy_text_row(rows, fields);
      if (rows.size() >= (1u << 20)) {
        copy.write_rows(rows);
        rows.clear();
      }
    }
    copy.write_rows(rows);
    copy.finish();
  }
  if (table.pending.size() > 1000) stage.analyze();
  // The last change of each key decides: a delete deletes, anything else is the row now.
  const std::string keys = joined(table.key, "{c}");
  const std::string last =
      fmt::format("(SELECT DISTINCT ON ({}) * FROM {} ORDER BY {}, _seq DESC) l", keys, stage.qualified(), keys);
  const std::string match = joined(table.key, "t.{c} = l.{c}", " AND ");
  db_.exec(fmt::format("DELETE FROM {} t USING {} WHERE {} AND l._op = 'd'", table.quoted(), last, match));
  std::vector<std::string> rest;
  for (const auto& column : table.columns) {
    if (std::find(table.key.begin(), table.key.end(), column) == table.key.end()) rest.push_back(column);
  }
  const std::string conflict = rest.empty() ? "DO NOTHING" : "DO UPDATE SET " + joined(rest, "{c} = EXCLUDED.{c}");
  db_.exec(fmt::format("INSERT INTO {} ({}) SELECT {} FROM {} WHERE l._op <> 'd' AND l._unchanged IS NULL "
                       "ON CONFLICT ({}) {}",
                       table.quoted(), joined(table.columns, "{c}"), joined(table.columns, "l.{c}"), last, keys,
                       conflict));
  // Keys whose last change keeps values the server did not send: known here, so the common
  // batch without any skips the UPDATE (and its pass over the stage) altogether.
  long long expected = 0;
  for (const auto& [key, index] : table.last_by_key) expected += table.pending[index].unchanged.empty() ? 0 : 1;
  if (!rest.empty() && expected > 0) {
    std::string sets;
    for (const auto& column : rest) {
      sets += fmt::format("{}{} = CASE WHEN {} = ANY(l._unchanged) THEN t.{} ELSE l.{} END", sets.empty() ? "" : ", ",
                          quote_identifier(column), db_.literal(column), quote_identifier(column),
                          quote_identifier(column));
    }
    const long long updated =
        db_.exec(fmt::format("UPDATE {} t SET {} FROM {} WHERE {} AND l._op <> 'd' AND l._unchanged IS NOT NULL",
                             table.quoted(), sets, last, match))
            .affected();
    if (updated < expected) {
      // Only a row the target lost (deleted there) has no value to keep.
      spdlog::warn("cdc: {} update(s) of {} kept values the server did not send, but the target has no such row: "
                   "not applied",
                   expected - updated, table.quoted());
    }
  }
  table.pending.clear();
  table.last_by_key.clear();
}

void PostgresChangeSink::commit(Lsn position) {
  begin();
  for (auto& [oid, table] : tables_) apply(table);
  db_.exec("INSERT INTO datalab.cdc_positions (stream_id, lsn) VALUES ($1, $2::pg_lsn) ON CONFLICT (stream_id) "
           "DO UPDATE SET lsn = EXCLUDED.lsn, stored_at = now()",
           {stream_id_, lsn_text(position)});
  db_.exec("COMMIT");
  open_ = false;
}

void PostgresChangeSink::abort() {
  if (open_) db_.exec("ROLLBACK");
  open_ = false;
  tables_.clear();  // tables created or altered in the transaction are gone with it
}

}  // namespace datalab::cdc
