#include "storage/postgres/postgres_connection.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/sql_script.h"

namespace datalab {

namespace {

std::string first_line(std::string_view sql) {
  std::string s(sql.substr(0, sql.find('\n')));
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

std::string trim_message(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

ValueKind kind_of(Oid type) {
  switch (type) {
    case 20: case 21: case 23: case 700: case 701: case 1700: return ValueKind::Number;
    case 16: return ValueKind::Bool;
    default: return ValueKind::Text;
  }
}

}  // namespace

PostgresSettings PostgresSettings::from(const Config& config) {
  return {config.value("DB_HOST"), config.value("DB_PORT"), config.value("POSTGRES_DB"),
          config.value("POSTGRES_USER"), config.value("POSTGRES_PASSWORD")};
}

std::string PostgresSettings::describe() const {
  return fmt::format("{}@{}:{}/{}", user, host, port, database);
}

long long PgResult::integer(int row, int column) const {
  return std::stoll(std::string(value(row, column)));
}

long long PgResult::affected() const {
  const char* n = PQcmdTuples(result_.get());
  return n && *n ? std::stoll(n) : 0;
}

ResultTable PgResult::to_table() const {
  ResultTable table;
  for (int c = 0; c < columns(); ++c) {
    table.columns.push_back(column_name(c));
    table.kinds.push_back(kind_of(PQftype(result_.get(), c)));
  }
  for (int r = 0; r < rows(); ++r) {
    std::vector<std::optional<std::string>> row;
    for (int c = 0; c < columns(); ++c) row.push_back(optional(r, c));
    table.add_row(std::move(row));
  }
  return table;
}

PgConnection::PgConnection(const PostgresSettings& settings, bool replication)
    : settings_(settings), conn_(nullptr, &PQfinish) {
  const char* keys[] = {"host", "port", "dbname", "user", "password", "application_name",
                        "connect_timeout", replication ? "replication" : nullptr, nullptr};
  const char* values[] = {settings.host.c_str(), settings.port.c_str(), settings.database.c_str(),
                          settings.user.c_str(), settings.password.c_str(), "datalab", "10",
                          replication ? "database" : nullptr, nullptr};
  conn_.reset(PQconnectdbParams(keys, values, 0));
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    // libpq's message names host, port and the reason; it never contains the password.
    const std::string reason = trim_message(PQerrorMessage(conn_.get()));
    const bool unreachable = reason.find("Connection refused") != std::string::npos ||
                             reason.find("timeout expired") != std::string::npos;
    throw ServiceError(fmt::format("cannot connect to PostgreSQL at {}: {}", settings.describe(), reason),
                       unreachable ? "postgres" : "");
  }
  PQsetNoticeProcessor(conn_.get(), [](void*, const char*) {}, nullptr);
}

PgResult PgConnection::check(PGresult* raw, std::string_view sql) {
  PgResult result(raw);
  const auto status = PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_IN ||
      status == PGRES_COPY_OUT || status == PGRES_EMPTY_QUERY) {
    return result;
  }
  throw_postgres_error(conn_.get(), raw, fmt::format("PostgreSQL error in `{}`", first_line(sql)));
}

void throw_postgres_error(PGconn* conn, const PGresult* result, const std::string& context) {
  const std::string message = result ? trim_message(PQresultErrorMessage(result)) : trim_message(PQerrorMessage(conn));
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  throw PostgresError(fmt::format("{}: {}", context, message), state ? state : "",
                      primary ? trim_message(primary) : trim_message(PQerrorMessage(conn)));
}

PgResult PgConnection::exec(std::string_view sql) {
  return check(PQexec(conn_.get(), std::string(sql).c_str()), sql);
}

PgResult PgConnection::exec(std::string_view sql, const PgParams& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return check(PQexecParams(conn_.get(), std::string(sql).c_str(), static_cast<int>(values.size()),
                            nullptr, values.data(), nullptr, nullptr, 0),
               sql);
}

void PgConnection::run_script(std::string_view script, std::string_view script_name) {
  for (const auto& statement : split_sql_script(script)) {
    try {
      exec(statement.text);
    } catch (const PostgresError& e) {
      throw PostgresError(fmt::format("{} (line {}): {}", script_name, statement.line, e.what()), e.sqlstate(),
                          e.server_message());
    }
  }
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string to_pg_array(const std::vector<std::optional<std::string>>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string PgConnection::literal(std::string_view text) const {
  std::unique_ptr<char, decltype(&PQfreemem)> quoted(PQescapeLiteral(conn_.get(), text.data(), text.size()), &PQfreemem);
  if (!quoted) throw_postgres_error(conn_.get(), nullptr, "cannot quote a literal");
  return quoted.get();
}

}  // namespace datalab
