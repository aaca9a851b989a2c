#pragma once
// The PostgreSQL side of the pipeline: the tables, filling flights (generated or from a
// CSV file), streaming flights through a server-side cursor, and writing validated rows
// to flights_upload in one transaction per batch.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "datagen/flight_generator.h"
#include "modules/kafka_pipeline/flight_message.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab::kafka_pipeline {

class FlightStore {
 public:
  explicit FlightStore(PgConnection& db);

  void create_tables();
  int64_t count(const std::string& table);  // "flights" or "flights_upload"
  // Replaces the flights with generated ones (COPY binary); returns the rows stored.
  int64_t load_generated(const FlightGenerator& generator, int64_t flights);
  // Replaces the flights with a CSV file whose header names flights columns (the
  // original's flights.csv loads as it is); zone-less times are taken as UTC.
  int64_t load_csv(const std::string& path);
  void truncate_upload();

  // Calls on_rows with each FETCH of flights whose id > after_id (a server-side cursor in
  // one read-only transaction); on_rows returns false to stop early.
  void stream_flights(int64_t after_id, int fetch_rows, const std::function<bool(const PgResult&)>& on_rows);

 private:
  PgConnection& db_;
};

// Writes validated rows to flights_upload in one transaction per batch and returns the
// rows actually inserted. Fast path: COPY straight into the table. When a flight is already
// there (a redelivery after a crash), that COPY fails on the key; the batch then goes
// through a staging table and INSERT ... ON CONFLICT DO NOTHING, which skips those rows,
// and the next few batches take that path directly (redeliveries come in runs).
class UploadSink {
 public:
  explicit UploadSink(PgConnection& db);
  int64_t write(const std::vector<UploadRow>& rows);

 private:
  PgConnection& db_;
  std::string buffer_;
  int merge_batches_left_ = 0;
};

// Lowers `from` (offsets by partition, where a search of a topic starts) to `offsets` where
// they are lower: the start of a search that must find every one of several entries.
void lower_search_start(std::vector<int64_t>& from, const std::vector<int64_t>& offsets);

// kafka_pipeline.dead_letters (see create_tables.sql): which messages of a topic were
// dead-lettered, so none is dead-lettered twice.
class DeadLetterLedger {
 public:
  struct Place {
    int32_t partition = 0;
    int64_t offset = 0;
    auto operator<=>(const Place&) const = default;
  };
  struct Entry {
    int64_t source_timestamp_ms = -1;
    std::string value_sha256;
    bool delivered = false;             // dlq_partition/dlq_offset are known
    std::vector<int64_t> search_from;   // the dead-letter topic's high watermarks before it was sent
  };
  struct Intent {
    Place place;
    int64_t source_timestamp_ms = -1;
    std::string value_sha256;
    int64_t value_bytes = 0;
    bool value_truncated = false;
    std::string reason;
  };
  struct Delivered {
    Place place;
    int32_t dlq_partition = 0;
    int64_t dlq_offset = 0;
    bool value_truncated = false;
  };

  explicit DeadLetterLedger(PgConnection& db);
  std::map<Place, Entry> find(const std::string& topic, const std::vector<Place>& places);
  // Written (committed) before the dead letters are sent; replaces an older entry at the same place.
  void record_intent(const std::string& topic, const std::string& dlq_topic, const std::vector<int64_t>& search_from,
                     const std::vector<Intent>& intents);
  void record_delivered(const std::string& topic, const std::vector<Delivered>& delivered);

 private:
  PgConnection& db_;
};

// kafka_pipeline.dead_letter_replays (see create_tables.sql): which dead letters were sent
// back to their topic, so none is replayed twice.
class ReplayLedger {
 public:
  using Place = DeadLetterLedger::Place;  // of the dead letter in the dead-letter topic
  struct Entry {
    int64_t letter_timestamp_ms = -1;
    bool delivered = false;
    std::string target_topic;
    std::vector<int64_t> search_from;
  };
  struct Intent {
    Place letter;
    int64_t letter_timestamp_ms = -1;
    int attempt = 1;  // of the message sent back
  };
  struct Delivered {
    Place letter;
    int32_t partition = 0;
    int64_t offset = 0;
  };

  explicit ReplayLedger(PgConnection& db);
  std::map<Place, Entry> find(const std::string& dlq_topic, const std::vector<Place>& letters);
  // Written (committed) before the messages are sent; replaces an older entry at the same place.
  void record_intent(const std::string& dlq_topic, const std::string& target_topic,
                     const std::vector<int64_t>& search_from, const std::vector<Intent>& intents);
  void record_delivered(const std::string& dlq_topic, const std::vector<Delivered>& delivered);

 private:
  PgConnection& db_;
};

}  // namespace datalab::kafka_pipeline
