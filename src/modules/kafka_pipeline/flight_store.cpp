#include "modules/kafka_pipeline/flight_store.h"

#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"
#include "modules/kafka_pipeline/kafka_pipeline_sql.h"
#include "storage/postgres/postgres_copy_writer.h"
#include "storage/postgres/copy_binary_encoder.h"
#include "storage/postgres/postgres_copy_stream.h"

namespace datalab::kafka_pipeline {

namespace {

constexpr int64_t kGenerateBatchRows = 65'536;
constexpr const char* kUniqueViolation = "23505";
constexpr int kMergeBatchesAfterConflict = 5;

std::string trim(std::string text) {
  const auto begin = text.find_first_not_of(" \t\r\"");
  const auto end = text.find_last_not_of(" \t\r\"");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

}  // namespace

FlightStore::FlightStore(PgConnection& db) : db_(db) {
  // Times travel as UTC text; zone-less CSV times are read as UTC.
  db_.exec("SET TimeZone = 'UTC'");
}

void FlightStore::create_tables() { db_.run_script(sql::create_tables, "create_tables.sql"); }

int64_t FlightStore::count(const std::string& table) {
  if (table != "flights" && table != "flights_upload") throw Error("unknown kafka_pipeline table " + table);
  return db_.exec(fmt::format("SELECT count(*) FROM kafka_pipeline.{}", table)).integer(0, 0);
}

int64_t FlightStore::load_generated(const FlightGenerator& generator, int64_t flights) {
  return db_.transaction([&] {
    db_.exec("TRUNCATE kafka_pipeline.flights");
    // FREEZE is allowed: the table was truncated in this transaction.
    PostgresCopyWriter writer(db_, "kafka_pipeline", "flights", FlightGenerator::schema(), /*freeze=*/true);
    for (int64_t first = 0; first < flights; first += kGenerateBatchRows) {
      writer.write(*generator.batch(first, std::min(kGenerateBatchRows, flights - first)));
    }
    return static_cast<int64_t>(writer.finish());
  });
}

int64_t FlightStore::load_csv(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw ConfigError(fmt::format("cannot read flights CSV {}", path));
  std::string header;
  std::getline(file, header);
  std::set<std::string> known;
  for (const auto& column : kFlightColumns) known.emplace(column.name);
  std::vector<std::string> columns;
  std::stringstream fields(header);
  for (std::string field; std::getline(fields, field, ',');) {
    field = trim(field);
    if (!known.count(field)) throw ConfigError(fmt::format("{}: unknown flights column '{}' in the header", path, field));
    columns.push_back(quote_identifier(field));
  }
  if (columns.empty()) throw ConfigError(fmt::format("{}: no header line", path));
  return db_.transaction([&] {
    db_.exec("TRUNCATE kafka_pipeline.flights");
    PostgresCopyStream copy(db_, fmt::format("COPY kafka_pipeline.flights ({}) FROM STDIN WITH (FORMAT csv, FREEZE)",
                                           fmt::join(columns, ", ")));
    std::string chunk(1 << 20, '\0');
    while (file) {
      file.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      copy.write(std::string_view(chunk.data(), static_cast<std::size_t>(file.gcount())));
    }
    return static_cast<int64_t>(copy.finish());
  });
}

void FlightStore::truncate_upload() { db_.exec("TRUNCATE kafka_pipeline.flights_upload"); }

void FlightStore::stream_flights(int64_t after_id, int fetch_rows,
                                 const std::function<bool(const PgResult&)>& on_rows) {
  db_.transaction([&] {
    db_.exec("SET TRANSACTION READ ONLY");
    db_.exec(sql::declare_flights_cursor, {std::to_string(after_id)});
    const std::string fetch = fmt::format("FETCH FORWARD {} FROM flights_cursor", fetch_rows);
    for (;;) {
      const PgResult rows = db_.exec(fetch);
      if (rows.rows() == 0 || !on_rows(rows)) break;
    }
    db_.exec("CLOSE flights_cursor");
  });
}

UploadSink::UploadSink(PgConnection& db) : db_(db) {
  db_.exec("SET TimeZone = 'UTC'");
  db_.exec(sql::create_upload_batch);
}

int64_t UploadSink::write(const std::vector<UploadRow>& rows) {
  if (rows.empty()) return 0;
  // Binary COPY: the server stores the values as sent instead of parsing zoned timestamps.
  buffer_.clear();
  CopyBinaryEncoder::append_header(buffer_);
  for (const auto& row : rows) append_upload_copy_row(buffer_, row);
  CopyBinaryEncoder::append_trailer(buffer_);
  return db_.transaction([&]() -> int64_t {
    if (merge_batches_left_ == 0) {
      db_.exec("SAVEPOINT direct_copy");
      PostgresCopyStream copy(db_, "COPY kafka_pipeline.flights_upload FROM STDIN WITH (FORMAT binary)");
      copy.write(buffer_);
      try {
        const long long inserted = copy.finish();
        db_.exec("RELEASE SAVEPOINT direct_copy");
        return inserted;
      } catch (const ServiceError&) {
        if (copy.sqlstate() != kUniqueViolation) throw;
      }
      db_.exec("ROLLBACK TO SAVEPOINT direct_copy");
      merge_batches_left_ = kMergeBatchesAfterConflict;
    } else {
      --merge_batches_left_;
    }
    PostgresCopyStream copy(db_, "COPY flights_upload_batch FROM STDIN WITH (FORMAT binary)");
    copy.write(buffer_);
    copy.finish();
    return db_.exec(sql::merge_upload_batch).affected();
  });
}

}  // namespace datalab::kafka_pipeline
