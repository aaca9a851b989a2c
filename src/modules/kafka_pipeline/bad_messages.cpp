#include "modules/kafka_pipeline/bad_messages.h"

#include <fmt/format.h>

namespace datalab::kafka_pipeline {

namespace {

// A valid flight.v1 message with the given id and one field's JSON text replaced
// (or removed when replacement is empty).
std::string flight(const std::string& schema, int64_t id, const std::string& field = "",
                   const std::string& replacement = "") {
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"flight_id", std::to_string(id)}, {"airline", "\"Injected\""}, {"flight_number", "\"XX900\""},
      {"origin", "\"ATL\""}, {"destination", "\"JFK\""},
      {"departure_time", "\"2024-01-15T08:00:00+00:00\""}, {"arrival_time", "\"2024-01-15T10:30:00+00:00\""},
      {"duration_minutes", "150"}, {"aircraft_type", "\"B737-800\""}, {"status", "\"On Time\""},
      {"economy_seats", "150"}, {"business_seats", "20"}, {"first_class_seats", "10"},
      {"booked_economy", "120"}, {"booked_business", "15"}, {"booked_first_class", "8"}};
  std::string data;
  for (const auto& [name, value] : fields) {
    if (name == field && replacement.empty()) continue;
    data += fmt::format("{}\"{}\":{}", data.empty() ? "" : ",", name, name == field ? replacement : value);
  }
  return fmt::format(R"({{"schema":"{}","data":{{{}}}}})", schema, data);
}

}  // namespace

const std::vector<BadMessage>& injected_bad_messages() {
  static const std::vector<BadMessage> messages = {
      {"malformed JSON", "bad-900000001", R"({"schema":"flight.v1","data":{"flight_id":900000001,"airline":)",
       "invalid JSON"},
      {"wrong schema version", "bad-900000002", flight("flight.v2", 900000002), "unsupported schema version"},
      {"missing field", "bad-900000003", flight("flight.v1", 900000003, "origin"), "missing field data.origin"},
      {"wrong type", "bad-900000004", flight("flight.v1", 900000004, "duration_minutes", "\"two hours\""),
       "data.duration_minutes must be an integer"},
      {"negative count", "bad-900000005", flight("flight.v1", 900000005, "business_seats", "-5"),
       "data.business_seats must not be negative"},
      {"bookings above seats", "bad-900000006", flight("flight.v1", 900000006, "booked_economy", "151"),
       "data.booked_economy (151) exceeds data.economy_seats (150)"},
      {"arrival before departure", "bad-900000007",
       flight("flight.v1", 900000007, "arrival_time", "\"2024-01-15T07:00:00+00:00\""),
       "data.arrival_time must be after data.departure_time"},
      {"bad IATA code", "bad-900000008", flight("flight.v1", 900000008, "destination", "\"J1\""),
       "data.destination must be a three-letter IATA code"},
  };
  return messages;
}

}  // namespace datalab::kafka_pipeline
