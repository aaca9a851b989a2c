#pragma once
// Topic administration and offset queries through librdkafka's admin API (C API: the C++
// API has no admin operations). One short-lived client handle, owned here.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/kafka/kafka_settings.h"

struct rd_kafka_s;

namespace datalab {

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = 1;
  std::map<std::string, std::string> configs;  // e.g. retention.ms
};

class KafkaAdmin {
 public:
  explicit KafkaAdmin(const KafkaSettings& settings);
  ~KafkaAdmin();
  KafkaAdmin(const KafkaAdmin&) = delete;
  KafkaAdmin& operator=(const KafkaAdmin&) = delete;

  // Creates the topic when it does not exist; returns true when it was created.
  // An existing topic is left as it is.
  bool ensure_topic(const TopicSpec& spec);
  // Whether the topic exists (asks for every topic's metadata, so a broker that creates
  // topics on first use does not create this one).
  bool topic_exists(const std::string& topic);
  // Partitions of an existing topic (throws ServiceError when the topic is unknown).
  int partition_count(const std::string& topic);
  // High watermark (offset of the next message) of every partition, by partition index.
  std::vector<int64_t> high_watermarks(const std::string& topic);

 private:
  KafkaSettings settings_;
  rd_kafka_s* handle_ = nullptr;
};

}  // namespace datalab
