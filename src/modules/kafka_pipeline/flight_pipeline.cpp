#include "modules/kafka_pipeline/flight_pipeline.h"

#include <chrono>
#include <future>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/stopwatch.h"
#include "core/error.h"
#include "modules/kafka_pipeline/bad_messages.h"
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

}  // namespace

std::vector<std::string> ensure_topics(KafkaAdmin& admin, const std::string& topic) {
  std::vector<std::string> created;
  const std::map<std::string, std::string> retention{{"retention.ms", kRetentionMs}};
  if (admin.ensure_topic({topic, kTopicPartitions, 1, retention})) created.push_back(topic);
  if (admin.ensure_topic({dead_letter_topic(topic), 1, 1, retention})) created.push_back(dead_letter_topic(topic));
  return created;
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

ConsumeStats consume_flights(const PostgresSettings& postgres, const KafkaSettings& kafka,
                             const ConsumeOptions& options, const std::atomic<bool>& stop) {
  const auto start = Clock::now();
  PgConnection db(postgres);
  FlightStore(db).create_tables();
  UploadSink sink(db);
  KafkaAdmin admin(kafka);
  const int partitions = admin.partition_count(options.topic);
  const std::string dlq_topic = dead_letter_topic(options.topic);
  ProducerOptions dead_letter_options;
  dead_letter_options.linger_ms = 5;
  KafkaProducer dead_letters(kafka, dead_letter_options);
  KafkaConsumer consumer(kafka, options.topic, partitions, {options.group, options.start_offsets});

  ConsumeStats stats;
  // The database write (and then the offset commit) of one batch runs while the next
  // batch is fetched and validated; writes stay in order, one at a time.
  std::future<int64_t> pending_write;
  uint64_t pending_valid = 0;
  auto finish_pending_write = [&] {
    if (!pending_write.valid()) return;
    const auto inserted = static_cast<uint64_t>(pending_write.get());
    stats.loaded += inserted;
    stats.already_loaded += pending_valid - inserted;
  };
  // With a rate limit, smaller batches keep the pace smooth.
  const std::size_t batch_rows =
      options.rate > 0 ? std::max<std::size_t>(1, std::min<std::size_t>(options.batch_rows, options.rate / 10))
                       : options.batch_rows;
  try {
    while (!stop.load()) {
      auto batch = consumer.poll_batch(batch_rows, options.batch_wait_ms);
      if (!batch.empty()) {
        std::vector<UploadRow> rows;
        rows.reserve(batch.size());
        std::map<int32_t, int64_t> next_offsets;
        uint64_t rejected = 0;
        for (const auto& message : batch) {
          Verdict verdict = validate_flight_message(message.value());
          if (verdict.row) {
            rows.push_back(std::move(*verdict.row));
          } else {
            const auto key = message.key();
            dead_letters.produce(dlq_topic, key.value_or(std::string_view{}),
                                 dead_letter_value(verdict.reason, message.topic(), message.partition(),
                                                   message.offset(), key, message.value()),
                                 {{"dlq.reason", verdict.reason},
                                  {"dlq.original.topic", message.topic()},
                                  {"dlq.original.partition", std::to_string(message.partition())},
                                  {"dlq.original.offset", std::to_string(message.offset())}});
            ++stats.reasons[verdict.reason];
            ++rejected;
          }
          next_offsets[message.partition()] = message.offset() + 1;
        }
        // Order matters: dead letters acknowledged, then rows committed, then offsets.
        // A crash in between only causes redelivery, which the flight_id key absorbs.
        if (rejected) dead_letters.wait_for_deliveries();
        finish_pending_write();
        pending_valid = rows.size();
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
        stats.drained = true;
        break;
      }
      if (options.until_drained && options.timeout_seconds > 0 && seconds_since(start) > options.timeout_seconds) {
        throw ServiceError(fmt::format("topic {} not drained after {:.0f} s ({} messages consumed)", options.topic,
                                       options.timeout_seconds, stats.received));
      }
    }
    finish_pending_write();
  } catch (...) {
    // Never leave the writer thread running on a connection that is about to go away.
    if (pending_write.valid()) pending_write.wait();
    throw;
  }
  consumer.close();
  stats.seconds = seconds_since(start);
  return stats;
}

}  // namespace datalab::kafka_pipeline
