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

#include "core/config.h"
#include "storage/kafka/kafka_admin.h"
#include "storage/kafka/kafka_producer.h"
#include "storage/postgres/postgres_settings.h"

namespace datalab::kafka_pipeline {

inline constexpr const char* kDefaultGroup = "datalab-kafka-pipeline";

// The pipeline's two topics as the settings name them (KAFKA_TOPIC, KAFKA_DLQ_TOPIC,
// KAFKA_TOPIC_PARTITIONS, KAFKA_RETENTION_MS); a --topic flag replaces KAFKA_TOPIC.
struct PipelineTopics {
  std::string topic;
  std::string dead_letters;  // KAFKA_DLQ_TOPIC, or <topic>.dlq when that is empty
  int partitions = 3;        // of the flights topic; the dead-letter topic has one
  int64_t retention_ms = 300'000;
  static PipelineTopics from(const Config& config, const std::string& topic_flag = "");
};

// What ensure_topics found: the topics it created, and settings of existing topics that
// differ from the configured ones (a message per difference; changed when asked).
struct TopicCheck {
  std::vector<std::string> created;
  std::vector<std::string> differences;
  std::vector<std::string> changed;
};

// Creates the topic and its dead-letter topic when missing. An existing topic keeps its
// partitions; a retention other than the configured one is reported, and set (keeping the
// topic's other settings) when apply_retention is true.
TopicCheck ensure_topics(KafkaAdmin& admin, const PipelineTopics& topics, bool apply_retention = false);

// Where a consumer group stands on each partition of a topic.
struct PartitionLag {
  int32_t partition = 0;
  int64_t earliest = 0, end = 0;  // the oldest offset kept, the next offset to be written
  int64_t committed = -1;         // the group's next offset to read; -1: nothing committed
  int64_t lag = 0;                // messages kept and not yet consumed by the group
};
std::vector<PartitionLag> group_lag(KafkaAdmin& admin, const std::string& group, const std::string& topic);
int64_t total_lag(const std::vector<PartitionLag>& partitions);

struct ProduceOptions {
  std::string topic;  // empty: KAFKA_TOPIC
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
  std::string topic;         // empty: KAFKA_TOPIC
  std::string dead_letters;  // the dead-letter topic (set from PipelineTopics)
  std::string group = kDefaultGroup;
  std::size_t batch_rows = 20'000;
  int batch_wait_ms = 200;
  double rate = 0;  // messages per second; 0: as fast as possible
  bool until_drained = false;
  // Drained only counts once this says the producer is done (the run command).
  std::function<bool()> producer_done = [] { return true; };
  std::optional<std::vector<int64_t>> start_offsets;  // see ConsumerOptions
  double timeout_seconds = 0;  // until_drained: give up after this long (0: never)
  // PostgreSQL or the broker failing is not a bad message: the consumer pauses, reconnects
  // and goes on from its last commit, backing off up to this long in all (0: fail at once).
  double retry_seconds = 300;
};

struct ConsumeStats {
  uint64_t received = 0, loaded = 0, already_loaded = 0, dead_lettered = 0;
  uint64_t already_dead_lettered = 0;  // rejected again, its dead letter sent before (redelivery)
  std::map<std::string, uint64_t> reasons;  // dead-letter reason -> messages
  double seconds = 0;
  bool drained = false;
  uint64_t retries = 0;  // times the consumer paused for a failed service and went on
};

ConsumeStats consume_flights(const PostgresSettings& postgres, const KafkaSettings& kafka,
                             const ConsumeOptions& options, const std::atomic<bool>& stop);

}  // namespace datalab::kafka_pipeline
