#include "transfer/cdc/kafka_change_sink.h"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include "core/error.h"
#include "storage/kafka/kafka_admin.h"
#include "storage/kafka/kafka_consumer.h"
#include "storage/kafka/kafka_producer.h"
#include "transfer/kafka/kafka_endpoint.h"

namespace datalab::cdc {

KafkaChangeSink::KafkaChangeSink(const transfer::Endpoint& target, const Config& config, const std::string& stream_id,
                                 const std::string& slot, const std::string& database)
    : settings_(transfer::kafka_settings_of(target, config)), masked_(target.masked) {
  if (target.topic.empty() || target.topic.find('/') != std::string::npos) {
    throw ConfigError(fmt::format("'{}' names no topic prefix: expected kafka://host:port/prefix (tables go to "
                                  "prefix.schema.table)",
                                  target.masked));
  }
  for (const auto& [name, value] : target.options) {
    if (name != "partitions") {
      throw ConfigError(fmt::format("'{}': unknown option ?{}= (a change stream into Kafka takes partitions)",
                                    target.masked, name));
    }
  }
  partitions_ = transfer::kafka_partitions_of(target, 1);
  names_ = {target.topic, database};
  position_key_ = target.topic + "\n" + stream_id;
  transactional_id_ = fmt::format("datalab-cdc-{}-{}", target.topic, slot);
}

KafkaChangeSink::~KafkaChangeSink() = default;

std::string KafkaChangeSink::describe() const { return masked_; }

std::string KafkaChangeSink::topic_of(const TableShape& table) const {
  return fmt::format("{}.{}.{}", names_.topic_prefix, table.schema, table.name);
}

std::optional<Lsn> KafkaChangeSink::stored_position() {
  const std::optional<std::string> last = last_value_of_key(settings_, kPositionsTopic, position_key_);
  if (!last || last->empty()) return std::nullopt;  // empty: forgotten by `cdc drop`
  rapidjson::Document stored;
  stored.Parse(last->data(), last->size());
  if (stored.HasParseError() || !stored.IsObject() || !stored.HasMember("lsn") || !stored["lsn"].IsString()) {
    throw ServiceError(fmt::format("the position in {} for {} is not one datalab wrote: {}", kPositionsTopic,
                                   names_.topic_prefix, *last));
  }
  return parse_lsn(stored["lsn"].GetString());
}

KafkaProducer& KafkaChangeSink::producer() {
  if (!producer_) {
    KafkaAdmin(settings_).ensure_topic({kPositionsTopic, 1, 1, {{"cleanup.policy", "compact"}}});
    ProducerOptions options;
    options.transactional_id = transactional_id_;
    producer_ = std::make_unique<KafkaProducer>(settings_, options);
  }
  producer_->begin_transaction();
  return *producer_;
}

void KafkaChangeSink::write(const Change& change) {
  const std::string topic = topic_of(*change.table);
  if (!topics_ready_.contains(topic)) {
    KafkaAdmin(settings_).ensure_topic({topic, partitions_});
    topics_ready_.insert(topic);
  }
  const pgoutput::Tuple* row = change.after ? change.after : change.before;
  const std::optional<std::string> key = row ? change_key_json(*change.table, *row) : std::nullopt;
  producer().produce(topic, key.value_or(""), change_value_json(change, names_));
}

void KafkaChangeSink::commit(Lsn position) {
  const std::string value = fmt::format(R"({{"lsn":"{}"}})", lsn_text(position));
  producer().produce(kPositionsTopic, position_key_, value);
  producer_->commit_transaction();
}

void KafkaChangeSink::abort() {
  if (producer_) producer_->abort_transaction();
}

void KafkaChangeSink::forget_position() {
  KafkaAdmin admin(settings_);
  if (!admin.topic_exists(kPositionsTopic)) return;
  // An empty value: compaction keeps it as the key's last word, which stored_position() reads as none.
  producer().produce(kPositionsTopic, position_key_, "");
  producer_->commit_transaction();
}

}  // namespace datalab::cdc
