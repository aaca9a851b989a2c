#pragma once
// Changes applied to PostgreSQL tables, by primary key: postgres://…/db[?schema=name]. Each
// published table s.t goes to s.t at the target (or name.t), created when missing with the
// source's column types and primary key, and given the columns added at the source. A sink
// commit is one target transaction: the changes of whole source transactions, merged
// through a staging table (the last change of each key wins: deletes delete, the rest
// upsert; a TOASTed value the server did not send keeps the target's), with the stream's
// position in datalab.cdc_positions, so the target holds a state of the source as of a
// commit, and a crash anywhere repeats nothing there.
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/postgres/postgres_connection.h"
#include "transfer/cdc/change.h"
#include "transfer/endpoint.h"

namespace datalab::cdc {

class PostgresChangeSink : public ChangeSink {
 public:
  // `stream_id` names the source stream in datalab.cdc_positions (host:port/db/slot); the
  // publication and slot tell a target table that is the published table itself.
  PostgresChangeSink(const transfer::Endpoint& target, const std::string& stream_id, const std::string& publication,
                     const std::string& slot);

  std::optional<Lsn> stored_position() override;
  void snapshot_begins(const TableShape& table) override;
  void write(const Change& change) override;
  void commit(Lsn position) override;
  void abort() override;
  void forget_position() override;
  std::string describe() const override { return masked_; }

 private:
  struct Pending {
    char op;
    std::vector<std::optional<std::string>> values;  // in source column order
    std::vector<std::string> unchanged;              // columns whose value the server did not send
  };
  struct Table {
    std::string schema, name;                         // at the target
    std::vector<pgoutput::Column> source_columns;     // the shape it was made ready for
    std::vector<std::string> columns, key;
    std::vector<std::pair<std::string, std::string>> stage_columns;
    std::vector<Pending> pending;
    std::unordered_map<std::string, std::size_t> last_by_key;  // key -> its last pending upsert
    std::string quoted() const { return quote_identifier(schema) + "." + quote_identifier(name); }
  };
  void begin();
  Table& ready(const TableShape& shape);
  void apply(Table& table);  // merges the table's pending changes (inside the open transaction)

  PgConnection db_;
  std::string masked_, schema_, stream_id_, publication_, slot_;
  std::map<uint32_t, Table> tables_;  // by source OID
  bool open_ = false;
  int64_t sequence_ = 0;
};

}  // namespace datalab::cdc
