#pragma once
// Messages a real topic receives sooner or later, injected on purpose to show (and test)
// that each one reaches the dead-letter topic with its reason and nothing is lost.
#include <string>
#include <vector>

namespace datalab::kafka_pipeline {

struct BadMessage {
  std::string kind;    // what is wrong, for people
  std::string key;
  std::string value;
  std::string reason;  // a fragment of the reason the consumer gives
};

// One message per kind: malformed JSON, wrong schema version, missing field, wrong type,
// out-of-range values (negative count, bookings above seats, arrival before departure,
// bad IATA code).
const std::vector<BadMessage>& injected_bad_messages();

}  // namespace datalab::kafka_pipeline
