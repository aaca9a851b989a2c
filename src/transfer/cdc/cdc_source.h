#pragma once
// The PostgreSQL end of a change stream, postgres+cdc://user:pass@host:port/db?publication=P
// [&slot=S][&tables=schema.t,…]: the connection (as for postgres://, DATABASE_URL and the
// settings filling what is left out), the publication whose tables are streamed (created
// FOR TABLE ?tables= when missing) and the replication slot that keeps the stream's place on
// the server (default datalab_<publication>). Also what `datalab cdc status` and `drop` do
// with them.
#include <optional>
#include <string>
#include <vector>

#include "storage/postgres/logical_replication.h"
#include "storage/postgres/postgres_connection.h"
#include "transfer/cdc/change.h"
#include "transfer/endpoint.h"

namespace datalab::cdc {

struct CdcSource {
  PostgresSettings db;
  std::string publication, slot;
  std::vector<std::string> tables;  // ?tables=: what a missing publication is created for
  std::string masked;               // the URL as typed, password masked
  // Names the stream where its position is stored: host:port/db/slot.
  std::string stream_id() const;
};

// Throws ConfigError naming the URL when it is not a postgres+cdc:// end or a name is invalid.
CdcSource cdc_source_of(const transfer::Endpoint& endpoint);

// Creates the publication when missing (ConfigError when it is and no ?tables= says for
// what), and returns the OIDs of its tables.
std::vector<uint32_t> ensure_publication(PgConnection& sql, const CdcSource& source);
// A table as the catalog defines it now: its published columns (not dropped, not generated)
// and primary key.
TableShape load_table_shape(PgConnection& sql, uint32_t oid);
// The primary key of a table, as indexes into `columns` (matched by name).
std::vector<int> primary_key_of(PgConnection& sql, uint32_t oid, const std::vector<pgoutput::Column>& columns);

struct SlotStatus {
  bool exists = false, active = false;
  std::string active_pid;
  Lsn current = 0, confirmed = 0, restart = 0;
  int64_t lag_bytes = 0;       // WAL written since the position the reader confirmed
  int64_t retained_bytes = 0;  // WAL the server keeps for the slot
  std::string wal_status;      // reserved, extended, unreserved, lost
  // How old the oldest change the reader has not confirmed is (seconds); nullopt when none waits.
  std::optional<double> lag_seconds;
  bool publication_exists = false;
  std::vector<std::string> tables;  // the publication's, schema.table
};
SlotStatus slot_status(const CdcSource& source);

// Drops the slot (ConfigError when a running stream holds it) and the publication; returns
// what was there to drop, e.g. {"slot datalab_p", "publication p"}.
std::vector<std::string> drop_slot_and_publication(const CdcSource& source);

}  // namespace datalab::cdc
