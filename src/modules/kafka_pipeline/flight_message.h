#pragma once
// The flight.v1 message: `{"schema": "flight.v1", "data": {...}}` keyed by flight id.
// Encoding (PostgreSQL text values -> JSON), validation (JSON -> a row for flights_upload,
// or the reason it is rejected) and the dead-letter envelope. No I/O here.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace datalab::kafka_pipeline {

inline constexpr std::string_view kSchemaVersion = "flight.v1";

enum class FlightField { Integer, Text, Airport, Timestamp };
struct FlightColumn {
  std::string_view name;
  FlightField kind;
  int max_length;  // text columns: VARCHAR(n); 0 otherwise
};
// Every column of kafka_pipeline.flights in table order; the first ten are flights_upload's.
inline constexpr std::array<FlightColumn, 16> kFlightColumns{{
    {"flight_id", FlightField::Integer, 0},
    {"airline", FlightField::Text, 100},
    {"flight_number", FlightField::Text, 20},
    {"origin", FlightField::Airport, 3},
    {"destination", FlightField::Airport, 3},
    {"departure_time", FlightField::Timestamp, 0},
    {"arrival_time", FlightField::Timestamp, 0},
    {"duration_minutes", FlightField::Integer, 0},
    {"aircraft_type", FlightField::Text, 50},
    {"status", FlightField::Text, 20},
    {"economy_seats", FlightField::Integer, 0},
    {"business_seats", FlightField::Integer, 0},
    {"first_class_seats", FlightField::Integer, 0},
    {"booked_economy", FlightField::Integer, 0},
    {"booked_business", FlightField::Integer, 0},
    {"booked_first_class", FlightField::Integer, 0},
}};

// One row of PostgreSQL text output (NULL = nullopt), columns as kFlightColumns.
using FlightTextRow = std::array<std::optional<std::string_view>, kFlightColumns.size()>;

// Appends the JSON message for a row; timestamps become ISO 8601 with their offset.
void append_flight_message(std::string& out, const FlightTextRow& row);

// A validated message, reduced to the flights_upload columns.
struct UploadRow {
  int64_t flight_id = 0;
  std::string airline, flight_number, origin, destination;
  int64_t departure_micros = 0, arrival_micros = 0;  // UTC, microseconds since the Unix epoch
  int32_t duration_minutes = 0;
  std::string aircraft_type, status;
};

struct Verdict {
  std::optional<UploadRow> row;  // set when accepted
  std::string reason;            // why it was rejected otherwise
};

// Checks schema version, JSON shape, field types and value ranges.
Verdict validate_flight_message(std::string_view value);

// Appends the row as one binary COPY tuple of flights_upload (the server parses nothing).
// The columns of flights_upload in the order append_upload_copy_row writes them.
inline constexpr std::array<const char*, 10> kUploadColumns{
    "flight_id", "airline", "flight_number", "origin", "destination", "departure_time", "arrival_time",
    "duration_minutes", "aircraft_type", "status"};
void append_upload_copy_row(std::string& out, const UploadRow& row);

// The dead-letter value (README, "Dead-letter records"): the reason and the original
// message (topic, partition, offset, key, value) with the value's size and SHA-256. A value
// that is not UTF-8 is kept as base64 (`value_base64`). When the whole record would exceed
// max_bytes (the producer's message.max.bytes is 1,000,000), only the first
// kDeadLetterKeptValueBytes of the value (fewer when max_bytes is smaller) are kept and
// `value_truncated` is true: a message too large to carry is still dead-lettered.
inline constexpr std::size_t kDeadLetterMaxBytes = 900'000;
inline constexpr std::size_t kDeadLetterKeptValueBytes = 65'536;
inline constexpr std::size_t kDeadLetterKeptKeyBytes = 4'096;  // a longer key is cut the same way
std::string dead_letter_value(std::string_view reason, std::string_view topic, int32_t partition, int64_t offset,
                              std::optional<std::string_view> key, std::string_view value,
                              std::size_t max_bytes = kDeadLetterMaxBytes, bool* truncated = nullptr);
// A dead-letter value read back (dead_letter_value's inverse): the original whole where the
// record carries it whole (text or base64), nullopt where it was cut or is absent.
struct DeadLetterRecord {
  std::string reason;
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  bool has_key = false;              // the original had a key
  std::optional<std::string> key;    // set when has_key and it was not cut
  std::optional<std::string> value;  // set when it was not cut
  int64_t value_bytes = 0;
  std::string value_sha256;
};
// nullopt when `value` is not a dead-letter record of this format (error says why).
std::optional<DeadLetterRecord> parse_dead_letter_value(std::string_view value, std::string* error = nullptr);
// The dead-letter record's Kafka key: the original key, cut to kDeadLetterKeptKeyBytes.
std::string_view dead_letter_key(std::string_view key);
// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(std::string_view data);

// ISO 8601 date-time with a zone offset ("2024-01-15T08:00:00+00:00", "...Z", fractions
// allowed) -> microseconds since the epoch; nullopt when malformed or without a zone.
std::optional<int64_t> parse_zoned_timestamp(std::string_view text);
// PostgreSQL timestamptz text ("2024-01-15 08:00:00+00") -> ISO 8601 ("2024-01-15T08:00:00+00:00").
std::string iso_from_pg_timestamp(std::string_view text);

}  // namespace datalab::kafka_pipeline
