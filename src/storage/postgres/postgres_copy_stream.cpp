#include "storage/postgres/postgres_copy_stream.h"

#include <fmt/format.h>

#include "core/error.h"

namespace datalab {

namespace {
constexpr std::size_t kSendBytes = 1 << 20;

std::string statement_head(const std::string& statement) {
  return statement.size() > 80 ? statement.substr(0, 77) + "..." : statement;
}
}  // namespace

PostgresCopyStream::PostgresCopyStream(PgConnection& connection, std::string copy_statement)
    : connection_(connection), statement_(std::move(copy_statement)) {
  connection_.exec(statement_);
  open_ = true;
  buffer_.reserve(kSendBytes + 4096);
}

PostgresCopyStream::~PostgresCopyStream() {
  if (open_) {
    // Abandoned (an exception is on its way): abort the COPY so the connection stays usable.
    PQputCopyEnd(connection_.raw(), "datalab: copy abandoned");
    while (PGresult* result = PQgetResult(connection_.raw())) PQclear(result);
  }
}

void PostgresCopyStream::send() {
  if (buffer_.empty()) return;
  if (PQputCopyData(connection_.raw(), buffer_.data(), static_cast<int>(buffer_.size())) != 1) {
    throw_postgres_error(connection_.raw(), nullptr, fmt::format("`{}` failed", statement_head(statement_)));
  }
  buffer_.clear();
}

void PostgresCopyStream::write(std::string_view data) {
  buffer_.append(data);
  if (buffer_.size() >= kSendBytes) send();
}

long long PostgresCopyStream::finish() {
  send();
  open_ = false;
  if (PQputCopyEnd(connection_.raw(), nullptr) != 1) {
    throw_postgres_error(connection_.raw(), nullptr, fmt::format("`{}` failed", statement_head(statement_)));
  }
  const PgResult result(PQgetResult(connection_.raw()));
  const bool ok = PQresultStatus(result.get()) == PGRES_COMMAND_OK;
  while (PGresult* extra = PQgetResult(connection_.raw())) PQclear(extra);
  if (!ok) throw_postgres_error(connection_.raw(), result.get(), fmt::format("`{}` failed", statement_head(statement_)));
  return result.affected();
}

void append_copy_text(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

}  // namespace datalab
