#include "modules/kafka_pipeline/flight_pipeline.h"

#include <chrono>
#include <future>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/stopwatch.h"
#include "core/error.h"
#include "modules/kafka_pipeline/bad_messages.h"
#include "modules/kafka_pipeline/dead_letter_queue.h"
#include "modules/kafka_pipeline/flight_message.h"
#include "modules/kafka_pipeline/flight_store.h"
#include "storage/kafka/kafka_consumer.h"

namespace datalab::kafka_pipeline {

namespace {

using Clock = std::chrono::steady_clock;

// Sleeps while `done` items are ahead of `rate` per second (checking stop often).
void pace(double rate, uint64_t done, Clock::time_point start, const std::atomic<bool>& stop) {
  if (rate <= 0) return;
  const auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(done / rate));
  while (Clock::now() < due && !stop.load()) {
    std::this_thread::sleep_for(std::min<Clock::duration>(due - Clock::now(), std::chrono::milliseconds(50)));
  }
}

struct Rejection {
  const KafkaMessage* message;
  std::string reason;
};

// Sends rejected messages to the dead-letter topic, each place (partition, offset) of the
// source topic once: kafka_pipeline.dead_letters is asked first, written before sending
// (with where the dead-letter topic ended) and completed once the broker acknowledged. A
// message whose entry was written but never completed (a crash in between) is looked for
// in the dead-letter topic from that end on, and only sent when it is not there.
class DeadLetterSender {
 public:
  DeadLetterSender(const PostgresSettings& postgres, const KafkaSettings& kafka, KafkaAdmin& admin, std::string topic,
                   std::string dlq_topic)
      : kafka_(kafka), admin_(admin), topic_(std::move(topic)), dlq_topic_(std::move(dlq_topic)), db_(postgres),
        ledger_(db_), producer_(kafka, options()) {}

  // Returns, for each rejection, whether it was sent now (false: it had been already).
  std::vector<bool> send(const std::vector<Rejection>& rejections) {
    std::vector<DeadLetterLedger::Place> places;
    std::vector<std::string> hashes;
    for (const auto& r : rejections) {
      places.push_back({r.message->partition(), r.message->offset()});
      hashes.push_back(sha256_hex(r.message->value()));
    }
    const auto known = ledger_.find(topic_, places);
    std::vector<bool> sent(rejections.size(), false);
    std::vector<std::size_t> to_send, unsure;
    for (std::size_t i = 0; i < rejections.size(); ++i) {
      const auto entry = known.find(places[i]);
      if (entry == known.end() || entry->second.value_sha256 != hashes[i] ||
          entry->second.source_timestamp_ms != rejections[i].message->timestamp_ms()) {
        to_send.push_back(i);  // new, or another message at the same place (the topic was recreated)
      } else if (!entry->second.delivered) {
        unsure.push_back(i);
      }
    }
    if (!unsure.empty()) {
      for (const std::size_t i : find_sent(unsure, places, hashes, known)) to_send.push_back(i);
    }
    if (to_send.empty()) return sent;

    std::vector<std::string> values(rejections.size());
    std::vector<DeadLetterLedger::Intent> intents;
    std::vector<char> truncated(rejections.size(), 0);
    for (const std::size_t i : to_send) {
      const auto& r = rejections[i];
      bool cut = false;
      values[i] = dead_letter_value(r.reason, r.message->topic(), r.message->partition(), r.message->offset(),
                                    r.message->key(), r.message->value(), kDeadLetterMaxBytes, &cut);
      truncated[i] = cut;
      intents.push_back(
          {places[i], r.message->timestamp_ms(), hashes[i], static_cast<int64_t>(r.message->value().size()), cut, r.reason});
    }
    ledger_.record_intent(topic_, dlq_topic_, admin_.high_watermarks(dlq_topic_), intents);
    std::vector<KafkaDelivery> deliveries(rejections.size());
    for (const std::size_t i : to_send) produce(rejections[i], hashes[i], values[i], deliveries[i]);
    producer_.wait_for_deliveries();
    for (const std::size_t i : to_send) {
      if (!deliveries[i].too_large) continue;
      // Refused for its size even cut (a topic with a lower max.message.bytes): send the
      // record without any of the value, which always fits.
      const auto& r = rejections[i];
      spdlog::debug("kafka consume: dead letter for {} [{}] at {} refused ({}); sending it without the value",
                   r.message->topic(), r.message->partition(), r.message->offset(), deliveries[i].error);
      values[i] = dead_letter_value(r.reason, r.message->topic(), r.message->partition(), r.message->offset(),
                                    r.message->key(), r.message->value(), 0);
      truncated[i] = 1;
      produce(r, hashes[i], values[i], deliveries[i]);
    }
    producer_.wait_for_deliveries();
    std::vector<DeadLetterLedger::Delivered> delivered;
    for (const std::size_t i : to_send) {
      const auto& d = deliveries[i];
      if (!d.error.empty()) {
        throw ServiceError(fmt::format("Kafka: cannot dead-letter {} [{}] at {} to {}: {}", topic_, places[i].partition,
                                       places[i].offset, dlq_topic_, d.error));
      }
      delivered.push_back({places[i], d.partition, d.offset, truncated[i] != 0});
      sent[i] = true;
    }
    ledger_.record_delivered(topic_, delivered);
    return sent;
  }

 private:
  static ProducerOptions options() {
    ProducerOptions o;
    o.linger_ms = 5;
    return o;
  }

  void produce(const Rejection& r, const std::string& hash, const std::string& value, KafkaDelivery& delivery) {
    const auto key = r.message->key();
    producer_.produce(dlq_topic_, dead_letter_key(key.value_or(std::string_view{})), value,
                      {{"dlq.reason", r.reason},
                       {"dlq.original.topic", r.message->topic()},
                       {"dlq.original.partition", std::to_string(r.message->partition())},
                       {"dlq.original.offset", std::to_string(r.message->offset())},
                       {"dlq.original.sha256", hash},
                       {kDeadLetterAttemptHeader, std::to_string(message_attempt(*r.message))}},
                      delivery);
  }

  // Looks in the dead-letter topic for the unsure rejections; records those found as
  // delivered and returns the others (to be sent).
  std::vector<std::size_t> find_sent(const std::vector<std::size_t>& unsure,
                                     const std::vector<DeadLetterLedger::Place>& places,
                                     const std::vector<std::string>& hashes,
                                     const std::map<DeadLetterLedger::Place, DeadLetterLedger::Entry>& known) {
    std::vector<int64_t> from;
    std::map<DeadLetterLedger::Place, std::size_t> wanted;
    for (const std::size_t i : unsure) {
      lower_search_start(from, known.at(places[i]).search_from);
      wanted[places[i]] = i;
    }
    std::vector<DeadLetterLedger::Delivered> found;
    read_topic_range(kafka_, dlq_topic_, from, [&](const KafkaMessage& letter) {
      if (letter.header("dlq.original.topic") != topic_) return;
      const auto partition = letter.header("dlq.original.partition");
      const auto offset = letter.header("dlq.original.offset");
      if (!partition || !offset) return;
      DeadLetterLedger::Place place;
      try {
        place = {static_cast<int32_t>(std::stol(*partition)), std::stoll(*offset)};
      } catch (const std::exception&) {
        return;
      }
      const auto it = wanted.find(place);
      if (it == wanted.end() || letter.header("dlq.original.sha256") != hashes[it->second]) return;
      found.push_back({place, letter.partition(), letter.offset(), letter.value().find("\"value_truncated\":true") !=
                                                                       std::string_view::npos});
      wanted.erase(it);
    });
    ledger_.record_delivered(topic_, found);
    spdlog::debug("kafka consume: {} dead letter(s) of an interrupted run found in {}, {} to send", found.size(),
                 dlq_topic_, wanted.size());
    std::vector<std::size_t> rest;
    for (const auto& [place, i] : wanted) rest.push_back(i);
    return rest;
  }

  KafkaSettings kafka_;
  KafkaAdmin& admin_;
  std::string topic_, dlq_topic_;
  PgConnection db_;
  DeadLetterLedger ledger_;
  KafkaProducer producer_;
};

}  // namespace

PipelineTopics PipelineTopics::from(const Config& config, const std::string& topic_flag) {
  PipelineTopics topics;
  topics.topic = topic_flag.empty() ? config.value("KAFKA_TOPIC") : topic_flag;
  topics.dead_letters = config.value("KAFKA_DLQ_TOPIC");
  if (topics.dead_letters.empty()) topics.dead_letters = topics.topic + ".dlq";
  if (topics.dead_letters == topics.topic) {
    throw ConfigError(fmt::format("KAFKA_DLQ_TOPIC is the flights topic itself ({})", topics.topic));
  }
  topics.partitions = static_cast<int>(config.get_int("KAFKA_TOPIC_PARTITIONS"));
  topics.retention_ms = config.get_int("KAFKA_RETENTION_MS");
  return topics;
}

TopicCheck ensure_topics(KafkaAdmin& admin, const PipelineTopics& topics, bool apply_retention) {
  TopicCheck check;
  const std::string retention = std::to_string(topics.retention_ms);
  const std::map<std::string, std::string> configs{{"retention.ms", retention}};
  for (const auto& [name, partitions] : {std::pair{topics.topic, topics.partitions}, {topics.dead_letters, 1}}) {
    if (admin.ensure_topic({name, partitions, 1, configs})) {
      check.created.push_back(name);
      continue;
    }
    const int existing = admin.partition_count(name);
    if (name == topics.topic && existing != partitions) {
      // Partitions are not changed here: more would move keys to other partitions, fewer is impossible.
      check.differences.push_back(fmt::format("topic {} has {} partitions, KAFKA_TOPIC_PARTITIONS is {} (left as it is)",
                                              name, existing, partitions));
    }
    const auto config = admin.topic_config(name);
    const auto it = config.find("retention.ms");
    const std::string current = it == config.end() ? "?" : it->second;
    if (current == retention) continue;
    if (apply_retention) {
      admin.set_topic_config(name, "retention.ms", retention);
      check.changed.push_back(fmt::format("topic {}: retention.ms {} -> {}", name, current, retention));
    } else {
      check.differences.push_back(fmt::format(
          "topic {} has retention.ms={}, KAFKA_RETENTION_MS is {} (`datalab kafka topics --apply-retention` sets it)",
          name, current, retention));
    }
  }
  return check;
}

std::vector<PartitionLag> group_lag(KafkaAdmin& admin, const std::string& group, const std::string& topic) {
  const auto ends = admin.watermarks(topic);
  const auto committed = admin.committed_offsets(group, topic);
  std::vector<PartitionLag> out;
  for (std::size_t p = 0; p < ends.high.size(); ++p) {
    PartitionLag lag{static_cast<int32_t>(p), ends.low[p], ends.high[p], p < committed.size() ? committed[p] : -1, 0};
    // Nothing committed: everything kept is still to read; a commit below what retention
    // kept counts from the oldest kept.
    lag.lag = lag.end - std::max(lag.earliest, lag.committed);
    out.push_back(lag);
  }
  return out;
}

int64_t total_lag(const std::vector<PartitionLag>& partitions) {
  int64_t total = 0;
  for (const auto& p : partitions) total += p.lag;
  return total;
}

ProduceStats produce_flights(const PostgresSettings& postgres, const KafkaSettings& kafka, const ProduceOptions& options,
                             const std::atomic<bool>& stop) {
  const auto start = Clock::now();
  PgConnection db(postgres);
  FlightStore store(db);
  KafkaProducer producer(kafka, options.kafka);
  ProduceStats stats;
  std::string message;
  int64_t last_id = -1;  // ids start at 0
  FlightTextRow row;

  auto send_rows = [&](const PgResult& rows) {
    for (int r = 0; r < rows.rows(); ++r) {
      for (int c = 0; c < static_cast<int>(row.size()); ++c) {
        row[static_cast<std::size_t>(c)] =
            rows.is_null(r, c) ? std::nullopt : std::optional<std::string_view>(rows.value(r, c));
      }
      message.clear();
      append_flight_message(message, row);
      producer.produce(options.topic, *row[0], message);  // flight_id is the primary key: never NULL
      last_id = std::max<int64_t>(last_id, std::stoll(std::string(*row[0])));
      pace(options.rate, producer.queued(), start, stop);
      if (stop.load()) return false;
    }
    return true;
  };

  store.stream_flights(last_id, options.fetch_rows, send_rows);
  if (options.bad_messages && !stop.load()) {
    for (const auto& bad : injected_bad_messages()) producer.produce(options.topic, bad.key, bad.value);
  }
  while (options.follow && !stop.load()) {
    // New flights are picked up by id; wait a second between looks.
    for (int i = 0; i < 10 && !stop.load(); ++i) {
      producer.poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!stop.load()) store.stream_flights(last_id, options.fetch_rows, send_rows);
  }
  // Even when stopped, everything queued must be acknowledged before we report success.
  producer.wait_for_deliveries(options.kafka.delivery_timeout_ms + 10'000);
  stats.sent = producer.delivered();
  stats.stopped = stop.load();
  stats.seconds = seconds_since(start);
  return stats;
}

namespace {

enum class SessionEnd { Stopped, Drained, TimedOut };

// One connected stretch of consuming: connections to PostgreSQL and Kafka, batches until
// stopped or drained. Adds to `stats`; after each batch whose offsets were committed,
// `resume_from` (when set) holds where a new session must start and `progress` is stamped.
SessionEnd consume_session(const PostgresSettings& postgres, const KafkaSettings& kafka, const ConsumeOptions& options,
                           const std::atomic<bool>& stop, Clock::time_point start,
                           std::optional<std::vector<int64_t>>& resume_from, Clock::time_point& progress,
                           ConsumeStats& stats) {
  PgConnection db(postgres);
  FlightStore(db).create_tables();
  UploadSink sink(db);
  KafkaAdmin admin(kafka);
  const int partitions = admin.partition_count(options.topic);
  DeadLetterSender dead_letters(postgres, kafka, admin, options.topic, options.dead_letters);
  KafkaConsumer consumer(kafka, options.topic, partitions, {options.group, resume_from});

  // The database write (and then the offset commit) of one batch runs while the next
  // batch is fetched and validated; writes stay in order, one at a time.
  std::future<int64_t> pending_write;
  uint64_t pending_valid = 0;
  std::map<int32_t, int64_t> pending_offsets;
  auto finish_pending_write = [&] {
    if (!pending_write.valid()) return;
    const auto inserted = static_cast<uint64_t>(pending_write.get());
    stats.loaded += inserted;
    stats.already_loaded += pending_valid - inserted;
    if (resume_from) {
      for (const auto& [partition, next] : pending_offsets) {
        if (static_cast<std::size_t>(partition) >= resume_from->size()) resume_from->resize(partition + 1, 0);
        (*resume_from)[static_cast<std::size_t>(partition)] = next;
      }
    }
    progress = Clock::now();
  };
  // With a rate limit, smaller batches keep the pace smooth.
  const std::size_t batch_rows =
      options.rate > 0 ? std::max<std::size_t>(1, std::min<std::size_t>(options.batch_rows, options.rate / 10))
                       : options.batch_rows;
  SessionEnd end = SessionEnd::Stopped;
  try {
    while (!stop.load()) {
      auto batch = consumer.poll_batch(batch_rows, options.batch_wait_ms);
      if (!batch.empty()) {
        std::vector<UploadRow> rows;
        rows.reserve(batch.size());
        std::map<int32_t, int64_t> next_offsets;
        std::vector<Rejection> rejections;
        for (const auto& message : batch) {
          Verdict verdict = validate_flight_message(message.value());
          if (verdict.row) {
            rows.push_back(std::move(*verdict.row));
          } else {
            rejections.push_back({&message, std::move(verdict.reason)});
          }
          next_offsets[message.partition()] = message.offset() + 1;
        }
        // Order matters: dead letters acknowledged (and recorded), then rows committed, then
        // offsets. A crash in between only causes redelivery, which the flight_id key and
        // kafka_pipeline.dead_letters absorb.
        uint64_t rejected = 0;
        if (!rejections.empty()) {
          const auto sent = dead_letters.send(rejections);
          for (std::size_t i = 0; i < rejections.size(); ++i) {
            if (sent[i]) {
              ++stats.reasons[rejections[i].reason];
              ++rejected;
            } else {
              ++stats.already_dead_lettered;
            }
          }
        }
        finish_pending_write();
        pending_valid = rows.size();
        pending_offsets = next_offsets;
        pending_write = std::async(std::launch::async, [&sink, &consumer, rows = std::move(rows),
                                                        next_offsets = std::move(next_offsets)] {
          const int64_t inserted = sink.write(rows);
          consumer.commit(next_offsets);
          return inserted;
        });
        stats.received += batch.size();
        stats.dead_lettered += rejected;
        spdlog::debug("kafka consume: batch of {} ({} dead-lettered)", batch.size(), rejected);
        pace(options.rate, stats.received, start, stop);
      }
      if (options.until_drained && batch.size() < batch_rows && options.producer_done() && consumer.drained()) {
        end = SessionEnd::Drained;
        break;
      }
      if (options.until_drained && options.timeout_seconds > 0 && seconds_since(start) > options.timeout_seconds) {
        end = SessionEnd::TimedOut;
        break;
      }
    }
    finish_pending_write();
  } catch (...) {
    // Never leave the writer thread running on a connection that is about to go away; a
    // write that did commit still counts (its offsets were committed too).
    try {
      finish_pending_write();
    } catch (...) {
    }
    throw;
  }
  consumer.close();
  return end;
}

}  // namespace

ConsumeStats consume_flights(const PostgresSettings& postgres, const KafkaSettings& kafka,
                             const ConsumeOptions& options, const std::atomic<bool>& stop) {
  const auto start = Clock::now();
  ConsumeStats stats;
  std::optional<std::vector<int64_t>> resume_from = options.start_offsets;
  auto progress = start;
  std::optional<Clock::time_point> failing_since;
  double backoff_seconds = 0.5;
  SessionEnd end = SessionEnd::Stopped;
  while (true) {
    try {
      end = consume_session(postgres, kafka, options, stop, start, resume_from, progress, stats);
      break;
    } catch (const ServiceError& e) {
      // A service failing is not a bad message: nothing was dead-lettered for it and nothing
      // committed past the last good batch, so a new session goes on from there.
      if (stop.load() || options.retry_seconds <= 0) throw;
      if (!failing_since || progress > *failing_since) {
        failing_since = Clock::now();
        backoff_seconds = 0.5;
      }
      const double failing = seconds_since(*failing_since);
      if (failing + backoff_seconds > options.retry_seconds) {
        throw ServiceError(fmt::format("{} (still failing after {:.0f} s of retries)", e.what(), failing),
                           e.unreachable_service());
      }
      spdlog::warn("kafka consume: {}; pausing {:.1f} s, then going on from the last committed batch", e.what(),
                   backoff_seconds);
      const auto resume_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(backoff_seconds));
      while (Clock::now() < resume_at && !stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      backoff_seconds = std::min(backoff_seconds * 2, 30.0);
      ++stats.retries;
      if (stop.load()) break;
    }
  }
  if (end == SessionEnd::TimedOut) {
    throw ServiceError(fmt::format("topic {} not drained after {:.0f} s ({} messages consumed)", options.topic,
                                   options.timeout_seconds, stats.received));
  }
  stats.drained = end == SessionEnd::Drained;
  stats.seconds = seconds_since(start);
  return stats;
}

}  // namespace datalab::kafka_pipeline
