#include "modules/library/library_store.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/dates.h"
#include "core/error.h"
#include "storage/postgres/staging_table.h"

namespace datalab::library {

namespace {

using Column = std::vector<std::optional<std::string>>;

// Stages one batch with each row's input position, then inserts it in one statement that
// maps every input row to its new id, or to nothing when a unique key already held it (ON
// CONFLICT DO NOTHING). Each staged row draws its id from the table's identity sequence
// first, in input order, so the inserted rows are matched back to the input by id equality
// (a hash join), not by comparing keys. `columns` are (name, type) pairs.
std::vector<std::optional<int64_t>> insert_batch(PgConnection& db, const std::string& table,
                                                 const std::vector<std::pair<std::string, std::string>>& columns,
                                                 const std::vector<Column>& values) {
  if (!db.in_transaction()) return db.transaction([&] { return insert_batch(db, table, columns, values); });
  auto stage_columns = columns;
  stage_columns.insert(stage_columns.begin(), {"pos", "bigint"});
  StagingTable stage(db, table + "_stage", stage_columns);
  std::vector<std::string> stage_names;
  for (const auto& column : stage_columns) stage_names.push_back(column.first);
  CopyIn copy = stage.copy(stage_names, CopyFormat::text);
  const std::size_t rows = values.empty() ? 0 : values[0].size();
  std::vector<std::optional<std::string>> fields(stage_columns.size());
  std::string encoded;
  for (std::size_t r = 0; r < rows; ++r) {
    fields[0] = std::to_string(r);
    for (std::size_t c = 0; c < columns.size(); ++c) fields[c + 1] = values[c][r];
    append_copy_text_row(encoded, fields);
    if (encoded.size() >= (1 << 20)) {
      copy.write_rows(encoded);
      encoded.clear();
    }
  }
  copy.write_rows(encoded);
  copy.finish();

  std::string names;
  for (const auto& column : columns) names += (names.empty() ? "" : ", ") + quote_identifier(column.first);
  const std::string qualified = "library." + table;
  // The sequence as a constant: pg_get_serial_sequence() per row would cost a catalog
  // lookup for every row (a third of the insert's time).
  const std::string sequence =
      std::string(db.exec("SELECT pg_get_serial_sequence($1, 'id')", {qualified}).value(0, 0));
  const PgResult result = db.exec(
      fmt::format("WITH input AS MATERIALIZED (SELECT nextval($1::regclass) AS id, s.* "
                  "  FROM (SELECT * FROM {1} ORDER BY pos) s), "
                  "ins AS (INSERT INTO {0} (id, {2}) SELECT id, {2} FROM input ORDER BY pos "
                  "ON CONFLICT DO NOTHING RETURNING id) "
                  "SELECT ins.id FROM input i LEFT JOIN ins ON ins.id = i.id ORDER BY i.pos",
                  qualified, stage.qualified(), names),
      {sequence});
  std::vector<std::optional<int64_t>> ids;
  ids.reserve(result.rows());
  for (int r = 0; r < result.rows(); ++r) {
    ids.push_back(result.is_null(r, 0) ? std::nullopt : std::optional<int64_t>(result.integer(r, 0)));
  }
  return ids;
}

template <typename Row>
void finish_batch(BatchOutcome& out, Validated<Row>& v, const std::vector<std::optional<int64_t>>& ids,
                  const std::string& clash) {
  for (auto& r : v.rejected) out.rejected.push_back(std::move(r));
  for (auto& w : v.warnings) {
    if (std::find(out.warnings.begin(), out.warnings.end(), w) == out.warnings.end()) out.warnings.push_back(std::move(w));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i]) {
      out.inserted_ids.push_back(*ids[i]);
    } else {
      out.rejected.push_back({v.positions[i], clash});
    }
  }
}

std::string date_text(int32_t days) { return format_iso_date(days); }

}  // namespace

ResultTable BatchOutcome::rejected_table() const {
  ResultTable t{{"row", "reason"}, {ValueKind::Number, ValueKind::Text}, {}};
  for (const auto& r : rejected) t.add_row({std::to_string(r.row), r.reason});
  return t;
}

LibraryStore::LibraryStore(PgConnection& connection, int32_t today) : db_(connection), today_(today) {}

template <typename Row, typename IdOf>
void LibraryStore::check_references(Validated<Row>& v, const std::string& ref_table, const std::string& what,
                                    IdOf id_of) {
  if (v.rows.empty()) return;
  Column ids;
  for (const auto& row : v.rows) ids.push_back(std::to_string(id_of(row)));
  const PgResult found = db_.exec(
      fmt::format("SELECT id, deleted_at IS NOT NULL FROM library.{} WHERE id = ANY($1::bigint[])", ref_table),
      {to_pg_array(ids)});
  std::map<int64_t, bool> deleted;
  for (int r = 0; r < found.rows(); ++r) deleted[found.integer(r, 0)] = found.value(r, 1) == "t";
  Validated<Row> kept;
  kept.rejected = std::move(v.rejected);
  kept.warnings = std::move(v.warnings);
  for (std::size_t i = 0; i < v.rows.size(); ++i) {
    const int64_t id = id_of(v.rows[i]);
    auto it = deleted.find(id);
    if (it == deleted.end()) {
      kept.rejected.push_back({v.positions[i], fmt::format("{} {} does not exist", what, id)});
    } else if (it->second) {
      kept.rejected.push_back({v.positions[i], fmt::format("{} {} is deleted", what, id)});
    } else {
      kept.rows.push_back(std::move(v.rows[i]));
      kept.positions.push_back(v.positions[i]);
    }
  }
  v = std::move(kept);
}

void LibraryStore::add_authors(const std::vector<RawRecord>& input, ValidationState& state, BatchOutcome& out) {
  auto v = validate_authors(input, today_, state);
  std::vector<Column> cols(3);
  for (const auto& row : v.rows) {
    cols[0].push_back(row.first_name);
    cols[1].push_back(row.last_name);
    cols[2].push_back(date_text(row.birth_date));
  }
  std::vector<std::optional<int64_t>> ids;
  if (!v.rows.empty()) {
    ids = insert_batch(db_, "authors", {{"first_name", "text"}, {"last_name", "text"}, {"birth_date", "date"}},
                       cols);
  }
  finish_batch(out, v, ids, "an author with the same names and birth date already exists");
}

void LibraryStore::add_readers(const std::vector<RawRecord>& input, ValidationState& state, BatchOutcome& out) {
  auto v = validate_readers(input, today_, state);
  std::vector<Column> cols(4);
  for (const auto& row : v.rows) {
    cols[0].push_back(row.first_name);
    cols[1].push_back(row.last_name);
    cols[2].push_back(row.email);
    cols[3].push_back(date_text(row.registration_date));
  }
  std::vector<std::optional<int64_t>> ids;
  if (!v.rows.empty()) {
    ids = insert_batch(db_, "readers",
                       {{"first_name", "text"}, {"last_name", "text"}, {"email", "text"}, {"registration_date", "date"}},
                       cols);
  }
  finish_batch(out, v, ids, "a reader with this email already exists");
}

void LibraryStore::add_books(const std::vector<RawRecord>& input, ValidationState& state, BatchOutcome& out) {
  auto v = validate_books(input, today_, state);
  check_references(v, "authors", "author", [](const BookRow& row) { return row.author_id; });
  std::vector<Column> cols(7);
  for (const auto& row : v.rows) {
    cols[0].push_back(row.title);
    cols[1].push_back(std::to_string(row.author_id));
    cols[2].push_back(row.isbn);
    cols[3].push_back(std::to_string(row.publication_year));
    cols[4].push_back(row.genre);
    cols[5].push_back(std::to_string(row.copies_available));
    cols[6].push_back(std::to_string(row.total_copies));
  }
  std::vector<std::optional<int64_t>> ids;
  if (!v.rows.empty()) {
    ids = insert_batch(db_, "books",
                       {{"title", "text"}, {"author_id", "bigint"}, {"isbn", "text"}, {"publication_year", "integer"},
                        {"genre", "text"}, {"copies_available", "integer"}, {"total_copies", "integer"}},
                       cols);
  }
  finish_batch(out, v, ids, "a book with this ISBN, or with the same author, title and year, already exists");
}

void LibraryStore::add_loans(const std::vector<RawRecord>& input, ValidationState& state, BatchOutcome& out) {
  auto v = validate_loans(input, today_, state);
  check_references(v, "books", "book", [](const LoanRow& row) { return row.book_id; });
  check_references(v, "readers", "reader", [](const LoanRow& row) { return row.reader_id; });
  std::vector<Column> cols(5);
  for (const auto& row : v.rows) {
    cols[0].push_back(std::to_string(row.book_id));
    cols[1].push_back(std::to_string(row.reader_id));
    cols[2].push_back(date_text(row.loan_date));
    cols[3].push_back(date_text(row.due_date));
    cols[4].push_back(row.return_date ? std::optional(date_text(*row.return_date)) : std::nullopt);
  }
  std::vector<std::optional<int64_t>> ids;
  if (!v.rows.empty()) {
    ids = insert_batch(db_, "loans",
                       {{"book_id", "bigint"}, {"reader_id", "bigint"}, {"loan_date", "date"}, {"due_date", "date"},
                        {"return_date", "date"}},
                       cols);
  }
  finish_batch(out, v, ids, "this reader already has a loan of this book");
}

void LibraryStore::add_batch(const std::string& table, const std::vector<RawRecord>& input, ValidationState& state,
                             BatchOutcome& out) {
  if (table == "authors") return add_authors(input, state, out);
  if (table == "readers") return add_readers(input, state, out);
  if (table == "books") return add_books(input, state, out);
  if (table == "loans") return add_loans(input, state, out);
  throw ConfigError(fmt::format("unknown table '{}' (expected authors, readers, books or loans)", table));
}

BatchOutcome LibraryStore::add(const std::string& table, const std::vector<RawRecord>& input) {
  BatchAdder adder(*this, table);
  for (auto row : input) adder.push(std::move(row));
  return adder.finish();
}

BatchOutcome LibraryStore::add_authors(const std::vector<RawRecord>& input) { return add("authors", input); }
BatchOutcome LibraryStore::add_readers(const std::vector<RawRecord>& input) { return add("readers", input); }
BatchOutcome LibraryStore::add_books(const std::vector<RawRecord>& input) { return add("books", input); }
BatchOutcome LibraryStore::add_loans(const std::vector<RawRecord>& input) { return add("loans", input); }

BatchAdder::BatchAdder(LibraryStore& store, std::string table, std::size_t batch_rows)
    : store_(store), batch_rows_(std::max<std::size_t>(1, batch_rows)) {
  if (table != "authors" && table != "readers" && table != "books" && table != "loans") {
    throw ConfigError(fmt::format("unknown table '{}' (expected authors, readers, books or loans)", table));
  }
  outcome_.table = std::move(table);
  worker_ = std::thread([this] { work(); });
}

BatchAdder::~BatchAdder() { stop(); }

void BatchAdder::stop() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    queue_.clear();  // left without finish(): the input failed, its transaction rolls back
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void BatchAdder::work() {
  for (;;) {
    std::vector<RawRecord> batch;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;
      batch = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    changed_.notify_all();
    try {
      if (!error_) store_.add_batch(outcome_.table, batch, state_, outcome_);
    } catch (...) {
      std::lock_guard lock(mutex_);
      error_ = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      busy_ = false;
    }
    changed_.notify_all();
  }
}

void BatchAdder::push(RawRecord&& row) {
  ++received_;
  pending_.push_back(std::move(row));
  if (pending_.size() >= batch_rows_) flush();
}

void BatchAdder::flush() {
  std::unique_lock lock(mutex_);
  if (error_) std::rethrow_exception(error_);
  if (pending_.empty()) return;
  changed_.wait(lock, [&] { return queue_.size() < 2 || error_; });
  if (error_) std::rethrow_exception(error_);
  queue_.push_back(std::move(pending_));
  pending_ = {};
  lock.unlock();
  changed_.notify_all();
}

BatchOutcome BatchAdder::finish() {
  flush();
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return (queue_.empty() && !busy_) || error_; });
  }
  stop();
  if (error_) std::rethrow_exception(error_);
  outcome_.received = received_;
  std::stable_sort(outcome_.rejected.begin(), outcome_.rejected.end(),
                   [](const Rejection& a, const Rejection& b) { return a.row < b.row; });
  return std::move(outcome_);
}

ChangeOutcome LibraryStore::update_reader_names(int64_t reader_id, const std::string& first_name,
                                                const std::string& last_name) {
  if (first_name.empty() || last_name.empty()) {
    return {false, fmt::format("reader {} not updated: first and last name must not be empty", reader_id)};
  }
  const PgResult r = db_.exec(
      "UPDATE library.readers SET first_name = $2, last_name = $3 "
      "WHERE id = $1 AND deleted_at IS NULL RETURNING id",
      {std::to_string(reader_id), first_name, last_name});
  if (r.rows() == 1) return {true, fmt::format("reader {} renamed to {} {}", reader_id, first_name, last_name)};
  return {false, fmt::format("reader {} not updated: it does not exist or is deleted", reader_id)};
}

ChangeOutcome LibraryStore::soft_delete_book(int64_t book_id) {
  const PgResult r = db_.exec(
      "WITH target AS (SELECT id, deleted_at FROM library.books WHERE id = $1), "
      "done AS (UPDATE library.books b SET deleted_at = now() FROM target t "
      "         WHERE b.id = t.id AND t.deleted_at IS NULL RETURNING b.id) "
      "SELECT (SELECT count(*) FROM target), (SELECT count(*) FROM done)",
      {std::to_string(book_id)});
  if (r.integer(0, 1) == 1) return {true, fmt::format("book {} deleted (soft)", book_id)};
  if (r.integer(0, 0) == 0) return {false, fmt::format("book {} does not exist: nothing deleted", book_id)};
  return {false, fmt::format("book {} was already deleted: nothing changed", book_id)};
}

}  // namespace datalab::library
