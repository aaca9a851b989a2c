#include "modules/library/library_loader.h"

#include <chrono>
#include <functional>
#include <future>

#include "core/stopwatch.h"
#include "core/progress.h"
#include "modules/library/library_sql.h"
#include "storage/postgres/copy_in.h"

namespace datalab::library {

namespace {

using BatchFn = std::function<std::shared_ptr<arrow::RecordBatch>(int64_t, int64_t)>;

LoadStats copy_table(PgConnection& db, const std::string& table, std::shared_ptr<arrow::Schema> schema,
                     int64_t total, const BatchFn& make_batch, const LoadOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  // FREEZE: the table was created in this transaction, so rows can be written frozen and
  // later reads skip the hint-bit rewrite of every page.
  CopyIn writer(db, "library", table, std::move(schema), /*freeze=*/true);
  std::optional<ProgressBar> progress;
  if (options.show_progress && total > 0) progress.emplace(table, static_cast<uint64_t>(total));
  // The next batch is generated on another core while this one is encoded and sent:
  // at most two batches are in memory at a time.
  auto generate = [&](int64_t begin) {
    return std::async(std::launch::async, make_batch, begin, std::min(options.batch_rows, total - begin));
  };
  std::future<std::shared_ptr<arrow::RecordBatch>> next;
  if (total > 0) next = generate(0);
  for (int64_t begin = 0; begin < total; begin += options.batch_rows) {
    const auto batch = next.get();
    if (begin + options.batch_rows < total) next = generate(begin + options.batch_rows);
    writer.write(*batch);
    if (progress) progress->advance(static_cast<uint64_t>(batch->num_rows()));
  }
  const long long rows = writer.finish();
  if (progress) progress->finish();
  return {table, rows, seconds_since(start)};
}

}  // namespace

std::vector<LoadStats> recreate_and_load(PgConnection& db, const LibraryGenerator& generator,
                                         const LoadOptions& options) {
  std::vector<LoadStats> stats;
  const auto& sizes = generator.sizes();
  db.transaction([&] {
    db.run_script(sql::create_tables, "create_tables.sql");
    stats.push_back(copy_table(db, "authors", LibraryGenerator::authors_schema(), sizes.authors,
                               [&](int64_t b, int64_t n) { return generator.authors(b, n); }, options));
    stats.push_back(copy_table(db, "books", LibraryGenerator::books_schema(), sizes.books,
                               [&](int64_t b, int64_t n) { return generator.books(b, n); }, options));
    stats.push_back(copy_table(db, "readers", LibraryGenerator::readers_schema(), sizes.readers,
                               [&](int64_t b, int64_t n) { return generator.readers(b, n); }, options));
    stats.push_back(copy_table(db, "loans", LibraryGenerator::loans_schema(), sizes.loans,
                               [&](int64_t b, int64_t n) { return generator.loans(b, n); }, options));
    const auto start = std::chrono::steady_clock::now();
    db.run_script(sql::add_constraints, "add_constraints.sql");
    stats.push_back({"keys and indexes", 0,
                     seconds_since(start)});
  });
  return stats;
}

}  // namespace datalab::library
