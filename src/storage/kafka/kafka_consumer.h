#pragma once
// A Kafka consumer in a consumer group (librdkafka C++ API) with manual offset commits:
// the caller commits only what it has safely stored, so a crash means redelivery, never loss.
// It tracks its position per partition to tell when the topic is drained.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/kafka/kafka_settings.h"

namespace RdKafka {
class KafkaConsumer;
class Message;
}  // namespace RdKafka

namespace datalab {

// One received message; owns librdkafka's buffer (no copy of the payload).
class KafkaMessage {
 public:
  explicit KafkaMessage(RdKafka::Message* message);
  ~KafkaMessage();
  KafkaMessage(KafkaMessage&&) noexcept;
  KafkaMessage& operator=(KafkaMessage&&) noexcept;

  const std::string& topic() const { return topic_; }
  int32_t partition() const;
  int64_t offset() const;
  std::optional<std::string_view> key() const;
  std::string_view value() const;
  // The message's timestamp (milliseconds since the epoch; -1 when it has none).
  int64_t timestamp_ms() const;
  // The last header of that name, when there is one.
  std::optional<std::string> header(const std::string& name) const;

 private:
  std::unique_ptr<RdKafka::Message> message_;
  std::string topic_;
};

struct ConsumerOptions {
  std::string group = "datalab";
  // When set (offset per partition), assigned partitions start here instead of at the
  // group's committed offsets: a run reads exactly the messages it produced.
  std::optional<std::vector<int64_t>> start_offsets;
  // Where a group without committed offsets starts: "earliest" or "latest".
  std::string offset_reset = "earliest";
};

class KafkaConsumer {
 public:
  KafkaConsumer(const KafkaSettings& settings, std::string topic, int partitions, const ConsumerOptions& options);
  ~KafkaConsumer();
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  // Up to max_messages, returning early when max_wait_ms passed or every assigned
  // partition reached its end.
  std::vector<KafkaMessage> poll_batch(std::size_t max_messages, int max_wait_ms);
  // Commits "next offset to read" per partition, synchronously. Returns false (and logs)
  // when the broker refused, e.g. during a rebalance: the messages then come again.
  bool commit(const std::map<int32_t, int64_t>& next_offsets);
  // True when this consumer owns every partition and its position has reached each
  // partition's high watermark (asked from the broker, not cached).
  bool drained();
  // Assigned partition -> next offset to read (-1 until known), as of the last poll.
  const std::map<int32_t, int64_t>& positions() const { return position_; }
  // Leaves the group cleanly (no commit).
  void close();

 private:
  class Rebalance;
  void track_assignment(const std::vector<int32_t>& partitions, bool assigned);
  KafkaSettings settings_;
  std::string topic_;
  int partitions_;
  std::unique_ptr<Rebalance> rebalance_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::map<int32_t, int64_t> position_;  // assigned partition -> next offset (-1: unknown)
  std::map<int32_t, bool> at_end_;
  bool closed_ = false;
};

// Reads a topic outside any consumer group, batch by batch: every message from
// from_offsets[p] (a partition missing from the vector is skipped) up to each partition's
// high watermark at construction, a fixed end however much is produced meanwhile.
class TopicRangeReader {
 public:
  TopicRangeReader(const KafkaSettings& settings, std::string topic, const std::vector<int64_t>& from_offsets);
  ~TopicRangeReader();
  TopicRangeReader(const TopicRangeReader&) = delete;
  TopicRangeReader& operator=(const TopicRangeReader&) = delete;

  // Up to max_messages, fewer when max_wait_ms passed; none once done().
  std::vector<KafkaMessage> poll_batch(std::size_t max_messages, int max_wait_ms);
  bool done() const { return remaining_.empty(); }
  // Partition -> the high watermark still to reach, for the partitions not read to their end.
  const std::map<int32_t, int64_t>& remaining() const { return remaining_; }

 private:
  std::string topic_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::map<int32_t, int64_t> remaining_;
};

// Reads a topic outside any consumer group: every message from from_offsets[p] (a partition
// missing from the vector is skipped) up to each partition's high watermark at the time of
// the call. Throws ServiceError when that end is not reached within timeout_ms.
void read_topic_range(const KafkaSettings& settings, const std::string& topic, const std::vector<int64_t>& from_offsets,
                      const std::function<void(const KafkaMessage&)>& on_message, int timeout_ms = 60'000);

// The value of the last message with `key` in a topic read whole (a topic used as a small
// keyed store, e.g. positions or watermarks); nullopt when the topic does not exist or has
// no message with that key.
std::optional<std::string> last_value_of_key(const KafkaSettings& settings, const std::string& topic,
                                             const std::string& key);

}  // namespace datalab
