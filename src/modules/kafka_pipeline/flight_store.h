#pragma once
// The PostgreSQL side of the pipeline: the tables, filling flights (generated or from a
// CSV file), streaming flights through a server-side cursor, and writing validated rows
// to flights_upload in one transaction per batch.
#include <cstdint>
#include <functional>
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

}  // namespace datalab::kafka_pipeline
