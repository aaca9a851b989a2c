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
  // Deletes the topic; returns false when it did not exist.
  bool delete_topic(const std::string& topic);
  // Whether the topic exists (asks for every topic's metadata, so a broker that creates
  // topics on first use does not create this one).
  bool topic_exists(const std::string& topic);
  // Partitions of an existing topic (throws ServiceError when the topic is unknown).
  int partition_count(const std::string& topic);
  // Both ends of every partition, by partition index, from one query per partition: low is
  // the oldest offset retention kept, high the offset of the next message.
  struct Watermarks {
    std::vector<int64_t> low, high;
  };
  Watermarks watermarks(const std::string& topic);
  // watermarks(topic).high.
  std::vector<int64_t> high_watermarks(const std::string& topic);
  // The group's committed offset (next to read) of every partition of the topic, by
  // partition index; -1 where the group has committed nothing.
  std::vector<int64_t> committed_offsets(const std::string& group, const std::string& topic);
  // The topic's effective configuration (every entry, defaults included).
  std::map<std::string, std::string> topic_config(const std::string& topic);
  // Sets one topic-level setting and keeps the topic's other settings: Kafka's AlterConfigs
  // (the one librdkafka 2.0 has) replaces the whole set, so the topic's own (dynamic)
  // entries are read first and sent back with the change.
  void set_topic_config(const std::string& topic, const std::string& key, const std::string& value);

 private:
  KafkaSettings settings_;
  rd_kafka_s* handle_ = nullptr;
};

}  // namespace datalab
