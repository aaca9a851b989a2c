#pragma once
// Validated writes to the library tables: each batch is checked (validation.h), then
// against the database (referenced rows exist and are not deleted), then inserted in one
// parameterized statement; rows that clash with existing ones are reported, not lost.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result_table.h"
#include "modules/library/validation.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab::library {

struct BatchOutcome {
  std::string table;
  std::size_t received = 0;
  std::vector<int64_t> inserted_ids;
  std::vector<Rejection> rejected;  // sorted by input row
  std::vector<std::string> warnings;

  // Rejections as a table (row, reason) for reports.
  ResultTable rejected_table() const;
};

struct ChangeOutcome {
  bool changed;
  std::string message;  // what happened, e.g. "book 42 does not exist"
};

class LibraryStore;

// One input added in batches (memory stays bounded whatever its size): push every row,
// then finish. Validation (duplicates included) spans the batches; each full batch is
// checked against the database and inserted at once. Run it inside a transaction to make
// the whole input one change.
//
// Reading the input and the database work overlap: full batches go to one worker thread,
// which validates them and talks to the database (the only user of the connection until
// finish() returns), while the caller reads the next batch; at most two batches wait, so
// memory stays bounded. An error on the worker is rethrown by the next push() or finish().
class BatchAdder {
 public:
  BatchAdder(LibraryStore& store, std::string table, std::size_t batch_rows = 20'000);
  ~BatchAdder();
  BatchAdder(const BatchAdder&) = delete;
  BatchAdder& operator=(const BatchAdder&) = delete;
  void push(RawRecord&& row);
  std::size_t received() const { return received_; }
  BatchOutcome finish();

 private:
  void flush();
  void work();
  void stop();
  LibraryStore& store_;
  std::size_t batch_rows_, received_ = 0;
  std::vector<RawRecord> pending_;
  ValidationState state_;
  BatchOutcome outcome_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<RawRecord>> queue_;
  bool closing_ = false, busy_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

class LibraryStore {
 public:
  explicit LibraryStore(PgConnection& connection, int32_t today);

  BatchOutcome add_authors(const std::vector<RawRecord>& input);
  BatchOutcome add_readers(const std::vector<RawRecord>& input);
  BatchOutcome add_books(const std::vector<RawRecord>& input);
  BatchOutcome add_loans(const std::vector<RawRecord>& input);
  // Dispatches on the table name (authors, readers, books, loans).
  BatchOutcome add(const std::string& table, const std::vector<RawRecord>& input);
  // One batch of a larger input: its rows are numbered from state.offset + 1; the outcome's
  // inserted ids, rejections and warnings are appended to `out`.
  void add_batch(const std::string& table, const std::vector<RawRecord>& input, ValidationState& state,
                 BatchOutcome& out);

  ChangeOutcome update_reader_names(int64_t reader_id, const std::string& first_name,
                                    const std::string& last_name);
  ChangeOutcome soft_delete_book(int64_t book_id);

 private:
  // Rejects rows whose referenced id (column `ref_table`) is missing or soft-deleted.
  void add_authors(const std::vector<RawRecord>& input, ValidationState& state, BatchOutcome& out);
  void add_readers(const std::vector<RawRecord>& input, ValidationState& state, BatchOutcome& out);
  void add_books(const std::vector<RawRecord>& input, ValidationState& state, BatchOutcome& out);
  void add_loans(const std::vector<RawRecord>& input, ValidationState& state, BatchOutcome& out);
  template <typename Row, typename IdOf>
  void check_references(Validated<Row>& v, const std::string& ref_table, const std::string& what, IdOf id_of);
  PgConnection& db_;
  int32_t today_;
};

}  // namespace datalab::library
