#include "modules/partition/partition_loader.h"

#include <chrono>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/stopwatch.h"
#include "core/dates.h"
#include "core/progress.h"
#include "modules/partition/partition_layout.h"
#include "modules/partition/partition_sql.h"
#include "storage/postgres/copy_in.h"

namespace datalab::partition {

namespace {

std::string qualified(const std::string& table) { return quote_identifier(kSchema) + "." + quote_identifier(table); }

std::set<std::string> existing_partitions(PgConnection& db) {
  const PgResult r = db.exec(
      "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
      "WHERE i.inhparent = to_regclass($1)",
      {qualified(kTable)});
  std::set<std::string> names;
  for (int row = 0; row < r.rows(); ++row) names.emplace(r.value(row, 0));
  return names;
}

}  // namespace

std::vector<std::string> create_missing_year_partitions(PgConnection& db, int first_year, int last_year) {
  const auto existing = existing_partitions(db);
  const std::string parent = qualified(kTable), fallback = qualified(kDefaultPartition);
  const bool has_default = existing.count(kDefaultPartition) > 0;
  std::vector<std::string> created;
  for (int year = first_year; year <= last_year; ++year) {
    const YearPartition p = year_partition(year);
    if (existing.count(p.name)) continue;
    const long long stranded =
        has_default ? db.exec(fmt::format("SELECT count(*) FROM {} WHERE load_date >= $1::date AND load_date < $2::date",
                                          fallback),
                              {p.from, p.to})
                          .integer(0, 0)
                    : 0;
    if (stranded == 0) {
      db.exec(p.create_sql());
    } else {
      // Detach the default partition, create the year, re-route its rows, attach again.
      db.exec(fmt::format("ALTER TABLE {} DETACH PARTITION {}", parent, fallback));
      db.exec(p.create_sql());
      db.exec(fmt::format("INSERT INTO {} SELECT * FROM {} WHERE load_date >= $1::date AND load_date < $2::date",
                          p.qualified_name(), fallback),
              {p.from, p.to});
      db.exec(fmt::format("DELETE FROM {} WHERE load_date >= $1::date AND load_date < $2::date", fallback),
              {p.from, p.to});
      db.exec(fmt::format("ALTER TABLE {} ATTACH PARTITION {} DEFAULT", parent, fallback));
    }
    created.push_back(p.name);
  }
  return created;
}

PartitionLoadStats recreate_and_load(PgConnection& db, const OrderSpreadGenerator& generator,
                                     const PartitionLoadOptions& options) {
  PartitionLoadStats stats;
  db.transaction([&] {
    db.run_script(sql::create_tables, "create_tables.sql");
    auto start = std::chrono::steady_clock::now();
    stats.created_partitions = create_missing_year_partitions(db, generator.first_year(), generator.last_year());
    stats.partitions_seconds = seconds_since(start);

    start = std::chrono::steady_clock::now();
    std::optional<ProgressBar> progress;
    if (options.show_progress && generator.total_rows() > 0) {
      progress.emplace("orders", static_cast<uint64_t>(generator.total_rows()));
    }
    std::vector<std::pair<YearPartition, long long>> loaded;
    for (int year = generator.first_year(); year <= generator.last_year(); ++year) {
      const YearPartition p = year_partition(year);
      const auto slices = generator.rows_between(days_from_civil(year, 1, 1), days_from_civil(year + 1, 1, 1));
      if (slices.empty()) continue;
      // Straight into the year's partition: no routing per row, and FREEZE is allowed
      // because the partition was created in this transaction (it is not on the parent).
      CopyIn writer(db, kSchema, p.name, OrderSpreadGenerator::schema(), /*freeze=*/true);
      for (const auto& slice : slices) {
        for (int64_t begin = slice.begin; begin < slice.end; begin += options.batch_rows) {
          const int64_t count = std::min(options.batch_rows, slice.end - begin);
          writer.write(*generator.orders(slice.spread, begin, count));
          if (progress) progress->advance(static_cast<uint64_t>(count));
        }
      }
      loaded.emplace_back(p, writer.finish());
      stats.rows += loaded.back().second;
    }
    if (progress) progress->finish();
    stats.copy_seconds = seconds_since(start);

    start = std::chrono::steady_clock::now();
    for (const auto& [p, rows] : loaded) {
      if (rows < options.index_min_rows) continue;
      db.exec(fmt::format("CREATE INDEX {} ON {} (load_date)", quote_identifier(p.name + "_load_date_idx"),
                          p.qualified_name()));
      stats.indexed_partitions.push_back(p.name);
    }
    stats.index_seconds = seconds_since(start);

    // Statistics now, so the plans shown next are the ones a settled database would use.
    start = std::chrono::steady_clock::now();
    db.exec("ANALYZE " + qualified(kTable));
    stats.analyze_seconds = seconds_since(start);
  });
  return stats;
}

}  // namespace datalab::partition
