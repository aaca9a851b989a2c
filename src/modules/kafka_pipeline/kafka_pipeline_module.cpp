#include "modules/kafka_pipeline/kafka_pipeline_module.h"

#include <chrono>
#include <exception>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/stopwatch.h"
#include "core/error.h"
#include "core/progress.h"
#include "modules/kafka_pipeline/flight_store.h"
#include "core/stop_signal.h"

namespace datalab::kafka_pipeline {

namespace {

using Clock = std::chrono::steady_clock;

std::string rate(uint64_t count, double seconds) {
  return seconds > 0 ? with_thousands(static_cast<uint64_t>(count / seconds)) : "-";
}

// Creates the tables and fills flights when empty (or when asked to replace them).
int64_t prepare_flights(PgConnection& db, const FlightSource& source, Report& report) {
  FlightStore store(db);
  store.create_tables();
  const int64_t existing = store.count("flights");
  if (existing > 0 && !source.reload && source.csv.empty()) return existing;
  if (!source.csv.empty()) {
    const int64_t rows = store.load_csv(source.csv);
    report.note(fmt::format("kafka_pipeline.flights: {} rows loaded from {}", rows, source.csv));
    return rows;
  }
  const int64_t rows = store.load_generated(FlightGenerator(source.seed), source.flights);
  report.note(fmt::format("kafka_pipeline.flights: {} generated flights (seed {})", rows, source.seed));
  return rows;
}

void add_source_flags(CLI::App& command, FlightSource& source) {
  command.add_option("--flights", source.flights, "flights to generate when the table is empty (or --reload)")
      ->capture_default_str();
  command.add_option("--seed", source.seed, "random seed of generated flights")->capture_default_str();
  command.add_option("--csv", source.csv, "load flights from this CSV (header names flights columns) instead");
  command.add_flag("--reload", source.reload, "replace the flights even when the table has rows");
}

void report_dead_letters(Report& report, const ConsumeStats& stats, const std::string& dlq_topic) {
  if (stats.reasons.empty()) return;
  ResultTable table{{"reason", "messages"}, {ValueKind::Text, ValueKind::Number}, {}};
  for (const auto& [reason, count] : stats.reasons) table.add_row({reason, std::to_string(count)});
  report.table("dead-lettered to " + dlq_topic, table);
}

}  // namespace

void KafkaPipelineModule::add_run_flags(CLI::App& command) {
  add_source_flags(command, source_);
  command.add_option("--topic", produce_.topic, "topic (its dead-letter topic is <topic>.dlq)")->capture_default_str();
  command.add_option("--group", consume_.group, "consumer group")->capture_default_str();
  command.add_option("--batch-rows", consume_.batch_rows, "messages per consumer batch (one transaction)")
      ->capture_default_str();
  command.add_flag("!--no-bad-messages", inject_bad_messages_,
                   "do not inject the bad messages that demonstrate the dead-letter topic");
  command.add_option("--timeout", timeout_seconds_, "fail when the topic is not drained after this many seconds")
      ->capture_default_str();
}

void KafkaPipelineModule::run(AppContext& context) {
  Report report(context.format);
  const auto postgres = PostgresSettings::from(context.config);
  const auto kafka = KafkaSettings::from(context.config);
  PgConnection db(postgres);
  report.note(fmt::format("kafka_pipeline: PostgreSQL {} -> Kafka {} topic {} -> PostgreSQL", postgres.describe(),
                          kafka.bootstrap_servers, produce_.topic));
  const int64_t flights = prepare_flights(db, source_, report);
  // Every run loads flights_upload afresh, so reruns end in the same state.
  FlightStore(db).truncate_upload();

  KafkaAdmin admin(kafka);
  for (const auto& topic : ensure_topics(admin, produce_.topic)) {
    report.note(fmt::format("created topic {} (retention {} ms)", topic, kRetentionMs));
  }
  // The run reads exactly what it sends: from the current end of the topic on.
  ConsumeOptions consume = consume_;
  consume.topic = produce_.topic;
  consume.start_offsets = admin.high_watermarks(produce_.topic);
  consume.until_drained = true;
  consume.timeout_seconds = timeout_seconds_;
  ProduceOptions produce = produce_;
  produce.bad_messages = inject_bad_messages_;

  std::atomic<bool> producer_done{false}, stop{false};
  consume.producer_done = [&] { return producer_done.load(); };
  ProduceStats sent;
  std::exception_ptr producer_error;
  const auto start = Clock::now();
  std::thread producer([&] {
    try {
      sent = produce_flights(postgres, kafka, produce, stop);
    } catch (...) {
      producer_error = std::current_exception();
      stop.store(true);  // the consumer stops too: the run has failed
    }
    producer_done.store(true);
  });
  ConsumeStats received;
  try {
    received = consume_flights(postgres, kafka, consume, stop);
  } catch (...) {
    stop.store(true);
    producer.join();
    throw;
  }
  producer.join();
  if (producer_error) std::rethrow_exception(producer_error);
  const double seconds = seconds_since(start);

  const int64_t upload_rows = FlightStore(db).count("flights_upload");
  const bool balanced = sent.sent == received.loaded + received.already_loaded + received.dead_lettered +
                                         received.already_dead_lettered;
  report.summary("kafka_pipeline summary",
                 {{"flights", std::to_string(flights)},
                  {"sent", std::to_string(sent.sent)},
                  {"loaded", std::to_string(received.loaded)},
                  {"already_loaded", std::to_string(received.already_loaded)},
                  {"dead_lettered", std::to_string(received.dead_lettered)},
                  {"already_dead_lettered", std::to_string(received.already_dead_lettered)},
                  {"flights_upload_rows", std::to_string(upload_rows)},
                  {"nothing_lost", balanced ? "yes" : "no"},
                  {"producer_messages_per_second", rate(sent.sent, sent.seconds)},
                  {"consumer_messages_per_second", rate(received.received, received.seconds)},
                  {"end_to_end_messages_per_second", rate(sent.sent, seconds)},
                  {"seconds", fmt::format("{:.2f}", seconds)}});
  report_dead_letters(report, received, dead_letter_topic(produce_.topic));
  report.finish();
  if (!balanced) {
    throw ServiceError(fmt::format("sent {} but loaded {} + already loaded {} + dead-lettered {} + already "
                                   "dead-lettered {}",
                                   sent.sent, received.loaded, received.already_loaded, received.dead_lettered,
                                   received.already_dead_lettered));
  }
}

void KafkaPipelineModule::add_commands(CLI::App& root, AppContext& context) {
  auto* kafka_command = root.add_subcommand("kafka", "the kafka_pipeline ends on their own: produce, consume, topics");
  kafka_command->require_subcommand(1);

  auto* produce = kafka_command->add_subcommand(
      "produce", "send kafka_pipeline.flights to the topic (stops cleanly on SIGINT/SIGTERM)");
  add_source_flags(*produce, cmd_source_);
  produce->add_option("--topic", cmd_produce_.topic, "topic")->capture_default_str();
  produce->add_option("--rate", cmd_produce_.rate, "messages per second (0: as fast as possible)")
      ->capture_default_str();
  produce->add_flag("--follow", cmd_produce_.follow, "keep running and send flights added later");
  produce->add_flag("--bad-messages", cmd_produce_.bad_messages, "also send one bad message of each kind");
  produce->add_option("--linger-ms", cmd_produce_.kafka.linger_ms, "producer linger.ms")->capture_default_str();
  produce->add_option("--compression", cmd_produce_.kafka.compression, "none | gzip | snappy | lz4 | zstd")
      ->capture_default_str();
  produce->callback([this, &context] {
    const auto& stop = stop_on_signals();
    Report report(context.format);
    const auto kafka = KafkaSettings::from(context.config);
    const auto postgres = PostgresSettings::from(context.config);
    {
      PgConnection db(postgres);
      prepare_flights(db, cmd_source_, report);
    }
    KafkaAdmin admin(kafka);
    ensure_topics(admin, cmd_produce_.topic);
    const auto stats = produce_flights(postgres, kafka, cmd_produce_, stop);
    report.summary("kafka produce", {{"topic", cmd_produce_.topic},
                                     {"sent", std::to_string(stats.sent)},
                                     {"seconds", fmt::format("{:.2f}", stats.seconds)},
                                     {"messages_per_second", rate(stats.sent, stats.seconds)},
                                     {"stopped_by_signal", stats.stopped ? "yes" : "no"}});
    report.finish();
  });

  auto* consume = kafka_command->add_subcommand(
      "consume", "validate messages into flights_upload or the dead-letter topic (stops cleanly on SIGINT/SIGTERM)");
  consume->add_option("--topic", cmd_consume_.topic, "topic (dead letters go to <topic>.dlq)")->capture_default_str();
  consume->add_option("--group", cmd_consume_.group, "consumer group")->capture_default_str();
  consume->add_option("--batch-rows", cmd_consume_.batch_rows, "messages per batch (one transaction)")
      ->capture_default_str();
  consume->add_option("--rate", cmd_consume_.rate, "messages per second (0: as fast as possible)")
      ->capture_default_str();
  consume->add_flag("--until-drained", cmd_consume_.until_drained,
                    "stop once every partition is read up to its high watermark");
  consume->callback([this, &context] {
    const auto& stop = stop_on_signals();
    const auto kafka = KafkaSettings::from(context.config);
    KafkaAdmin admin(kafka);
    ensure_topics(admin, cmd_consume_.topic);
    const auto stats = consume_flights(PostgresSettings::from(context.config), kafka, cmd_consume_, stop);
    Report report(context.format);
    report.summary("kafka consume", {{"topic", cmd_consume_.topic},
                                     {"group", cmd_consume_.group},
                                     {"received", std::to_string(stats.received)},
                                     {"loaded", std::to_string(stats.loaded)},
                                     {"already_loaded", std::to_string(stats.already_loaded)},
                                     {"dead_lettered", std::to_string(stats.dead_lettered)},
                                     {"already_dead_lettered", std::to_string(stats.already_dead_lettered)},
                                     {"seconds", fmt::format("{:.2f}", stats.seconds)},
                                     {"messages_per_second", rate(stats.received, stats.seconds)},
                                     {"drained", stats.drained ? "yes" : "no"}});
    report_dead_letters(report, stats, dead_letter_topic(cmd_consume_.topic));
    report.finish();
  });

  auto* topics = kafka_command->add_subcommand("topics", "create the topics when missing and show their offsets");
  topics->add_option("--topic", cmd_topic_, "topic")->capture_default_str();
  topics->callback([this, &context] {
    KafkaAdmin admin(KafkaSettings::from(context.config));
    const auto created = ensure_topics(admin, cmd_topic_);
    ResultTable table{{"topic", "partition", "high_watermark", "created_now"},
                      {ValueKind::Text, ValueKind::Number, ValueKind::Number, ValueKind::Bool}, {}};
    for (const auto& topic : {cmd_topic_, dead_letter_topic(cmd_topic_)}) {
      const auto highs = admin.high_watermarks(topic);
      const bool now = std::find(created.begin(), created.end(), topic) != created.end();
      for (std::size_t p = 0; p < highs.size(); ++p) {
        table.add_row({topic, std::to_string(p), std::to_string(highs[p]), now ? "true" : "false"});
      }
    }
    Report report(context.format);
    report.table("kafka topics", table);
    report.finish();
  });
}

std::unique_ptr<Module> make_module() { return std::make_unique<KafkaPipelineModule>(); }

}  // namespace datalab::kafka_pipeline
