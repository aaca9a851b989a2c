#include "datagen/flight_generator.h"

#include <array>
#include <string>

#include <fmt/format.h>

#include "core/error.h"
#include "datagen/random.h"

namespace datalab {

namespace {

struct Airline {
  const char* name;
  const char* code;
};
constexpr std::array<Airline, 10> kAirlines{{{"Delta", "DL"}, {"American", "AA"}, {"United", "UA"},
                                              {"Southwest", "WN"}, {"JetBlue", "B6"}, {"Alaska", "AS"},
                                              {"Lufthansa", "LH"}, {"British Airways", "BA"},
                                              {"Air France", "AF"}, {"Emirates", "EK"}}};
constexpr std::array<const char*, 24> kAirports{"ATL", "JFK", "DFW", "LAX", "ORD", "SFO", "DEN", "LAS",
                                                "SEA", "MIA", "BOS", "EWR", "IAH", "MCO", "PHX", "SLC",
                                                "PDX", "LHR", "FRA", "CDG", "DXB", "HND", "CUN", "MSP"};
constexpr std::array<const char*, 8> kAircraft{"B737-800", "B737-700", "A320", "A319", "A321",
                                               "B787", "B777", "E175"};
// Weighted like the reference data: mostly on time.
constexpr std::array<const char*, 10> kStatus{"On Time", "On Time", "On Time", "On Time", "On Time",
                                              "On Time", "Delayed", "Delayed", "Boarding", "Cancelled"};
// 2024-01-15 00:00:00 UTC, the reference data's first day.
constexpr int64_t kFirstDayMicros = 1'705'276'800LL * 1'000'000;

template <typename Builder, typename Value>
void append(Builder& builder, const Value& value) {
  if (!builder.Append(value).ok()) throw Error("flight generator: out of memory");
}

}  // namespace

std::shared_ptr<arrow::Schema> FlightGenerator::schema() {
  const auto ts = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  return arrow::schema({arrow::field("flight_id", arrow::int64()), arrow::field("airline", arrow::utf8()),
                        arrow::field("flight_number", arrow::utf8()), arrow::field("origin", arrow::utf8()),
                        arrow::field("destination", arrow::utf8()), arrow::field("departure_time", ts),
                        arrow::field("arrival_time", ts), arrow::field("duration_minutes", arrow::int32()),
                        arrow::field("aircraft_type", arrow::utf8()), arrow::field("status", arrow::utf8()),
                        arrow::field("economy_seats", arrow::int32()), arrow::field("business_seats", arrow::int32()),
                        arrow::field("first_class_seats", arrow::int32()),
                        arrow::field("booked_economy", arrow::int32()), arrow::field("booked_business", arrow::int32()),
                        arrow::field("booked_first_class", arrow::int32())});
}

std::shared_ptr<arrow::RecordBatch> FlightGenerator::batch(int64_t first_id, int64_t count) const {
  const auto ts = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  arrow::Int64Builder id;
  arrow::StringBuilder airline, number, origin, destination, aircraft, status;
  arrow::TimestampBuilder departure(ts, arrow::default_memory_pool()), arrival(ts, arrow::default_memory_pool());
  std::array<arrow::Int32Builder, 7> ints;  // duration, 3 seat classes, 3 booking classes
  for (int64_t i = 0; i < count; ++i) {
    const int64_t flight_id = first_id + i;
    Rng rng = Rng::for_stream(seed_, static_cast<uint64_t>(flight_id));
    const Airline& carrier = rng.pick(kAirlines);
    const int from = static_cast<int>(rng.uniform(0, kAirports.size() - 1));
    int to = static_cast<int>(rng.uniform(0, kAirports.size() - 2));
    if (to >= from) ++to;  // never the same airport
    const int64_t depart = kFirstDayMicros + rng.uniform(0, 365LL * 24 * 12) * 5 * 60 * 1'000'000;  // 5-minute slots
    const int32_t minutes = static_cast<int32_t>(rng.uniform(9, 160) * 5);
    const bool wide = minutes > 300;
    const int32_t economy = static_cast<int32_t>(rng.uniform(wide ? 200 : 100, wide ? 320 : 190));
    const int32_t business = static_cast<int32_t>(rng.chance(0.15) ? 0 : rng.uniform(8, wide ? 48 : 24));
    const int32_t first = static_cast<int32_t>(business == 0 || rng.chance(0.4) ? 0 : rng.uniform(4, 16));
    append(id, flight_id);
    append(airline, carrier.name);
    append(number, fmt::format("{}{}", carrier.code, rng.uniform(100, 9999)));
    append(origin, kAirports[static_cast<std::size_t>(from)]);
    append(destination, kAirports[static_cast<std::size_t>(to)]);
    append(departure, depart);
    append(arrival, depart + int64_t{minutes} * 60 * 1'000'000);
    append(aircraft, rng.pick(kAircraft));
    append(status, rng.pick(kStatus));
    append(ints[0], minutes);
    append(ints[1], economy);
    append(ints[2], business);
    append(ints[3], first);
    append(ints[4], static_cast<int32_t>(rng.uniform(economy / 2, economy)));
    append(ints[5], static_cast<int32_t>(rng.uniform(0, business)));
    append(ints[6], static_cast<int32_t>(rng.uniform(0, first)));
  }
  auto finish = [](arrow::ArrayBuilder& builder) {
    auto result = builder.Finish();
    if (!result.ok()) throw Error("flight generator: " + result.status().ToString());
    return *result;
  };
  return arrow::RecordBatch::Make(
      schema(), count,
      {finish(id), finish(airline), finish(number), finish(origin), finish(destination), finish(departure),
       finish(arrival), finish(ints[0]), finish(aircraft), finish(status), finish(ints[1]), finish(ints[2]),
       finish(ints[3]), finish(ints[4]), finish(ints[5]), finish(ints[6])});
}

}  // namespace datalab
