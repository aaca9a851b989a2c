#pragma once
// The messages of PostgreSQL's built-in logical decoding plugin `pgoutput`, protocol
// version 1 (the one every server since 10 speaks), decoded from the payload of one
// XLogData message of a logical replication stream. Values arrive as the server's text
// output (what psql shows), so every type is carried, with its type OID to interpret it.
// https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace datalab::pgoutput {

using Lsn = uint64_t;

// One column of a tuple: NULL, an unchanged TOASTed value the server did not send (an
// UPDATE that left a large value alone), or the value's text.
struct Value {
  enum class Kind : char { null = 'n', unchanged = 'u', text = 't' };
  Kind kind = Kind::null;
  std::string text;
};
using Tuple = std::vector<Value>;

struct Column {
  bool key = false;  // part of the table's replica identity
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
};

// Sent before the first change of a table in a session and again after its definition
// changed (a column added, dropped, retyped): later tuples follow this column list.
struct Relation {
  uint32_t oid = 0;
  std::string schema, name;
  char replica_identity = 'd';  // d default (primary key), n nothing, f full, i index
  std::vector<Column> columns;
};

struct Begin {
  Lsn final_lsn = 0;         // where the transaction's commit record starts
  int64_t commit_time_us = 0;  // microseconds since the Unix epoch
  uint32_t xid = 0;
};

struct Commit {
  Lsn commit_lsn = 0;
  Lsn end_lsn = 0;  // just past the commit record: where a reader that stored it resumes
  int64_t commit_time_us = 0;
};

struct Insert {
  uint32_t relation = 0;
  Tuple row;
};

// `old` is present when the replica identity changed (key columns only, key_only) or the
// table has REPLICA IDENTITY FULL (every column).
struct Update {
  uint32_t relation = 0;
  std::optional<Tuple> old;
  bool old_key_only = false;
  Tuple row;
};

struct Delete {
  uint32_t relation = 0;
  Tuple old;  // the key columns (others NULL) or, with REPLICA IDENTITY FULL, every column
  bool key_only = true;
};

struct Truncate {
  std::vector<uint32_t> relations;
  bool cascade = false, restart_identity = false;
};

// Origin, Type and logical decoding messages: nothing a change stream carries.
struct Other {
  char tag = 0;
};

using Message = std::variant<Begin, Commit, Relation, Insert, Update, Delete, Truncate, Other>;

// Throws ServiceError naming the message and what is wrong when the payload is malformed.
Message decode(std::string_view payload);

}  // namespace datalab::pgoutput
