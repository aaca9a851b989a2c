#pragma once
// What the change stream of `datalab cdc` hands its sink: one row change of a published
// table, in the words of the source (pgoutput tuples, text values with their type OIDs).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/postgres/logical_replication.h"
#include "storage/postgres/pgoutput.h"

namespace datalab::cdc {

// A published table as the stream knows it now: its columns follow the last Relation
// message (a column added later appears in the changes after it).
struct TableShape {
  uint32_t oid = 0;
  std::string schema, name;
  std::vector<pgoutput::Column> columns;
  std::vector<int> primary_key;  // indexes into columns; empty: the table has none
  std::string qualified() const { return schema + "." + name; }
};

// Debezium's operation letters: r a row of the initial snapshot, c insert, u update,
// d delete, t truncate.
enum class ChangeOp : char { snapshot = 'r', insert = 'c', update = 'u', remove = 'd', truncate = 't' };

struct Change {
  ChangeOp op = ChangeOp::insert;
  const TableShape* table = nullptr;
  const pgoutput::Tuple* before = nullptr;  // delete; update when the server sent the old row
  const pgoutput::Tuple* after = nullptr;   // snapshot, insert, update
  Lsn lsn = 0;                // the transaction's commit position (snapshot: the slot's consistent point)
  int64_t commit_time_us = 0;  // since the Unix epoch (snapshot: when it was taken)
  uint32_t xid = 0;
};

// Where changes go. A sink stores a position with the changes: the stream resumes after it,
// and skips what the server sends again from before it, so nothing is stored twice.
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  // The position stored with the last changes made durable; nullopt when none were.
  virtual std::optional<Lsn> stored_position() = 0;
  // The snapshot rows of `table` follow: they are the whole table (a sink holding rows of
  // an earlier stream replaces them).
  virtual void snapshot_begins(const TableShape& table) { (void)table; }
  virtual void write(const Change& change) = 0;
  // Makes every change written since the last commit durable, with `position`, at once.
  virtual void commit(Lsn position) = 0;
  // Drops what was written since the last commit (the stream is stopping mid-transaction).
  virtual void abort() = 0;
  // Removes the stored position (`datalab cdc drop`): the next run starts with a snapshot.
  virtual void forget_position() = 0;
  // Where the changes go, for reports (no secrets).
  virtual std::string describe() const = 0;
};

}  // namespace datalab::cdc
