#include "storage/kafka/kafka_consumer.h"

#include <librdkafka/rdkafkacpp.h>

#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "storage/kafka/kafka_admin.h"

namespace datalab {

KafkaMessage::KafkaMessage(RdKafka::Message* message) : message_(message), topic_(message->topic_name()) {}
KafkaMessage::~KafkaMessage() = default;
KafkaMessage::KafkaMessage(KafkaMessage&&) noexcept = default;
KafkaMessage& KafkaMessage::operator=(KafkaMessage&&) noexcept = default;
int32_t KafkaMessage::partition() const { return message_->partition(); }
int64_t KafkaMessage::offset() const { return message_->offset(); }
std::optional<std::string_view> KafkaMessage::key() const {
  if (!message_->key_pointer()) return std::nullopt;
  return std::string_view(static_cast<const char*>(message_->key_pointer()), message_->key_len());
}
std::string_view KafkaMessage::value() const {
  if (!message_->payload()) return {};
  return {static_cast<const char*>(message_->payload()), message_->len()};
}

int64_t KafkaMessage::timestamp_ms() const {
  const auto ts = message_->timestamp();
  return ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE ? -1 : ts.timestamp;
}

std::optional<std::string> KafkaMessage::header(const std::string& name) const {
  RdKafka::Headers* headers = message_->headers();
  if (!headers) return std::nullopt;
  const RdKafka::Headers::Header found = headers->get_last(name);
  if (found.err() != RdKafka::ERR_NO_ERROR || !found.value()) return std::nullopt;
  return std::string(static_cast<const char*>(found.value()), found.value_size());
}

class KafkaConsumer::Rebalance : public RdKafka::RebalanceCb {
 public:
  Rebalance(KafkaConsumer& owner, std::optional<std::vector<int64_t>> start)
      : owner_(owner), start_(std::move(start)) {}
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    std::vector<int32_t> ids;
    for (auto* p : partitions) ids.push_back(p->partition());
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      for (auto* p : partitions) {
        const auto index = static_cast<std::size_t>(p->partition());
        if (start_ && index < start_->size()) p->set_offset((*start_)[index]);
      }
      consumer->assign(partitions);
      owner_.track_assignment(ids, true);
      spdlog::debug("kafka consumer: assigned {} partition(s) of {}", ids.size(), owner_.topic_);
    } else {
      consumer->unassign();
      owner_.track_assignment(ids, false);
    }
  }

 private:
  KafkaConsumer& owner_;
  std::optional<std::vector<int64_t>> start_;
};

namespace {

void set(RdKafka::Conf& conf, const std::string& key, const std::string& value) {
  std::string error;
  if (conf.set(key, value, error) != RdKafka::Conf::CONF_OK) {
    throw ConfigError(fmt::format("Kafka consumer setting {}={}: {}", key, value, error));
  }
}

}  // namespace

KafkaConsumer::KafkaConsumer(const KafkaSettings& settings, std::string topic, int partitions,
                             const ConsumerOptions& options)
    : settings_(settings), topic_(std::move(topic)), partitions_(partitions),
      rebalance_(std::make_unique<Rebalance>(*this, options.start_offsets)) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set(*conf, "bootstrap.servers", settings.bootstrap_servers);
  set(*conf, "group.id", options.group);
  // Offsets are committed by hand, after the database commit.
  set(*conf, "enable.auto.commit", "false");
  set(*conf, "enable.auto.offset.store", "false");
  set(*conf, "auto.offset.reset", options.offset_reset);
  set(*conf, "enable.partition.eof", "true");
  set(*conf, "log_level", "3");
  std::string error;
  if (conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(rebalance_.get()), error) !=
      RdKafka::Conf::CONF_OK) {
    throw ConfigError("Kafka consumer rebalance callback: " + error);
  }
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer_) throw ServiceError("cannot create a Kafka consumer: " + error);
  const auto err = consumer_->subscribe({topic_});
  if (err != RdKafka::ERR_NO_ERROR) {
    throw ServiceError(fmt::format("Kafka: cannot subscribe to {}: {}", topic_, RdKafka::err2str(err)));
  }
}

KafkaConsumer::~KafkaConsumer() {
  try {
    close();
  } catch (...) {
  }
}

void KafkaConsumer::track_assignment(const std::vector<int32_t>& partitions, bool assigned) {
  for (const int32_t p : partitions) {
    if (assigned) {
      position_[p] = -1;
      at_end_[p] = false;
    } else {
      position_.erase(p);
      at_end_.erase(p);
    }
  }
}

std::vector<KafkaMessage> KafkaConsumer::poll_batch(std::size_t max_messages, int max_wait_ms) {
  std::vector<KafkaMessage> batch;
  batch.reserve(max_messages);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_wait_ms);
  bool reached_end_now = false;
  while (batch.size() < max_messages) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    std::unique_ptr<RdKafka::Message> message(consumer_->consume(static_cast<int>(std::min<int64_t>(left.count(), 100))));
    if (!message) continue;
    switch (message->err()) {
      case RdKafka::ERR_NO_ERROR:
        position_[message->partition()] = message->offset() + 1;
        at_end_[message->partition()] = false;
        batch.emplace_back(message.release());
        break;
      case RdKafka::ERR__PARTITION_EOF: {
        auto& position = position_[message->partition()];
        position = std::max(position, message->offset());
        at_end_[message->partition()] = true;
        reached_end_now = true;
        break;
      }
      case RdKafka::ERR__TIMED_OUT:
        break;
      default:
        // Transport errors are retried inside librdkafka; anything else is reported.
        if (message->err() == RdKafka::ERR__TRANSPORT || message->err() == RdKafka::ERR__ALL_BROKERS_DOWN) {
          spdlog::debug("kafka consumer: {}", message->errstr());
        } else {
          spdlog::warn("kafka consumer: {}", message->errstr());
        }
    }
    // Stop waiting once every owned partition is at its end: the caller may be done.
    if (!reached_end_now) continue;
    bool all_at_end = !at_end_.empty();
    for (const auto& [p, end] : at_end_) all_at_end = all_at_end && end;
    if (all_at_end) break;
  }
  return batch;
}

bool KafkaConsumer::commit(const std::map<int32_t, int64_t>& next_offsets) {
  if (next_offsets.empty()) return true;
  std::vector<RdKafka::TopicPartition*> offsets;
  for (const auto& [partition, offset] : next_offsets) {
    offsets.push_back(RdKafka::TopicPartition::create(topic_, partition, offset));
  }
  const auto err = consumer_->commitSync(offsets);
  RdKafka::TopicPartition::destroy(offsets);
  if (err != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("kafka consumer: offset commit refused ({}); those messages will be delivered again",
                 RdKafka::err2str(err));
    return false;
  }
  return true;
}

bool KafkaConsumer::drained() {
  if (static_cast<int>(position_.size()) != partitions_) return false;
  for (const auto& [partition, position] : position_) {
    if (position < 0) return false;
    int64_t low = 0, high = 0;
    const auto err = consumer_->query_watermark_offsets(topic_, partition, &low, &high, 10'000);
    if (err != RdKafka::ERR_NO_ERROR) return false;
    if (position < high) return false;
  }
  return true;
}

void KafkaConsumer::close() {
  if (closed_ || !consumer_) return;
  closed_ = true;
  consumer_->close();
}

TopicRangeReader::TopicRangeReader(const KafkaSettings& settings, std::string topic,
                                   const std::vector<int64_t>& from_offsets)
    : topic_(std::move(topic)) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set(*conf, "bootstrap.servers", settings.bootstrap_servers);
  set(*conf, "group.id", "datalab-reader");  // required by the client; never joined (assign) nor committed
  set(*conf, "enable.auto.commit", "false");
  set(*conf, "enable.auto.offset.store", "false");
  set(*conf, "enable.partition.eof", "true");
  set(*conf, "log_level", "3");
  std::string error;
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer_) throw ServiceError("cannot create a Kafka consumer: " + error);
  std::vector<RdKafka::TopicPartition*> assignment;
  for (std::size_t p = 0; p < from_offsets.size(); ++p) {
    int64_t low = 0, high = 0;
    const auto partition = static_cast<int32_t>(p);
    const auto err = consumer_->query_watermark_offsets(topic_, partition, &low, &high, 10'000);
    if (err != RdKafka::ERR_NO_ERROR) {
      RdKafka::TopicPartition::destroy(assignment);
      throw ServiceError(fmt::format("Kafka: cannot read the offsets of {} [{}]: {}", topic_, p, RdKafka::err2str(err)));
    }
    const int64_t from = std::max(from_offsets[p], low);
    if (from >= high) continue;
    remaining_[partition] = high;
    assignment.push_back(RdKafka::TopicPartition::create(topic_, partition, from));
  }
  if (assignment.empty()) return;
  const auto err = consumer_->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  if (err != RdKafka::ERR_NO_ERROR) {
    throw ServiceError(fmt::format("Kafka: cannot read {}: {}", topic_, RdKafka::err2str(err)));
  }
}

TopicRangeReader::~TopicRangeReader() {
  try {
    if (consumer_) consumer_->close();
  } catch (...) {
  }
}

std::vector<KafkaMessage> TopicRangeReader::poll_batch(std::size_t max_messages, int max_wait_ms) {
  std::vector<KafkaMessage> batch;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_wait_ms);
  while (!remaining_.empty() && batch.size() < max_messages) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    std::unique_ptr<RdKafka::Message> message(consumer_->consume(static_cast<int>(std::min<int64_t>(left.count(), 100))));
    if (!message) continue;
    const auto found = remaining_.find(message->partition());
    if (message->err() == RdKafka::ERR_NO_ERROR) {
      const int64_t offset = message->offset();
      if (found == remaining_.end() || offset >= found->second) continue;
      if (offset + 1 >= found->second) remaining_.erase(found);
      batch.emplace_back(message.release());
    } else if (message->err() == RdKafka::ERR__PARTITION_EOF) {
      if (found != remaining_.end()) remaining_.erase(found);
    } else if (message->err() != RdKafka::ERR__TIMED_OUT) {
      spdlog::debug("kafka reader: {}", message->errstr());
    }
  }
  return batch;
}

void read_topic_range(const KafkaSettings& settings, const std::string& topic, const std::vector<int64_t>& from_offsets,
                      const std::function<void(const KafkaMessage&)>& on_message, int timeout_ms) {
  TopicRangeReader reader(settings, topic, from_offsets);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!reader.done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw ServiceError(fmt::format("Kafka: {} not read to its end within {} s", topic, timeout_ms / 1000));
    }
    for (const auto& message : reader.poll_batch(10'000, 200)) on_message(message);
  }
}

std::optional<std::string> last_value_of_key(const KafkaSettings& settings, const std::string& topic,
                                             const std::string& key) {
  KafkaAdmin admin(settings);
  if (!admin.topic_exists(topic)) return std::nullopt;
  std::optional<std::string> last;
  read_topic_range(settings, topic, std::vector<int64_t>(admin.partition_count(topic), 0), [&](const KafkaMessage& m) {
    if (m.key() && *m.key() == key) last = std::string(m.value());
  });
  return last;
}

}  // namespace datalab
