#include "transfer/cdc/cdc_stream.h"

#include <chrono>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/stopwatch.h"

namespace datalab::cdc {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kSnapshotFetchRows = 10'000;
constexpr auto kStatusInterval = std::chrono::seconds(10);  // well inside wal_sender_timeout (60 s)

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool same_columns(const std::vector<pgoutput::Column>& a, const std::vector<pgoutput::Column>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].type_oid != b[i].type_oid) return false;
  }
  return true;
}

std::string column_list(const std::vector<pgoutput::Column>& columns) {
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// Every published table as of the exported snapshot, as changes of kind r.
int64_t take_snapshot(PgConnection& sql, const std::string& snapshot, Lsn consistent_point,
                      const std::vector<uint32_t>& tables, std::map<uint32_t, TableShape>& shapes, ChangeSink& sink) {
  int64_t rows = 0;
  const int64_t taken_at = now_us();
  sql.transaction([&] {
    sql.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    sql.exec("SET TRANSACTION SNAPSHOT " + sql.literal(snapshot));
    for (const uint32_t oid : tables) {
      TableShape& shape = shapes[oid] = load_table_shape(sql, oid);
      sink.snapshot_begins(shape);
      std::vector<std::string> columns;
      for (const auto& c : shape.columns) columns.push_back(quote_identifier(c.name));
      sql.exec(fmt::format("DECLARE datalab_snapshot NO SCROLL CURSOR FOR SELECT {} FROM {}.{}",
                           fmt::join(columns, ", "), quote_identifier(shape.schema), quote_identifier(shape.name)));
      pgoutput::Tuple row(shape.columns.size());
      for (;;) {
        const PgResult batch = sql.exec(fmt::format("FETCH FORWARD {} FROM datalab_snapshot", kSnapshotFetchRows));
        for (int r = 0; r < batch.rows(); ++r) {
          for (int c = 0; c < batch.columns(); ++c) {
            auto& value = row[c];
            if (batch.is_null(r, c)) {
              value.kind = pgoutput::Value::Kind::null;
              value.text.clear();
            } else {
              value.kind = pgoutput::Value::Kind::text;
              value.text.assign(batch.value(r, c));
            }
          }
          Change change;
          change.op = ChangeOp::snapshot;
          change.table = &shape;
          change.after = &row;
          change.lsn = consistent_point;
          change.commit_time_us = taken_at;
          sink.write(change);
          ++rows;
        }
        if (batch.rows() < kSnapshotFetchRows) break;
      }
      sql.exec("CLOSE datalab_snapshot");
      spdlog::info("cdc: snapshot of {}: {} rows so far", shape.qualified(), rows);
    }
  });
  return rows;
}

bool same_key(const TableShape& table, const pgoutput::Tuple& a, const pgoutput::Tuple& b) {
  for (const int c : table.primary_key) {
    if (static_cast<std::size_t>(c) >= a.size() || static_cast<std::size_t>(c) >= b.size()) return false;
    if (a[c].kind != b[c].kind || a[c].text != b[c].text) return false;
  }
  return true;
}

class Stream {
 public:
  Stream(const CdcSource& source, ChangeSink& sink, const StreamOptions& options, StreamResult& result)
      : source_(source), sink_(sink), options_(options), sql_(source.db), result_(result) {
    use_canonical_text_output(sql_);
  }

  void run() {
    const auto started = Clock::now();
    const std::vector<uint32_t> tables = ensure_publication(sql_, source_);
    std::optional<Lsn> stored = sink_.stored_position();
    const auto slot_row = [&] {
      return sql_.exec(
          "SELECT plugin, database, active, coalesce(active_pid::text, '') FROM pg_replication_slots "
          "WHERE slot_name = $1",
          {source_.slot});
    };
    PgResult slot = slot_row();
    // A reader that just lost its connection (a resumed stream's own) holds the slot a moment longer.
    for (int waited = 0; slot.rows() == 1 && slot.value(0, 2) == "t" && waited < 20; ++waited) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      slot = slot_row();
    }
    bool slot_exists = slot.rows() == 1;
    if (slot_exists) {
      if (slot.value(0, 0) != "pgoutput" || slot.value(0, 1) != source_.db.database) {
        throw ConfigError(fmt::format("slot {} exists but is not a pgoutput slot of database {} (plugin {}, database "
                                      "{}): choose another ?slot=",
                                      source_.slot, source_.db.database, slot.value(0, 0), slot.value(0, 1)));
      }
      if (slot.value(0, 2) == "t") {
        throw ConfigError(fmt::format("slot {} is in use by server process {}: another stream reads it", source_.slot,
                                      slot.value(0, 3)));
      }
    }
    LogicalReplication replication(source_.db);
    if (slot_exists && !stored) {
      // A slot whose snapshot never reached the sink (a first run that was stopped): start over.
      result_.notes.push_back(fmt::format("slot {} had no position stored at {}: the snapshot is taken again",
                                          source_.slot, sink_.describe()));
      sql_.exec("SELECT pg_drop_replication_slot($1)", {source_.slot});
      slot_exists = false;
    } else if (!slot_exists && stored) {
      result_.notes.push_back(fmt::format("slot {} is gone (dropped?) though {} holds a position: changes since may "
                                          "be missing, so a new snapshot is taken (its rows come as op r again)",
                                          source_.slot, sink_.describe()));
    }
    if (!slot_exists) {
      const CreatedSlot created = replication.create_slot(source_.slot);
      result_.snapshot = true;
      result_.snapshot_rows += take_snapshot(sql_, created.snapshot, created.consistent_point, tables, shapes_, sink_);
      sink_.commit(created.consistent_point);
      stored = created.consistent_point;
    }
    position_ = acked_ = result_.stored_at = *stored;
    if (!result_.started_at) result_.started_at = *stored;
    const Lsn stop_at = parse_lsn(sql_.exec("SELECT pg_current_wal_lsn()::text").value(0, 0));
    replication.start(source_.slot, source_.publication, position_);
    stream(replication, stop_at);
    result_.seconds += seconds_since(started);
  }

 private:
  void stream(LogicalReplication& replication, Lsn stop_at) {
    auto last_status = Clock::now(), last_progress = Clock::now();
    for (;;) {
      if (options_.stop && options_.stop->load()) {
        if (in_transaction_) {
          sink_.abort();  // the server sends it again next time
        } else if (pending_) {
          store(replication);
        }
        return;
      }
      int wait_ms = 200;
      if (pending_ && !in_transaction_) {  // (inside a transaction nothing can be stored before its commit)
        const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - pending_since_);
        wait_ms = std::clamp<int>(options_.flush_interval_ms - static_cast<int>(waited.count()), 0, 200);
      }
      const auto event = replication.read(wait_ms);
      if (const auto* data = std::get_if<LogicalReplication::Data>(&event)) {
        handle(pgoutput::decode(data->payload), replication);
      } else if (const auto* keepalive = std::get_if<LogicalReplication::Keepalive>(&event)) {
        server_end_ = std::max(server_end_, keepalive->wal_end);
        if (!in_transaction_ && !pending_ && keepalive->wal_end > acked_) {
          acked_ = keepalive->wal_end;  // nothing published before it is left unstored
          replication.acknowledge(acked_);
          last_status = Clock::now();
        } else if (keepalive->reply_requested) {
          replication.acknowledge(acked_);
          last_status = Clock::now();
        }
      } else {  // quiet for a moment: store what is waiting, or ask where the server is
        if (pending_ && !in_transaction_) {
          store(replication);
        } else if (!in_transaction_ && options_.until_caught_up) {
          replication.acknowledge(acked_, /*reply_requested=*/true);
          last_status = Clock::now();
        }
      }
      if (pending_ && !in_transaction_ &&
          Clock::now() - pending_since_ >= std::chrono::milliseconds(options_.flush_interval_ms)) {
        store(replication);
      }
      if (options_.until_caught_up && !in_transaction_ && !pending_ && std::max(server_end_, acked_) >= stop_at) {
        return;
      }
      if (Clock::now() - last_status >= kStatusInterval) {
        replication.acknowledge(acked_);
        last_status = Clock::now();
      }
      if (options_.progress && Clock::now() - last_progress >= std::chrono::seconds(5)) {
        spdlog::info("cdc: {} changes in {} transactions stored, at {}", result_.changes, result_.transactions,
                     lsn_text(result_.stored_at));
        last_progress = Clock::now();
      }
    }
  }

  void handle(const pgoutput::Message& message, LogicalReplication& replication) {
    if (const auto* begin = std::get_if<pgoutput::Begin>(&message)) {
      in_transaction_ = true;
      begin_ = *begin;
      // A transaction whose commit lies before the stored position is already at the sink.
      skipping_ = begin->final_lsn < position_;
    } else if (const auto* commit = std::get_if<pgoutput::Commit>(&message)) {
      in_transaction_ = false;
      if (skipping_) {
        ++result_.skipped_transactions;
        return;
      }
      if (!pending_) pending_since_ = Clock::now();
      pending_ = true;
      pending_end_ = commit->end_lsn;
      ++pending_transactions_;
      if (pending_changes_ >= options_.flush_changes) store(replication);
    } else if (const auto* relation = std::get_if<pgoutput::Relation>(&message)) {
      learn(*relation);
    } else if (const auto* insert = std::get_if<pgoutput::Insert>(&message)) {
      if (!skipping_) emit(ChangeOp::insert, insert->relation, nullptr, &insert->row);
    } else if (const auto* update = std::get_if<pgoutput::Update>(&message)) {
      if (skipping_) return;
      const TableShape& table = shape(update->relation);
      if (update->old && !same_key(table, *update->old, update->row)) {
        // A new primary key: the old key's row is gone and a new one is there (as Debezium tells it).
        emit(ChangeOp::remove, update->relation, &*update->old, nullptr);
        emit(ChangeOp::insert, update->relation, nullptr, &update->row);
      } else {
        emit(ChangeOp::update, update->relation, update->old ? &*update->old : nullptr, &update->row);
      }
    } else if (const auto* remove = std::get_if<pgoutput::Delete>(&message)) {
      if (!skipping_) emit(ChangeOp::remove, remove->relation, &remove->old, nullptr);
    } else if (const auto* truncate = std::get_if<pgoutput::Truncate>(&message)) {
      if (skipping_) return;
      for (const uint32_t oid : truncate->relations) emit(ChangeOp::truncate, oid, nullptr, nullptr);
    }
  }

  void learn(const pgoutput::Relation& relation) {
    auto it = shapes_.find(relation.oid);
    if (it != shapes_.end() && !same_columns(it->second.columns, relation.columns)) {
      result_.notes.push_back(fmt::format("{}.{} changed its columns to ({}); the changes after it carry them",
                                          relation.schema, relation.name, column_list(relation.columns)));
      spdlog::info("cdc: {}", result_.notes.back());
    }
    TableShape shape;
    shape.oid = relation.oid;
    shape.schema = relation.schema;
    shape.name = relation.name;
    shape.columns = relation.columns;
    shape.primary_key = primary_key_of(sql_, relation.oid, shape.columns);
    shapes_[relation.oid] = std::move(shape);
  }

  const TableShape& shape(uint32_t oid) const {
    const auto it = shapes_.find(oid);
    if (it == shapes_.end()) {
      throw ServiceError(fmt::format("logical replication: a change of relation {} before its definition", oid));
    }
    return it->second;
  }

  void emit(ChangeOp op, uint32_t relation, const pgoutput::Tuple* before, const pgoutput::Tuple* after) {
    const TableShape& table = shape(relation);
    for (const auto* row : {before, after}) {
      if (row && row->size() != table.columns.size()) {
        throw ServiceError(fmt::format("logical replication: a row of {} with {} columns where its definition has {}",
                                       table.qualified(), row->size(), table.columns.size()));
      }
    }
    Change change;
    change.op = op;
    change.table = &table;
    change.before = before;
    change.after = after;
    change.lsn = begin_.final_lsn;
    change.commit_time_us = begin_.commit_time_us;
    change.xid = begin_.xid;
    sink_.write(change);
    ++pending_changes_;
  }

  // The pending transactions become durable at the sink; only then the server hears of it.
  void store(LogicalReplication& replication) {
    sink_.commit(pending_end_);
    result_.changes += static_cast<int64_t>(pending_changes_);
    result_.transactions += pending_transactions_;
    result_.stored_at = acked_ = pending_end_;
    replication.acknowledge(acked_);
    pending_ = false;
    pending_changes_ = 0;
    pending_transactions_ = 0;
  }

  const CdcSource& source_;
  ChangeSink& sink_;
  StreamOptions options_;
  PgConnection sql_;  // catalog lookups and the snapshot, beside the replication connection
  std::map<uint32_t, TableShape> shapes_;
  StreamResult& result_;
  Lsn position_ = 0;    // where the sink's stored changes end: earlier transactions are skipped
  Lsn acked_ = 0;       // the last position confirmed to the server
  Lsn server_end_ = 0;  // the server's WAL position from its last keepalive
  pgoutput::Begin begin_;
  bool in_transaction_ = false, skipping_ = false, pending_ = false;
  Lsn pending_end_ = 0;
  std::size_t pending_changes_ = 0;
  int64_t pending_transactions_ = 0;
  Clock::time_point pending_since_;
};

}  // namespace

void run_stream(const CdcSource& source, ChangeSink& sink, const StreamOptions& options, StreamResult& result) {
  Stream(source, sink, options, result).run();
}

}  // namespace datalab::cdc
