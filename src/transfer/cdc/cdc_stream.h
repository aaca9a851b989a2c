#pragma once
// One run of a change stream: PostgreSQL's logical replication (pgoutput) into a sink.
//
// The first run (no slot, or no position stored at the sink) creates the slot with an
// exported snapshot and reads every published table as of that snapshot, in one sink
// commit with the slot's consistent point as position: the stream then carries exactly what
// committed after the snapshot, with no overlap and no gap. Every later run resumes where
// the sink's stored position says: the server sends again what it was not told is stored,
// and whole transactions the sink already holds are skipped, so nothing is stored twice.
// Changes are stored in commit order, whole transactions per sink commit (several, up to
// flush_changes or flush_interval_ms), and the server is told the position only after the
// sink committed it, so WAL is recycled only once it is safe. While nothing is published,
// the server's keepalive positions are confirmed too, so an idle slot keeps advancing
// (WAL of other tables and databases is not retained for it).
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "transfer/cdc/cdc_source.h"
#include "transfer/cdc/change.h"

namespace datalab::cdc {

struct StreamOptions {
  // Stop once everything committed before the run started is stored (a batch run);
  // otherwise stream until *stop is set (SIGINT/SIGTERM).
  bool until_caught_up = false;
  const std::atomic<bool>* stop = nullptr;
  int flush_interval_ms = 500;
  std::size_t flush_changes = 50'000;
  bool progress = false;  // a line on stderr every few seconds
};

struct StreamResult {
  bool snapshot = false;           // this run took the initial snapshot
  int64_t snapshot_rows = 0;
  int64_t changes = 0;             // inserts, updates, deletes and truncates stored
  int64_t transactions = 0;        // source transactions stored
  int64_t skipped_transactions = 0;  // sent again by the server, already held by the sink
  Lsn started_at = 0, stored_at = 0;
  double seconds = 0;
  int restarts = 0;                // a long-running stream that lost its server or broker and resumed
  std::vector<std::string> notes;  // schema changes, a slot taken again, …
};

// Adds to `result` as it goes, so a run that fails still tells what it stored before.
void run_stream(const CdcSource& source, ChangeSink& sink, const StreamOptions& options, StreamResult& result);

}  // namespace datalab::cdc
