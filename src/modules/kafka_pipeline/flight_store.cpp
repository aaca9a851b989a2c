#include "modules/kafka_pipeline/flight_store.h"

#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"
#include "modules/kafka_pipeline/kafka_pipeline_sql.h"
#include "storage/postgres/copy_in.h"
#include "storage/postgres/staging_table.h"

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
    CopyIn writer(db_, "kafka_pipeline", "flights", FlightGenerator::schema(), /*freeze=*/true);
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
    columns.push_back(field);
  }
  if (columns.empty()) throw ConfigError(fmt::format("{}: no header line", path));
  return db_.transaction([&] {
    db_.exec("TRUNCATE kafka_pipeline.flights");
    CopyIn copy(db_, "kafka_pipeline", "flights", columns, {CopyFormat::csv, /*freeze=*/true});
    std::string chunk(1 << 20, '\0');
    while (file) {
      file.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      copy.write_rows(std::string_view(chunk.data(), static_cast<std::size_t>(file.gcount())));
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
  static const std::vector<std::string> upload_columns(kUploadColumns.begin(), kUploadColumns.end());
  // Binary COPY: the server stores the values as sent instead of parsing zoned timestamps.
  buffer_.clear();
  for (const auto& row : rows) append_upload_copy_row(buffer_, row);
  return db_.transaction([&]() -> int64_t {
    if (merge_batches_left_ == 0) {
      db_.exec("SAVEPOINT direct_copy");
      CopyIn copy(db_, "kafka_pipeline", "flights_upload", upload_columns, {CopyFormat::binary});
      copy.write_rows(buffer_);
      try {
        const long long inserted = copy.finish();
        db_.exec("RELEASE SAVEPOINT direct_copy");
        return inserted;
      } catch (const PostgresError& e) {
        if (e.sqlstate() != kUniqueViolation) throw;
      }
      db_.exec("ROLLBACK TO SAVEPOINT direct_copy");
      merge_batches_left_ = kMergeBatchesAfterConflict;
    } else {
      --merge_batches_left_;
    }
    StagingTable stage(db_, "flights_upload_batch");
    CopyIn copy = stage.copy(upload_columns, CopyFormat::binary);
    copy.write_rows(buffer_);
    copy.finish();
    // A redelivered message (consumer killed after the database commit, before the offset
    // commit) finds its flight_id already there and is skipped: no duplicates.
    return stage.merge_into("kafka_pipeline", "flights_upload", upload_columns, {"flight_id"}, false);
  });
}

namespace {

template <typename T, typename Fn>
std::string array_of(const std::vector<T>& items, Fn&& field) {
  std::vector<std::optional<std::string>> values;
  values.reserve(items.size());
  for (const auto& item : items) values.emplace_back(field(item));
  return to_pg_array(values);
}

std::vector<int64_t> parse_bigint_array(std::string_view text) {  // "{1,2,3}"
  std::vector<int64_t> out;
  std::string number;
  for (const char c : text) {
    if ((c >= '0' && c <= '9') || c == '-') {
      number += c;
    } else if (!number.empty()) {
      out.push_back(std::stoll(number));
      number.clear();
    }
  }
  return out;
}

}  // namespace

void lower_search_start(std::vector<int64_t>& from, const std::vector<int64_t>& offsets) {
  if (from.size() < offsets.size()) from.resize(offsets.size(), std::numeric_limits<int64_t>::max());
  for (std::size_t p = 0; p < offsets.size(); ++p) from[p] = std::min(from[p], offsets[p]);
}

DeadLetterLedger::DeadLetterLedger(PgConnection& db) : db_(db) {}

std::map<DeadLetterLedger::Place, DeadLetterLedger::Entry> DeadLetterLedger::find(const std::string& topic,
                                                                                    const std::vector<Place>& places) {
  std::map<Place, Entry> found;
  if (places.empty()) return found;
  const auto rows = db_.exec(
      "SELECT d.source_partition, d.source_offset, d.source_timestamp_ms, d.value_sha256, d.dlq_offset IS NOT NULL, "
      "d.dlq_search_from::text "
      "FROM kafka_pipeline.dead_letters d "
      "JOIN unnest($2::int[], $3::bigint[]) AS p(source_partition, source_offset) "
      "USING (source_partition, source_offset) WHERE d.topic = $1",
      {topic, array_of(places, [](const Place& p) { return std::to_string(p.partition); }),
       array_of(places, [](const Place& p) { return std::to_string(p.offset); })});
  for (int r = 0; r < rows.rows(); ++r) {
    found[{static_cast<int32_t>(rows.integer(r, 0)), rows.integer(r, 1)}] = {
        rows.integer(r, 2), std::string(rows.value(r, 3)), rows.value(r, 4) == "t", parse_bigint_array(rows.value(r, 5))};
  }
  return found;
}

void DeadLetterLedger::record_intent(const std::string& topic, const std::string& dlq_topic,
                                     const std::vector<int64_t>& search_from, const std::vector<Intent>& intents) {
  if (intents.empty()) return;
  std::vector<std::optional<std::string>> from;
  for (const int64_t offset : search_from) from.emplace_back(std::to_string(offset));
  db_.exec(
      "INSERT INTO kafka_pipeline.dead_letters (topic, source_partition, source_offset, source_timestamp_ms, "
      "value_sha256, value_bytes, "
      "value_truncated, reason, dlq_topic, dlq_search_from) "
      "SELECT $1, p, o, ts, sha, bytes, truncated, reason, $2, $3::bigint[] "
      "FROM unnest($4::int[], $5::bigint[], $10::bigint[], $6::text[], $7::bigint[], $8::bool[], $9::text[]) "
      "AS i(p, o, ts, sha, bytes, truncated, reason) "
      "ON CONFLICT (topic, source_partition, source_offset) DO UPDATE SET "
      "source_timestamp_ms = EXCLUDED.source_timestamp_ms, value_sha256 = EXCLUDED.value_sha256, "
      "value_bytes = EXCLUDED.value_bytes, value_truncated = EXCLUDED.value_truncated, reason = EXCLUDED.reason, "
      "dlq_topic = EXCLUDED.dlq_topic, dlq_search_from = EXCLUDED.dlq_search_from, dlq_partition = NULL, "
      "dlq_offset = NULL, recorded_at = now()",
      {topic, dlq_topic, to_pg_array(from),
       array_of(intents, [](const Intent& i) { return std::to_string(i.place.partition); }),
       array_of(intents, [](const Intent& i) { return std::to_string(i.place.offset); }),
       array_of(intents, [](const Intent& i) { return i.value_sha256; }),
       array_of(intents, [](const Intent& i) { return std::to_string(i.value_bytes); }),
       array_of(intents, [](const Intent& i) { return std::string(i.value_truncated ? "t" : "f"); }),
       array_of(intents, [](const Intent& i) { return i.reason; }),
       array_of(intents, [](const Intent& i) { return std::to_string(i.source_timestamp_ms); })});
}

void DeadLetterLedger::record_delivered(const std::string& topic, const std::vector<Delivered>& delivered) {
  if (delivered.empty()) return;
  db_.exec(
      "UPDATE kafka_pipeline.dead_letters d SET dlq_partition = u.dlq_p, dlq_offset = u.dlq_o, "
      "value_truncated = u.truncated "
      "FROM unnest($2::int[], $3::bigint[], $4::int[], $5::bigint[], $6::bool[]) AS u(p, o, dlq_p, dlq_o, truncated) "
      "WHERE d.topic = $1 AND d.source_partition = u.p AND d.source_offset = u.o",
      {topic, array_of(delivered, [](const Delivered& d) { return std::to_string(d.place.partition); }),
       array_of(delivered, [](const Delivered& d) { return std::to_string(d.place.offset); }),
       array_of(delivered, [](const Delivered& d) { return std::to_string(d.dlq_partition); }),
       array_of(delivered, [](const Delivered& d) { return std::to_string(d.dlq_offset); }),
       array_of(delivered, [](const Delivered& d) { return std::string(d.value_truncated ? "t" : "f"); })});
}

ReplayLedger::ReplayLedger(PgConnection& db) : db_(db) {}

std::map<ReplayLedger::Place, ReplayLedger::Entry> ReplayLedger::find(const std::string& dlq_topic,
                                                                      const std::vector<Place>& letters) {
  std::map<Place, Entry> found;
  if (letters.empty()) return found;
  const auto rows = db_.exec(
      "SELECT r.dlq_partition, r.dlq_offset, r.dlq_timestamp_ms, r.target_offset IS NOT NULL, r.target_topic, "
      "r.target_search_from::text FROM kafka_pipeline.dead_letter_replays r "
      "JOIN unnest($2::int[], $3::bigint[]) AS l(dlq_partition, dlq_offset) USING (dlq_partition, dlq_offset) "
      "WHERE r.dlq_topic = $1",
      {dlq_topic, array_of(letters, [](const Place& p) { return std::to_string(p.partition); }),
       array_of(letters, [](const Place& p) { return std::to_string(p.offset); })});
  for (int r = 0; r < rows.rows(); ++r) {
    found[{static_cast<int32_t>(rows.integer(r, 0)), rows.integer(r, 1)}] = {
        rows.integer(r, 2), rows.value(r, 3) == "t", std::string(rows.value(r, 4)), parse_bigint_array(rows.value(r, 5))};
  }
  return found;
}

void ReplayLedger::record_intent(const std::string& dlq_topic, const std::string& target_topic,
                                 const std::vector<int64_t>& search_from, const std::vector<Intent>& intents) {
  if (intents.empty()) return;
  std::vector<std::optional<std::string>> from;
  for (const int64_t offset : search_from) from.emplace_back(std::to_string(offset));
  db_.exec(
      "INSERT INTO kafka_pipeline.dead_letter_replays (dlq_topic, dlq_partition, dlq_offset, dlq_timestamp_ms, "
      "target_topic, target_search_from, attempt) "
      "SELECT $1, p, o, ts, $2, $3::bigint[], attempt FROM unnest($4::int[], $5::bigint[], $6::bigint[], $7::int[]) "
      "AS i(p, o, ts, attempt) "
      "ON CONFLICT (dlq_topic, dlq_partition, dlq_offset) DO UPDATE SET "
      "dlq_timestamp_ms = EXCLUDED.dlq_timestamp_ms, target_topic = EXCLUDED.target_topic, "
      "target_search_from = EXCLUDED.target_search_from, target_partition = NULL, target_offset = NULL, "
      "attempt = EXCLUDED.attempt, replayed_at = now()",
      {dlq_topic, target_topic, to_pg_array(from),
       array_of(intents, [](const Intent& i) { return std::to_string(i.letter.partition); }),
       array_of(intents, [](const Intent& i) { return std::to_string(i.letter.offset); }),
       array_of(intents, [](const Intent& i) { return std::to_string(i.letter_timestamp_ms); }),
       array_of(intents, [](const Intent& i) { return std::to_string(i.attempt); })});
}

void ReplayLedger::record_delivered(const std::string& dlq_topic, const std::vector<Delivered>& delivered) {
  if (delivered.empty()) return;
  db_.exec(
      "UPDATE kafka_pipeline.dead_letter_replays r SET target_partition = u.tp, target_offset = u.t_o "
      "FROM unnest($2::int[], $3::bigint[], $4::int[], $5::bigint[]) AS u(p, o, tp, t_o) "
      "WHERE r.dlq_topic = $1 AND r.dlq_partition = u.p AND r.dlq_offset = u.o",
      {dlq_topic, array_of(delivered, [](const Delivered& d) { return std::to_string(d.letter.partition); }),
       array_of(delivered, [](const Delivered& d) { return std::to_string(d.letter.offset); }),
       array_of(delivered, [](const Delivered& d) { return std::to_string(d.partition); }),
       array_of(delivered, [](const Delivered& d) { return std::to_string(d.offset); })});
}

}  // namespace datalab::kafka_pipeline
