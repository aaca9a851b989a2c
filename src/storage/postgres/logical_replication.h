#pragma once
// A logical replication session with the pgoutput plugin, on a connection of its own
// (replication=database): creating a slot with an exported snapshot, streaming a
// publication's changes from a position, and telling the server what the reader stored, so
// it may recycle the WAL before it. Decoding the payloads is pgoutput.h's.
// https://www.postgresql.org/docs/current/protocol-replication.html
#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "storage/postgres/pgoutput.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab {

using Lsn = pgoutput::Lsn;

// "16/B374D848", as the server writes positions.
std::string lsn_text(Lsn lsn);
// Throws ServiceError on text that is not a position.
Lsn parse_lsn(std::string_view text);

// The session settings under which values print the same in every session of a change
// stream (the walsender's and the snapshot's): ISO dates, UTC, floats that round-trip.
void use_canonical_text_output(PgConnection& conn);

struct CreatedSlot {
  Lsn consistent_point = 0;  // the stream of the new slot starts with what commits after it
  std::string snapshot;      // the database as of that point, for SET TRANSACTION SNAPSHOT
};

class LogicalReplication {
 public:
  explicit LogicalReplication(const PostgresSettings& settings);

  // Creates a pgoutput slot (fails when it exists) and exports the snapshot of its
  // consistent point: importable by other sessions until this connection runs its next command.
  CreatedSlot create_slot(const std::string& slot);
  // Streams the publication's changes, from `from` or the slot's confirmed position,
  // whichever is later. Protocol version 1: each transaction arrives whole, after its commit.
  void start(const std::string& slot, const std::string& publication, Lsn from);

  struct Data {
    Lsn wal_start = 0, wal_end = 0;
    std::string_view payload;  // one pgoutput message, valid until the next read()
  };
  struct Keepalive {
    Lsn wal_end = 0;  // the server's WAL position: nothing for this slot before it remains unsent
    bool reply_requested = false;
  };
  using Event = std::variant<std::monostate, Data, Keepalive>;
  // The next message, waiting up to timeout_ms (monostate when none came). Throws
  // PostgresError when the server ends the stream or the connection breaks.
  Event read(int timeout_ms);
  // Standby status update: every change before `flushed` is durably stored by the reader.
  void acknowledge(Lsn flushed, bool reply_requested = false);

 private:
  PgConnection conn_;
  std::unique_ptr<char, decltype(&PQfreemem)> buffer_{nullptr, &PQfreemem};
};

}  // namespace datalab
