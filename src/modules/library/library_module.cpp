#include "modules/library/library_module.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/dates.h"
#include "core/error.h"
#include "core/progress.h"
#include "formats/records.h"
#include "modules/library/library_loader.h"
#include "modules/library/library_sql.h"
#include "modules/library/library_store.h"
#include "storage/postgres/advisory_lock.h"

namespace datalab::library {

namespace {

struct NamedQuery {
  const char* name;
  const char* title;
  std::string_view sql;
  bool paged;  // takes (after id, limit) instead of (limit)
};

const std::vector<NamedQuery>& named_queries() {
  static const std::vector<NamedQuery> queries = {
      {"books", "Books with their authors (page by id)", sql::books_with_authors, true},
      {"loans", "Loans, return date = due date + 7 days when not returned (COALESCE)", sql::loans_with_return_dates, false},
      {"people", "First authors and readers as one list (UNION)", sql::authors_and_readers, false},
      {"top-books", "Top 3 most-loaned books per publication year (materialized view, recursive CTE, LATERAL)",
       sql::top_books_per_year, false},
      {"loan-numbers", "Loans numbered per book (window function)", sql::loans_numbered_per_book, false},
  };
  return queries;
}

const NamedQuery& find_query(const std::string& name) {
  std::string known;
  for (const auto& q : named_queries()) {
    if (q.name == name) return q;
    known += (known.empty() ? "" : ", ") + std::string(q.name);
  }
  throw ConfigError(fmt::format("unknown query '{}' (known: {})", name, known));
}

ResultTable run_query(PgConnection& db, const NamedQuery& q, int64_t after, int64_t limit) {
  if (q.paged) return db.exec(q.sql, {std::to_string(after), std::to_string(limit)}).to_table();
  return db.exec(q.sql, {std::to_string(limit)}).to_table();
}

void refresh_loan_counts(PgConnection& db) {
  db.exec("REFRESH MATERIALIZED VIEW CONCURRENTLY library.book_loan_counts");
}

// Ids as ranges ("11-20, 25"), at most `limit` of them: a large input lists no million ids.
std::string id_ranges(const std::vector<int64_t>& ids, std::size_t limit = 20) {
  std::vector<int64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  std::size_t shown = 0, i = 0;
  while (i < sorted.size()) {
    std::size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (shown == limit) {
      out += ", ...";
      break;
    }
    out += (out.empty() ? "" : ", ") +
           (j == i ? std::to_string(sorted[i]) : fmt::format("{}-{}", sorted[i], sorted[j]));
    ++shown;
    i = j + 1;
  }
  return out;
}

void report_batch(Report& report, const BatchOutcome& outcome) {
  report.note(fmt::format("add {}: {} received, {} inserted{}, {} rejected", outcome.table, outcome.received,
                          outcome.inserted_ids.size(),
                          outcome.inserted_ids.empty() ? "" : " (ids " + id_ranges(outcome.inserted_ids) + ")",
                          outcome.rejected.size()));
  for (const auto& warning : outcome.warnings) report.note("  warning: " + warning);
  if (!outcome.rejected.empty()) report.table("rejected " + outcome.table, outcome.rejected_table());
}

std::vector<RawRecord> records(std::initializer_list<RawRecord> list) { return list; }

// The validated writes, on a small batch per table with good rows and each kind of bad one.
void run_demo(PgConnection& db, Report& report, int32_t today) {
  LibraryStore store(db, today);
  auto authors = store.add_authors(records({
      {{"first_name", "Ursula"}, {"last_name", "Le Guin"}, {"birth_date", "1929-10-21"}, {"nickname", "UKL"}},
      {{"first_name", "Robert'); DROP TABLE library.books; --"}, {"last_name", "Tables"}, {"birth_date", "1970-01-01"}},
      {{"first_name", "Ursula"}, {"last_name", "Le Guin"}, {"birth_date", "1929-10-21"}},
      {{"first_name", "Nobody"}, {"last_name", "Known"}, {"birth_date", "1929-02-30"}},
      {{"first_name", "Half"}, {"birth_date", "1950-01-01"}},
      {{"first_name", " "}, {"last_name", "Blank"}, {"birth_date", "1950-01-01"}},
  }));
  report_batch(report, authors);
  // The demo only ever touches rows it created itself: without its own author, reader and
  // books (they would already exist only if another run were writing the same schema),
  // the writes that need them are skipped rather than aimed at someone else's rows.
  if (authors.inserted_ids.empty()) {
    report.note("demo: its author was not inserted, so the book, reader and loan demonstrations are skipped");
    return;
  }
  const std::string author_id = std::to_string(authors.inserted_ids.front());

  auto readers = store.add_readers(records({
      {{"first_name", "Ada"}, {"last_name", "Reader"}, {"email", "ada.reader@example.com"}, {"registration_date", "2024-03-01"}},
      {{"first_name", "Bad"}, {"last_name", "Mail"}, {"email", "not-an-email"}, {"registration_date", "2024-03-01"}},
      {{"first_name", "Ada"}, {"last_name", "Again"}, {"email", "ada.reader@example.com"}, {"registration_date", "2024-03-02"}},
      {{"first_name", "Time"}, {"last_name", "Traveller"}, {"email", "tt@example.com"}, {"registration_date", "2999-01-01"}},
  }));
  report_batch(report, readers);
  if (readers.inserted_ids.empty()) {
    report.note("demo: its reader was not inserted, so the book and loan demonstrations are skipped");
    return;
  }
  const std::string reader_id = std::to_string(readers.inserted_ids.front());

  auto books = store.add_books(records({
      {{"title", "The Dispossessed"}, {"author_id", author_id}, {"isbn", "ISBN-DEMO-1"}, {"publication_year", "1974"},
       {"genre", "Science Fiction"}, {"copies_available", "2"}, {"total_copies", "3"}},
      {{"title", "A Wizard of Earthsea"}, {"author_id", author_id}, {"isbn", "ISBN-DEMO-2"}, {"publication_year", "1968"},
       {"genre", "Fantasy"}, {"copies_available", "1"}, {"total_copies", "1"}},
      {{"title", "Tomorrow's Book"}, {"author_id", author_id}, {"isbn", "ISBN-DEMO-3"}, {"publication_year", "2999"},
       {"genre", "Fiction"}, {"copies_available", "1"}, {"total_copies", "1"}},
      {{"title", "Too Many Copies"}, {"author_id", author_id}, {"isbn", "ISBN-DEMO-4"}, {"publication_year", "2001"},
       {"genre", "Fiction"}, {"copies_available", "5"}, {"total_copies", "3"}},
      {{"title", "Orphan"}, {"author_id", "999999999"}, {"isbn", "ISBN-DEMO-5"}, {"publication_year", "2001"},
       {"genre", "Fiction"}, {"copies_available", "1"}, {"total_copies", "1"}},
      {{"title", "Same ISBN"}, {"author_id", author_id}, {"isbn", "ISBN-DEMO-1"}, {"publication_year", "2002"},
       {"genre", "Fiction"}, {"copies_available", "1"}, {"total_copies", "1"}},
  }));
  report_batch(report, books);
  if (books.inserted_ids.size() < 2) {
    report.note("demo: its two books were not inserted, so the delete and loan demonstrations are skipped");
    return;
  }
  const std::string book_id = std::to_string(books.inserted_ids[0]);
  const std::string other_book = std::to_string(books.inserted_ids[1]);

  report.note(store.update_reader_names(std::stoll(reader_id), "Ada", "Lovelace").message);
  report.note(store.update_reader_names(999999999, "No", "One").message);
  report.note(store.soft_delete_book(std::stoll(other_book)).message);
  report.note(store.soft_delete_book(999999999).message);

  auto loans = store.add_loans(records({
      {{"book_id", book_id}, {"reader_id", reader_id}, {"loan_date", "2025-01-10"}, {"due_date", "2025-02-10"}},
      {{"book_id", book_id}, {"reader_id", "1"}, {"loan_date", "2025-01-10"}, {"due_date", "2025-01-01"}},
      {{"book_id", other_book}, {"reader_id", reader_id}, {"loan_date", "2025-01-10"}, {"due_date", "2025-02-10"}},
      {{"book_id", book_id}, {"reader_id", "999999999"}, {"loan_date", "2025-01-10"}, {"due_date", "2025-02-10"}},
      {{"book_id", book_id}, {"reader_id", reader_id}, {"loan_date", "2025-03-01"}, {"due_date", "2025-03-20"},
       {"return_date", "2025-03-15"}},
  }));
  report_batch(report, loans);
}

void report_counts(PgConnection& db, Report& report) {
  const PgResult r = db.exec(
      "SELECT t.name, t.live, t.deleted FROM ("
      " SELECT 'authors' AS name, count(*) FILTER (WHERE deleted_at IS NULL) AS live, count(deleted_at) AS deleted, 1 AS o FROM library.authors"
      " UNION ALL SELECT 'books', count(*) FILTER (WHERE deleted_at IS NULL), count(deleted_at), 2 FROM library.books"
      " UNION ALL SELECT 'readers', count(*) FILTER (WHERE deleted_at IS NULL), count(deleted_at), 3 FROM library.readers"
      " UNION ALL SELECT 'loans', count(*) FILTER (WHERE deleted_at IS NULL), count(deleted_at), 4 FROM library.loans"
      ") t ORDER BY t.o");
  report.table("library tables", r.to_table());
}

int32_t parse_as_of(const std::string& text) {
  const auto date = parse_iso_date(text);
  if (!date) throw ConfigError(fmt::format("--as-of '{}' is not a date (expected YYYY-MM-DD)", text));
  return *date;
}

// An id flag, strictly: digits only, 1 to 2^63-1 (CLI11 would clamp a larger number).
int64_t parse_id(const std::string& flag, const std::string& text) {
  int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc::result_out_of_range) {
    throw ConfigError(fmt::format("{} {} is out of range (ids are 1 to 9223372036854775807)", flag, text));
  }
  if (ec != std::errc() || ptr != end || text.empty()) {
    throw ConfigError(fmt::format("{} '{}' is not an integer", flag, text));
  }
  if (value <= 0) throw ConfigError(fmt::format("{} {} is not a valid id (ids are 1 to 9223372036854775807)", flag, value));
  return value;
}

// Runs of the module on one database are serialised: each holds this session-level
// advisory lock from before it recreates the schema until it has finished, so a second
// run waits for the first instead of writing into the schema the first is filling.
constexpr const char* kRunLockKey = "datalab run library";

}  // namespace

void LibraryModule::add_run_flags(CLI::App& command) {
  command.add_option("--authors", options_.sizes.authors, "authors to generate")->capture_default_str();
  command.add_option("--books", options_.sizes.books, "books to generate")->capture_default_str();
  command.add_option("--readers", options_.sizes.readers, "readers to generate")->capture_default_str();
  command.add_option("--loans", options_.sizes.loans, "loans to generate")->capture_default_str();
  command.add_option("--seed", options_.seed, "random seed: the same seed gives the same data")->capture_default_str();
  command.add_option("--as-of", options_.as_of, "date that generated loans and registrations lead up to")
      ->capture_default_str();
  command.add_flag("!--no-demo", options_.demo, "skip the validated-write and query demonstrations");
}

void LibraryModule::run(AppContext& context) {
  Report report(context.format);
  const LibraryGenerator generator(options_.sizes, options_.seed, parse_as_of(options_.as_of));
  PgConnection db(PostgresSettings::from(context.config));
  const AdvisoryLock run_lock(db, kRunLockKey, [&] {
    report.note("library: another `datalab run library` is running on this database; waiting for it to finish");
  });
  report.note(fmt::format("library: loading into PostgreSQL {} (seed {})", db.settings().describe(), options_.seed));

  const auto stats = recreate_and_load(db, generator, LoadOptions{});
  ResultTable load{{"table", "rows", "seconds", "rows/s"},
                   {ValueKind::Text, ValueKind::Number, ValueKind::Number, ValueKind::Number}, {}};
  for (const auto& s : stats) {
    load.add_row({s.table, std::to_string(s.rows), fmt::format("{:.3f}", s.seconds),
                  s.rows && s.seconds > 0 ? std::to_string(static_cast<int64_t>(s.rows / s.seconds)) : "-"});
  }
  report.table("generated and loaded (COPY binary)", load);

  if (options_.demo) {
    run_demo(db, report, today_utc());
    refresh_loan_counts(db);
    for (const auto& q : named_queries()) report.table(q.title, run_query(db, q, 0, q.paged ? 10 : 5));
  }
  report_counts(db, report);
  report.finish();
}

void LibraryModule::add_commands(CLI::App& root, AppContext& context) {
  auto* lib = root.add_subcommand("library", "validated writes and queries on the library tables");
  lib->require_subcommand(1);

  auto* add = lib->add_subcommand("add", "add authors, readers, books or loans from a CSV/JSON file or JSON text");
  add->add_option("table", add_table_, "authors | readers | books | loans")->required();
  auto* file = add->add_option("--file", add_file_, "CSV with a header line, or JSON (array of objects)");
  add->add_option("--json", add_rows_, "JSON object or array of objects (repeatable)")->excludes(file);
  add->callback([this, &context] {
    if (add_file_.empty() && add_rows_.empty()) throw ConfigError("nothing to add: give --file or --json");
    std::vector<RawRecord> json_rows;
    for (const auto& text : add_rows_) {
      auto more = parse_json_records(text, "--json");
      json_rows.insert(json_rows.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    if (add_file_.empty() && json_rows.empty()) throw Error("nothing to add: --json holds no rows");
    PgConnection db(PostgresSettings::from(context.config));
    LibraryStore store(db, today_utc());
    Report report(context.format);
    // The whole input is one transaction, read and inserted batch by batch.
    const auto outcome = db.transaction([&] {
      BatchAdder adder(store, add_table_);
      if (!add_file_.empty()) {
        RecordReadOptions read_options;
        read_options.max_field_bytes = kMaxFieldBytes;
        const auto read = stream_records_file(
            add_file_, [&](TextRecord&& row) { adder.push(std::move(row)); }, read_options);
        if (read.empty) throw Error(fmt::format("'{}' is empty: nothing to add", add_file_));
        if (read.header_only) throw Error(fmt::format("'{}' has a header line but no rows: nothing to add", add_file_));
        if (read.records == 0) throw Error(fmt::format("'{}' holds no rows: nothing to add", add_file_));
      }
      for (auto& row : json_rows) adder.push(std::move(row));
      return adder.finish();
    });
    report_batch(report, outcome);
    report.finish();
    if (!outcome.rejected.empty()) {
      throw RejectedRows("some rows were rejected (see above)", static_cast<int64_t>(outcome.rejected.size()));
    }
  });

  auto* update = lib->add_subcommand("update-reader", "change a reader's first and last name");
  update->add_option("--id", id_text_, "reader id")->required();
  update->add_option("--first-name", first_name_)->required();
  update->add_option("--last-name", last_name_)->required();
  update->callback([this, &context] {
    const int64_t id = parse_id("--id", id_text_);
    PgConnection db(PostgresSettings::from(context.config));
    const auto outcome = LibraryStore(db, today_utc()).update_reader_names(id, first_name_, last_name_);
    Report report(context.format);
    report.summary("update-reader", {{"changed", outcome.changed ? "true" : "false"}, {"message", outcome.message}});
    report.finish();
    if (!outcome.changed) throw RejectedRows(outcome.message, 1);
  });

  auto* remove = lib->add_subcommand("delete-book", "soft-delete a book (sets deleted_at)");
  remove->add_option("--id", id_text_, "book id")->required();
  remove->callback([this, &context] {
    const int64_t id = parse_id("--id", id_text_);
    PgConnection db(PostgresSettings::from(context.config));
    const auto outcome = LibraryStore(db, today_utc()).soft_delete_book(id);
    Report report(context.format);
    report.summary("delete-book", {{"changed", outcome.changed ? "true" : "false"}, {"message", outcome.message}});
    report.finish();
    if (!outcome.changed) throw RejectedRows(outcome.message, 1);
  });

  auto* query = lib->add_subcommand("query", "run one of the showcase queries");
  query->add_option("name", query_name_, "books | loans | people | top-books | loan-numbers")->required();
  query->add_option("--after", after_, "books: last id of the previous page")->capture_default_str();
  query->add_option("--limit", limit_, "rows (people: per kind; top-books: years)")->capture_default_str();
  query->callback([this, &context] {
    const auto& q = find_query(query_name_);
    PgConnection db(PostgresSettings::from(context.config));
    if (q.sql == sql::top_books_per_year) refresh_loan_counts(db);
    Report report(context.format);
    report.table(q.title, run_query(db, q, after_, limit_));
    report.finish();
  });
}

std::unique_ptr<Module> make_module() { return std::make_unique<LibraryModule>(); }

}  // namespace datalab::library
