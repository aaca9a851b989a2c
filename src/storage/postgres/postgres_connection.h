#pragma once
// A thin RAII layer over libpq: one connection, parameterized statements, scripts,
// transactions and results as ResultTable. Errors carry the server's message and the
// statement's context, never the password.
#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/result_table.h"
#include "storage/postgres/postgres_settings.h"

namespace datalab {

// The server refused a statement or a COPY (or the connection broke during one): a
// ServiceError (exit 3) that keeps the SQLSTATE, so callers classify errors without reading
// messages. sqlstate() is empty when libpq had no result to take it from (connection lost).
class PostgresError : public ServiceError {
 public:
  PostgresError(const std::string& message, std::string sqlstate, std::string server_message)
      : ServiceError(message), sqlstate_(std::move(sqlstate)), server_message_(std::move(server_message)) {}
  // Five characters, e.g. "23505" (unique violation); "" when unknown.
  const std::string& sqlstate() const { return sqlstate_; }
  // The server's primary message alone (no "ERROR:", detail or statement), or libpq's.
  const std::string& server_message() const { return server_message_; }
  // Class 22 (data exception) or 23 (integrity constraint violation): the data is at fault,
  // not the service.
  bool is_data_error() const { return sqlstate_.starts_with("22") || sqlstate_.starts_with("23"); }

 private:
  std::string sqlstate_, server_message_;
};

// A PostgresError from a failed result (null: a connection-level failure, from conn's
// message); `context` leads the message, e.g. "PostgreSQL error in `SELECT ...`".
[[noreturn]] void throw_postgres_error(PGconn* conn, const PGresult* result, const std::string& context);

// Owns a PGresult.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}
  int rows() const { return PQntuples(result_.get()); }
  int columns() const { return PQnfields(result_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column); }
  std::string_view value(int row, int column) const {
    return {PQgetvalue(result_.get(), row, column),
            static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
  }
  std::optional<std::string> optional(int row, int column) const {
    if (is_null(row, column)) return std::nullopt;
    return std::string(value(row, column));
  }
  long long integer(int row, int column) const;
  std::string column_name(int column) const { return PQfname(result_.get(), column); }
  // Rows affected by INSERT/UPDATE/DELETE/COPY.
  long long affected() const;
  ResultTable to_table() const;
  PGresult* get() const { return result_.get(); }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

// Parameters are sent as text; std::nullopt is SQL NULL.
using PgParams = std::vector<std::optional<std::string>>;

class PgConnection {
 public:
  // replication: a logical replication connection (replication=database), which takes the
  // walsender's commands (CREATE_REPLICATION_SLOT, START_REPLICATION) beside plain SQL.
  explicit PgConnection(const PostgresSettings& settings, bool replication = false);
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  PgResult exec(std::string_view sql);
  PgResult exec(std::string_view sql, const PgParams& params);
  // Runs every statement of a script in order; an error names the failing statement's line.
  void run_script(std::string_view script, std::string_view script_name);
  // Runs fn inside BEGIN/COMMIT; rolls back when it throws.
  template <typename Fn>
  auto transaction(Fn&& fn) {
    exec("BEGIN");
    try {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        exec("COMMIT");
      } else {
        auto result = fn();
        exec("COMMIT");
        return result;
      }
    } catch (...) {
      PQclear(PQexec(conn_.get(), "ROLLBACK"));
      throw;
    }
  }

  // A string as an SQL literal for statements that take no parameters (COPY (query) TO …).
  std::string literal(std::string_view text) const;
  // Inside BEGIN … COMMIT (or a failed transaction waiting for its ROLLBACK).
  bool in_transaction() const { return PQtransactionStatus(conn_.get()) != PQTRANS_IDLE; }
  PGconn* raw() const { return conn_.get(); }
  const PostgresSettings& settings() const { return settings_; }
  int server_version() const { return PQserverVersion(conn_.get()); }

 private:
  PgResult check(PGresult* result, std::string_view sql);
  PostgresSettings settings_;
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

// Quotes an identifier for SQL ("my table" -> "\"my table\"").
std::string quote_identifier(std::string_view name);
// Text form of a PostgreSQL array literal, for one-round-trip batches through unnest().
std::string to_pg_array(const std::vector<std::optional<std::string>>& values);

}  // namespace datalab
