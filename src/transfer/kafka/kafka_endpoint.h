#pragma once
// Kafka as a `datalab copy` source and target, one JSON object per message.
//
// Source kafka://host:port/topic (host and port from BOOTSTRAP_SERVER when left out,
// kafka:///topic). Without ?group= it reads every partition from its start (?from=earliest)
// up to the end offsets it saw when it started, so a copy ends however much is produced
// meanwhile. With ?group=name it reads from the group's committed offsets (a new group
// starts at ?from=earliest or latest), again up to the end offsets seen at the start, and
// commits the offsets only after the target committed: with a transactional target
// (PostgreSQL, ClickHouse's atomic insert, files, Iceberg) a crash repeats nothing the target
// kept; with a target that is not (Kafka), what was delivered before the crash comes again.
// Columns are inferred from the valid messages of the first batch (Arrow's JSON inference,
// as for JSON Lines: integers int64, fractions float64, ISO text timestamps); a later
// message that is not a JSON object, has a field those messages had not, or a value of
// another type is rejected: counted and reported with its partition, offset and reason, and
// sent to ?dead_letter=topic when given (the original key and value, the reason and origin
// in headers datalab.reason, datalab.topic, datalab.partition, datalab.offset).
// ?metadata=true adds the columns _topic, _partition, _offset, _timestamp.
//
// Target kafka://host:port/topic: each row one message, JSON as the JSON Lines writer makes
// it (json_rows.h), keyed by --key column when given; an idempotent producer, and commit()
// returns only once every message is acknowledged. Append only. --create makes a missing
// topic (?partitions=, default 3). Kafka has no transaction here: a failed copy leaves the
// messages delivered before the failure in the topic.
#include <memory>
#include <optional>

#include "core/config.h"
#include "storage/kafka/kafka_settings.h"
#include "transfer/batch_stream.h"
#include "transfer/endpoint.h"

namespace datalab::transfer {

// The broker a kafka:// end names (host and port, or BOOTSTRAP_SERVER when left out).
KafkaSettings kafka_settings_of(const Endpoint& endpoint, const Config& config);
// ?partitions=N of a target (`fallback` when absent); a ConfigError unless a whole number >= 1.
int kafka_partitions_of(const Endpoint& endpoint, int fallback);

std::unique_ptr<BatchSource> make_kafka_source(const Endpoint& endpoint, const Config& config,
                                               const std::optional<IncrementalFilter>& filter);
std::unique_ptr<BatchTarget> make_kafka_target(const Endpoint& endpoint, const Config& config);

}  // namespace datalab::transfer
