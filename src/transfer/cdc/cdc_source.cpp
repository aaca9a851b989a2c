#include "transfer/cdc/cdc_source.h"

#include <chrono>
#include <regex>

#include <fmt/format.h>

#include "core/error.h"

namespace datalab::cdc {

namespace {

std::string option(const transfer::Endpoint& e, const std::string& name) {
  const auto it = e.options.find(name);
  return it == e.options.end() ? "" : it->second;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) items.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

std::string quoted_table(const std::string& name) {
  const auto dot = name.find('.');
  if (dot == std::string::npos) return quote_identifier("public") + "." + quote_identifier(name);
  return quote_identifier(name.substr(0, dot)) + "." + quote_identifier(name.substr(dot + 1));
}

bool publication_exists(PgConnection& sql, const std::string& name) {
  return sql.exec("SELECT 1 FROM pg_publication WHERE pubname = $1", {name}).rows() == 1;
}

}  // namespace

std::string CdcSource::stream_id() const { return fmt::format("{}:{}/{}/{}", db.host, db.port, db.database, slot); }

CdcSource cdc_source_of(const transfer::Endpoint& e) {
  if (e.kind != transfer::EndpointKind::postgres_cdc) {
    throw ConfigError(fmt::format("'{}' is not a change stream: expected postgres+cdc://…?publication=name", e.masked));
  }
  CdcSource source;
  source.db = {e.host, e.port, e.database, e.user, e.password};
  source.masked = e.masked;
  for (const auto& [name, value] : e.options) {
    if (name != "publication" && name != "slot" && name != "tables") {
      throw ConfigError(fmt::format("'{}': unknown option ?{}= (a postgres+cdc:// source takes publication, slot "
                                    "and tables)",
                                    e.masked, name));
    }
  }
  if (!e.table.empty() || !e.query.empty()) {
    throw ConfigError(fmt::format("'{}': a change stream reads a publication's tables: use ?tables=schema.t,… "
                                  "instead of ?table= or ?query=",
                                  e.masked));
  }
  source.publication = option(e, "publication");
  if (source.publication.empty()) {
    throw ConfigError(fmt::format("'{}' names no publication: add ?publication=name (created with ?tables=… when "
                                  "missing)",
                                  e.masked));
  }
  static const std::regex publication_name("[A-Za-z_][A-Za-z0-9_]{0,62}");
  if (!std::regex_match(source.publication, publication_name)) {
    throw ConfigError(fmt::format("'{}': ?publication={} is not a plain name (letters, digits, _)", e.masked,
                                  source.publication));
  }
  source.slot = option(e, "slot");
  if (source.slot.empty()) {
    source.slot = "datalab_" + source.publication;
    for (char& c : source.slot) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  // The server's own rule for slot names.
  static const std::regex slot_name("[a-z0-9_]{1,63}");
  if (!std::regex_match(source.slot, slot_name)) {
    throw ConfigError(fmt::format("'{}': ?slot={} is not a slot name (lower-case letters, digits and _, at most 63)",
                                  e.masked, source.slot));
  }
  source.tables = split_list(option(e, "tables"));
  return source;
}

std::vector<uint32_t> ensure_publication(PgConnection& sql, const CdcSource& source) {
  const bool exists = publication_exists(sql, source.publication);
  if (!exists) {
    if (source.tables.empty()) {
      throw ConfigError(fmt::format("publication {} does not exist in {}: add ?tables=schema.t,… to create it for "
                                    "those tables, or create it yourself (CREATE PUBLICATION {} FOR TABLE …)",
                                    source.publication, source.db.describe(), source.publication));
    }
    std::vector<std::string> tables;
    for (const auto& table : source.tables) tables.push_back(quoted_table(table));
    sql.exec(fmt::format("CREATE PUBLICATION {} FOR TABLE {}", quote_identifier(source.publication),
                         fmt::join(tables, ", ")));
  }
  const PgResult result = sql.exec(
      "SELECT format('%I.%I', schemaname, tablename)::regclass::oid FROM pg_publication_tables WHERE pubname = $1 "
      "ORDER BY schemaname, tablename",
      {source.publication});
  std::vector<uint32_t> oids;
  for (int r = 0; r < result.rows(); ++r) oids.push_back(static_cast<uint32_t>(result.integer(r, 0)));
  if (oids.empty()) {
    throw ConfigError(fmt::format("publication {} has no tables: nothing to stream", source.publication));
  }
  return oids;
}

std::vector<int> primary_key_of(PgConnection& sql, uint32_t oid, const std::vector<pgoutput::Column>& columns) {
  const PgResult result = sql.exec(
      "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
      "WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)",
      {std::to_string(oid)});
  std::vector<int> key;
  for (int r = 0; r < result.rows(); ++r) {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (columns[c].name == result.value(r, 0)) key.push_back(static_cast<int>(c));
    }
  }
  return key;
}

TableShape load_table_shape(PgConnection& sql, uint32_t oid) {
  const PgParams params{std::to_string(oid)};
  const PgResult names =
      sql.exec("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
               "WHERE c.oid = $1::oid",
               params);
  if (names.rows() != 1) throw ServiceError(fmt::format("the published table with OID {} is gone", oid));
  TableShape shape;
  shape.oid = oid;
  shape.schema = names.value(0, 0);
  shape.name = names.value(0, 1);
  const PgResult columns = sql.exec(
      "SELECT attname, atttypid, atttypmod FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 "
      "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
      params);
  for (int r = 0; r < columns.rows(); ++r) {
    pgoutput::Column column;
    column.name = columns.value(r, 0);
    column.type_oid = static_cast<uint32_t>(columns.integer(r, 1));
    column.type_modifier = static_cast<int32_t>(columns.integer(r, 2));
    shape.columns.push_back(std::move(column));
  }
  shape.primary_key = primary_key_of(sql, oid, shape.columns);
  return shape;
}

SlotStatus slot_status(const CdcSource& source) {
  PgConnection sql(source.db);
  SlotStatus status;
  status.publication_exists =
      publication_exists(sql, source.publication);
  const PgResult tables = sql.exec(
      "SELECT format('%s.%s', schemaname, tablename) FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1",
      {source.publication});
  for (int r = 0; r < tables.rows(); ++r) status.tables.emplace_back(tables.value(r, 0));
  const PgResult slot = sql.exec(
      "SELECT active, coalesce(active_pid::text, ''), pg_current_wal_lsn()::text, "
      "coalesce(confirmed_flush_lsn, '0/0')::text, coalesce(restart_lsn, '0/0')::text, "
      "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint, "
      "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, coalesce(wal_status, '') "
      "FROM pg_replication_slots WHERE slot_name = $1",
      {source.slot});
  if (slot.rows() == 0) return status;
  status.exists = true;
  status.active = slot.value(0, 0) == "t";
  status.active_pid = slot.value(0, 1);
  status.current = parse_lsn(slot.value(0, 2));
  status.confirmed = parse_lsn(slot.value(0, 3));
  status.restart = parse_lsn(slot.value(0, 4));
  status.lag_bytes = slot.is_null(0, 5) ? 0 : slot.integer(0, 5);
  status.retained_bytes = slot.is_null(0, 6) ? 0 : slot.integer(0, 6);
  status.wal_status = slot.value(0, 7);
  if (status.active) {
    // The running reader's own report: how long its last confirmation trails the server.
    const PgResult lag = sql.exec(
        "SELECT extract(epoch FROM coalesce(flush_lag, interval '0'))::float8 FROM pg_stat_replication "
        "WHERE pid = $1::int",
        {status.active_pid});
    if (lag.rows() == 1) status.lag_seconds = std::stod(std::string(lag.value(0, 0)));
  } else if (status.publication_exists && status.wal_status != "lost") {
    // The first transaction the slot still holds for the publication, decoded without
    // consuming it: its commit time is how old the oldest unconfirmed change is.
    const PgResult first = sql.exec(
        "SELECT data FROM pg_logical_slot_peek_binary_changes($1, NULL, 1, 'proto_version', '1', "
        "'publication_names', $2) LIMIT 1",
        {source.slot, quote_identifier(source.publication)});
    if (first.rows() == 1) {
      // bytea arrives as text (\x…): decode the Begin message's commit time.
      std::size_t length = 0;
      std::unique_ptr<unsigned char, decltype(&PQfreemem)> bytes(
          PQunescapeBytea(reinterpret_cast<const unsigned char*>(std::string(first.value(0, 0)).c_str()), &length),
          &PQfreemem);
      if (bytes && length > 0) {
        const auto message = pgoutput::decode({reinterpret_cast<const char*>(bytes.get()), length});
        if (const auto* begin = std::get_if<pgoutput::Begin>(&message)) {
          const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count();
          status.lag_seconds = std::max<double>(0, (now_us - begin->commit_time_us) / 1e6);
        }
      }
    }
  }
  return status;
}

std::vector<std::string> drop_slot_and_publication(const CdcSource& source) {
  PgConnection sql(source.db);
  std::vector<std::string> dropped;
  const PgResult slot =
      sql.exec("SELECT active, coalesce(active_pid::text, '') FROM pg_replication_slots WHERE slot_name = $1",
               {source.slot});
  if (slot.rows() == 1) {
    if (slot.value(0, 0) == "t") {
      throw ConfigError(fmt::format("slot {} is in use by server process {} (a running `datalab cdc run`?): stop "
                                    "that stream first",
                                    source.slot, slot.value(0, 1)));
    }
    sql.exec("SELECT pg_drop_replication_slot($1)", {source.slot});
    dropped.push_back("slot " + source.slot);
  }
  if (publication_exists(sql, source.publication)) {
    sql.exec("DROP PUBLICATION " + quote_identifier(source.publication));
    dropped.push_back("publication " + source.publication);
  }
  return dropped;
}

}  // namespace datalab::cdc
