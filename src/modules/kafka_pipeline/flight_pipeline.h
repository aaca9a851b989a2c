#pragma once
// The two ends of the pipeline. produce_flights: PostgreSQL (cursor) -> JSON -> Kafka,
// waiting for every delivery report. consume_flights: Kafka -> validation -> flights_upload
// (one transaction per batch) or the dead-letter topic, then the offset commit.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/kafka/kafka_admin.h"
#include "storage/kafka/kafka_producer.h"
#include "storage/postgres/postgres_settings.h"

namespace datalab::kafka_pipeline {

inline constexpr const char* kDefaultTopic = "it-one";
inline constexpr const char* kDefaultGroup = "datalab-kafka-pipeline";
inline constexpr int kTopicPartitions = 3;
inline constexpr const char* kRetentionMs = "300000";  // 5 minutes, as the original configured

inline std::string dead_letter_topic(const std::string& topic) { return topic + ".dlq"; }

// Creates the topic and its dead-letter topic when missing (5-minute retention).
// Returns the names of the topics it created.
std::vector<std::string> ensure_topics(KafkaAdmin& admin, const std::string& topic);

struct ProduceOptions {
  std::string topic = kDefaultTopic;
  int fetch_rows = 10'000;
  double rate = 0;           // messages per second; 0: as fast as possible
  bool bad_messages = false;  // append one injected bad message of each kind
  bool follow = false;       // keep sending flights added later, until stopped
  ProducerOptions kafka;
};

struct ProduceStats {
  uint64_t sent = 0;  // acknowledged by the broker
  double seconds = 0;
  bool stopped = false;  // ended by a stop request
};

ProduceStats produce_flights(const PostgresSettings& postgres, const KafkaSettings& kafka, const ProduceOptions& options,
                             const std::atomic<bool>& stop);

struct ConsumeOptions {
  std::string topic = kDefaultTopic;
  std::string group = kDefaultGroup;
  std::size_t batch_rows = 20'000;
  int batch_wait_ms = 200;
  double rate = 0;  // messages per second; 0: as fast as possible
  bool until_drained = false;
  // Drained only counts once this says the producer is done (the run command).
  std::function<bool()> producer_done = [] { return true; };
  std::optional<std::vector<int64_t>> start_offsets;  // see ConsumerOptions
  double timeout_seconds = 0;  // until_drained: give up after this long (0: never)
};

struct ConsumeStats {
  uint64_t received = 0, loaded = 0, already_loaded = 0, dead_lettered = 0;
  uint64_t already_dead_lettered = 0;  // rejected again, its dead letter sent before (redelivery)
  std::map<std::string, uint64_t> reasons;  // dead-letter reason -> messages
  double seconds = 0;
  bool drained = false;
};

ConsumeStats consume_flights(const PostgresSettings& postgres, const KafkaSettings& kafka,
                             const ConsumeOptions& options, const std::atomic<bool>& stop);

}  // namespace datalab::kafka_pipeline
