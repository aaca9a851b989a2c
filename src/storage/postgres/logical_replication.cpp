#include "storage/postgres/logical_replication.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>

#include <fmt/format.h>

#include "core/error.h"
#include "storage/postgres/binary_words.h"

namespace datalab {

std::string lsn_text(Lsn lsn) { return fmt::format("{:X}/{:X}", lsn >> 32, lsn & 0xFFFFFFFFu); }

Lsn parse_lsn(std::string_view text) {
  uint32_t high = 0, low = 0;
  const std::string copy(text);
  int used = 0;
  if (std::sscanf(copy.c_str(), "%" SCNx32 "/%" SCNx32 "%n", &high, &low, &used) != 2 ||
      used != static_cast<int>(copy.size())) {
    throw ServiceError(fmt::format("'{}' is not a WAL position (expected e.g. 16/B374D848)", copy));
  }
  return (Lsn{high} << 32) | low;
}

void use_canonical_text_output(PgConnection& conn) {
  conn.exec("SET DateStyle TO ISO");
  conn.exec("SET TimeZone TO 'UTC'");
  conn.exec("SET IntervalStyle TO iso_8601");
  conn.exec("SET extra_float_digits TO 3");
}

LogicalReplication::LogicalReplication(const PostgresSettings& settings) : conn_(settings, /*replication=*/true) {
  use_canonical_text_output(conn_);
}

CreatedSlot LogicalReplication::create_slot(const std::string& slot) {
  const std::string command =
      conn_.server_version() >= 150000
          ? fmt::format("CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT 'export')", quote_identifier(slot))
          : fmt::format("CREATE_REPLICATION_SLOT {} LOGICAL pgoutput EXPORT_SNAPSHOT", quote_identifier(slot));
  const PgResult result = conn_.exec(command);
  if (result.rows() != 1 || result.columns() < 3 || result.is_null(0, 2)) {
    throw ServiceError(fmt::format("CREATE_REPLICATION_SLOT {} returned no snapshot", slot));
  }
  return {parse_lsn(result.value(0, 1)), std::string(result.value(0, 2))};
}

void LogicalReplication::start(const std::string& slot, const std::string& publication, Lsn from) {
  // publication_names is a list of identifiers inside a string literal.
  const std::string command =
      fmt::format("START_REPLICATION SLOT {} LOGICAL {} (proto_version '1', publication_names {})",
                  quote_identifier(slot), lsn_text(from), conn_.literal(quote_identifier(publication)));
  PgResult result(PQexec(conn_.raw(), command.c_str()));
  if (PQresultStatus(result.get()) != PGRES_COPY_BOTH) {
    throw_postgres_error(conn_.raw(), result.get(), fmt::format("PostgreSQL error in `{}`", command));
  }
}

LogicalReplication::Event LogicalReplication::read(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  for (;;) {
    char* raw = nullptr;
    const int size = PQgetCopyData(conn_.raw(), &raw, /*async=*/1);
    if (size > 0) {
      buffer_.reset(raw);
      const std::string_view message(raw, static_cast<std::size_t>(size));
      if (message[0] == 'w' && message.size() >= 25) {
        return Data{pg_binary::be64(raw + 1), pg_binary::be64(raw + 9), message.substr(25)};
      }
      if (message[0] == 'k' && message.size() >= 18) {
        return Keepalive{pg_binary::be64(raw + 1), raw[17] != 0};
      }
      throw ServiceError(fmt::format("logical replication: an unknown message '{}' of {} bytes", message[0], size));
    }
    if (size == -2) throw_postgres_error(conn_.raw(), nullptr, "logical replication stream broke");
    if (size == -1) {  // the server ended the stream: its reason is in the result
      PgResult result(PQgetResult(conn_.raw()));
      throw_postgres_error(conn_.raw(), result.get(), "PostgreSQL ended the logical replication stream");
    }
    if (timed_out) return std::monostate{};
    // Whatever the timeout (0 included), the socket is read before giving up: a message that
    // arrived in part is completed by what followed it.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd socket{PQsocket(conn_.raw()), POLLIN, 0};
    const int ready = ::poll(&socket, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (!PQconsumeInput(conn_.raw())) throw_postgres_error(conn_.raw(), nullptr, "logical replication stream broke");
    if (ready == 0) timed_out = true;  // one more look at what was consumed, then return
  }
}

void LogicalReplication::acknowledge(Lsn flushed, bool reply_requested) {
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  std::string message = "r";
  pg_binary::put64(message, flushed);  // written
  pg_binary::put64(message, flushed);  // flushed
  pg_binary::put64(message, flushed);  // applied
  pg_binary::put64(message, static_cast<uint64_t>(now_us - pg_binary::kEpochMicros));
  message += reply_requested ? '\1' : '\0';
  if (PQputCopyData(conn_.raw(), message.data(), static_cast<int>(message.size())) != 1 || PQflush(conn_.raw()) != 0) {
    throw_postgres_error(conn_.raw(), nullptr, "cannot send the replication position to PostgreSQL");
  }
}

}  // namespace datalab
