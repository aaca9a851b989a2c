#pragma once
// Changes into Kafka: one topic per table, <prefix>.<schema>.<table> (Debezium's naming),
// created when missing (?partitions=, default 1: one order per table), messages keyed by
// the primary key (change_json.h). Effectively once: the changes go in Kafka transactions
// (transactional id datalab-cdc-<prefix>-<slot>, so a restarted stream fences a killed one),
// each holding whole source transactions and, as its last message, the stream's position in
// the compacted topic datalab-cdc-positions; read_committed consumers see a source
// transaction entirely or not at all, and a restart skips what a committed one already holds.
// No tombstones follow deletes (Debezium's tombstones.on.delete=false).
#include <memory>
#include <set>
#include <string>

#include "core/config.h"
#include "storage/kafka/kafka_settings.h"
#include "transfer/cdc/change.h"
#include "transfer/cdc/change_json.h"
#include "transfer/endpoint.h"

namespace datalab {
class KafkaProducer;
}

namespace datalab::cdc {

class KafkaChangeSink : public ChangeSink {
 public:
  // `stream_id` names the source stream in the positions topic (host:port/db/slot).
  KafkaChangeSink(const transfer::Endpoint& target, const Config& config, const std::string& stream_id,
                  const std::string& slot, const std::string& database);
  ~KafkaChangeSink() override;

  std::optional<Lsn> stored_position() override;
  void write(const Change& change) override;
  void commit(Lsn position) override;
  void abort() override;
  void forget_position() override;
  std::string describe() const override;

  // The topic a table's changes go to.
  std::string topic_of(const TableShape& table) const;
  static constexpr const char* kPositionsTopic = "datalab-cdc-positions";

 private:
  KafkaProducer& producer();
  KafkaSettings settings_;
  std::string masked_, position_key_, transactional_id_;
  SourceNames names_;
  int partitions_ = 1;
  std::set<std::string> topics_ready_;
  std::unique_ptr<KafkaProducer> producer_;
};

}  // namespace datalab::cdc
