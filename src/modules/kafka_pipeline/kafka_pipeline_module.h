#pragma once
// Week 8: PostgreSQL -> Kafka -> PostgreSQL. Flights are sent as flight.v1 JSON by an
// idempotent producer; a consumer group validates every message, loads the good ones into
// flights_upload (exactly once in effect) and dead-letters the rest with their reason.
#include <cstdint>
#include <string>

#include "modules/kafka_pipeline/dead_letter_queue.h"
#include "modules/kafka_pipeline/flight_pipeline.h"
#include "modules/module.h"

namespace datalab::kafka_pipeline {

// Where kafka_pipeline.flights comes from when it is empty (or --reload).
struct FlightSource {
  int64_t flights = 1'000;
  uint64_t seed = 42;
  std::string csv;     // a flights CSV instead of generated flights
  bool reload = false;  // replace the flights even when the table has rows
};

class KafkaPipelineModule : public Module {
 public:
  std::string name() const override { return "kafka_pipeline"; }
  std::string summary() const override {
    return "PostgreSQL -> Kafka -> PostgreSQL with validation and a dead-letter topic (week 8)";
  }
  void add_run_flags(CLI::App& command) override;
  void add_commands(CLI::App& root, AppContext& context) override;
  void run(AppContext& context) override;
  ModuleFootprint footprint(const Config& config) const override;

 private:
  FlightSource source_;
  ProduceOptions produce_;
  ConsumeOptions consume_;
  bool inject_bad_messages_ = true;
  double timeout_seconds_ = 600;
  // `datalab kafka produce|consume|topics` arguments
  FlightSource cmd_source_;
  ProduceOptions cmd_produce_;
  ConsumeOptions cmd_consume_;
  std::string cmd_topic_;  // empty: KAFKA_TOPIC
  std::string cmd_group_ = kDefaultGroup;
  bool cmd_apply_retention_ = false;
  // `datalab kafka dlq stats|show|replay` arguments
  std::string dlq_by_, dlq_reason_;
  std::size_t dlq_limit_ = 20;
  ReplayOptions replay_;
};

}  // namespace datalab::kafka_pipeline
