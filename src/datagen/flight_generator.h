#pragma once
// Seeded flights for the kafka_pipeline module, in the shape of the original's flights.csv
// (ids from 0, IATA airports, departure/arrival in UTC, seats and bookings). Row i depends
// only on (seed, i), so batches can be made in any order and reruns give the same data.
#include <cstdint>
#include <memory>

#include <arrow/api.h>

namespace datalab {

class FlightGenerator {
 public:
  explicit FlightGenerator(uint64_t seed) : seed_(seed) {}
  // Columns and types of kafka_pipeline.flights (timestamps in microseconds, UTC).
  static std::shared_ptr<arrow::Schema> schema();
  // Flights with ids [first_id, first_id + count).
  std::shared_ptr<arrow::RecordBatch> batch(int64_t first_id, int64_t count) const;

 private:
  uint64_t seed_;
};

}  // namespace datalab
