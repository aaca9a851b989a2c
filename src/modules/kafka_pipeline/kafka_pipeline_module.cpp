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

// Notes what ensure_topics created, changed and found different from the settings.
void report_topics(Report& report, const TopicCheck& check, const PipelineTopics& topics) {
  for (const auto& topic : check.created) {
    report.note(fmt::format("created topic {} (retention {} ms)", topic, topics.retention_ms));
  }
  for (const auto& change : check.changed) report.note(change);
  for (const auto& difference : check.differences) {
    spdlog::warn("{}", difference);
    report.note(difference);
  }
}

// The group's lag at the end of a run, for its summary: the rows are stored whatever the
// broker answers here, so a broker that cannot tell (its group coordinator still loading)
// gives "unknown" and a warning rather than failing the run.
std::string lag_at_end(KafkaAdmin& admin, const std::string& group, const std::string& topic) {
  try {
    return std::to_string(total_lag(group_lag(admin, group, topic)));
  } catch (const ServiceError& e) {
    spdlog::warn("kafka: the lag of group {} on {} is unknown: {}", group, topic, e.what());
    return "unknown";
  }
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
  command.add_option("--topic", produce_.topic, "topic (default KAFKA_TOPIC; dead letters go to KAFKA_DLQ_TOPIC or <topic>.dlq)");
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
  const auto topics = PipelineTopics::from(context.config, produce_.topic);
  PgConnection db(postgres);
  report.note(fmt::format("kafka_pipeline: PostgreSQL {} -> Kafka {} topic {} -> PostgreSQL", postgres.describe(),
                          kafka.bootstrap_servers, topics.topic));
  const int64_t flights = prepare_flights(db, source_, report);
  // Every run loads flights_upload afresh, so reruns end in the same state.
  FlightStore(db).truncate_upload();

  KafkaAdmin admin(kafka);
  report_topics(report, ensure_topics(admin, topics), topics);
  // The run reads exactly what it sends: from the current end of the topic on.
  ConsumeOptions consume = consume_;
  consume.topic = topics.topic;
  consume.dead_letters = topics.dead_letters;
  consume.start_offsets = admin.high_watermarks(topics.topic);
  consume.until_drained = true;
  consume.timeout_seconds = timeout_seconds_;
  ProduceOptions produce = produce_;
  produce.topic = topics.topic;
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
                  {"lag_at_end", lag_at_end(admin, consume.group, topics.topic)},
                  {"service_retries", std::to_string(received.retries)},
                  {"producer_messages_per_second", rate(sent.sent, sent.seconds)},
                  {"consumer_messages_per_second", rate(received.received, received.seconds)},
                  {"end_to_end_messages_per_second", rate(sent.sent, seconds)},
                  {"seconds", fmt::format("{:.2f}", seconds)}});
  report_dead_letters(report, received, topics.dead_letters);
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
  produce->add_option("--topic", cmd_produce_.topic, "topic (default KAFKA_TOPIC)");
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
    const auto topics = PipelineTopics::from(context.config, cmd_produce_.topic);
    KafkaAdmin admin(kafka);
    report_topics(report, ensure_topics(admin, topics), topics);
    ProduceOptions options = cmd_produce_;
    options.topic = topics.topic;
    const auto stats = produce_flights(postgres, kafka, options, stop);
    report.summary("kafka produce", {{"topic", topics.topic},
                                     {"sent", std::to_string(stats.sent)},
                                     {"seconds", fmt::format("{:.2f}", stats.seconds)},
                                     {"messages_per_second", rate(stats.sent, stats.seconds)},
                                     {"stopped_by_signal", stats.stopped ? "yes" : "no"}});
    report.finish();
  });

  auto* consume = kafka_command->add_subcommand(
      "consume", "validate messages into flights_upload or the dead-letter topic (stops cleanly on SIGINT/SIGTERM)");
  consume->add_option("--topic", cmd_consume_.topic,
                      "topic (default KAFKA_TOPIC; dead letters go to KAFKA_DLQ_TOPIC or <topic>.dlq)");
  consume->add_option("--group", cmd_consume_.group, "consumer group")->capture_default_str();
  consume->add_option("--batch-rows", cmd_consume_.batch_rows, "messages per batch (one transaction)")
      ->capture_default_str();
  consume->add_option("--rate", cmd_consume_.rate, "messages per second (0: as fast as possible)")
      ->capture_default_str();
  consume->add_flag("--until-drained", cmd_consume_.until_drained,
                    "stop once every partition is read up to its high watermark");
  consume->add_option("--retry-seconds", cmd_consume_.retry_seconds,
                      "when PostgreSQL or the broker fails, pause and retry (backing off) this long before giving up "
                      "(0: fail at once)")
      ->capture_default_str();
  consume->callback([this, &context] {
    const auto& stop = stop_on_signals();
    const auto kafka = KafkaSettings::from(context.config);
    const auto topics = PipelineTopics::from(context.config, cmd_consume_.topic);
    Report report(context.format);
    KafkaAdmin admin(kafka);
    report_topics(report, ensure_topics(admin, topics), topics);
    ConsumeOptions options = cmd_consume_;
    options.topic = topics.topic;
    options.dead_letters = topics.dead_letters;
    const auto stats = consume_flights(PostgresSettings::from(context.config), kafka, options, stop);
    report.summary("kafka consume", {{"topic", topics.topic},
                                     {"group", cmd_consume_.group},
                                     {"received", std::to_string(stats.received)},
                                     {"loaded", std::to_string(stats.loaded)},
                                     {"already_loaded", std::to_string(stats.already_loaded)},
                                     {"dead_lettered", std::to_string(stats.dead_lettered)},
                                     {"already_dead_lettered", std::to_string(stats.already_dead_lettered)},
                                     {"seconds", fmt::format("{:.2f}", stats.seconds)},
                                     {"messages_per_second", rate(stats.received, stats.seconds)},
                                     {"drained", stats.drained ? "yes" : "no"},
                                     {"lag_at_end", lag_at_end(admin, options.group, topics.topic)},
                                     {"service_retries", std::to_string(stats.retries)}});
    report_dead_letters(report, stats, topics.dead_letters);
    report.finish();
  });

  auto* topics = kafka_command->add_subcommand(
      "topics", "create the topics when missing; show offsets, the group's committed offsets and lag");
  topics->add_option("--topic", cmd_topic_, "topic (default KAFKA_TOPIC)");
  topics->add_option("--group", cmd_group_, "consumer group whose offsets and lag to show")->capture_default_str();
  topics->add_flag("--apply-retention", cmd_apply_retention_,
                   "set retention.ms of an existing topic to KAFKA_RETENTION_MS (its other settings are kept)");
  topics->callback([this, &context] {
    Report report(context.format);
    const auto settings = PipelineTopics::from(context.config, cmd_topic_);
    KafkaAdmin admin(KafkaSettings::from(context.config));
    const auto check = ensure_topics(admin, settings, cmd_apply_retention_);
    report_topics(report, check, settings);
    ResultTable table{{"topic", "partition", "earliest", "end", "committed", "lag", "retention_ms"},
                      {ValueKind::Text, ValueKind::Number, ValueKind::Number, ValueKind::Number, ValueKind::Number,
                       ValueKind::Number, ValueKind::Number},
                      {}};
    for (const auto& topic : {settings.topic, settings.dead_letters}) {
      const auto config = admin.topic_config(topic);
      const auto retention = config.count("retention.ms") ? std::optional(config.at("retention.ms")) : std::nullopt;
      if (topic == settings.topic) {
        for (const auto& p : group_lag(admin, cmd_group_, topic)) {
          table.add_row({topic, std::to_string(p.partition), std::to_string(p.earliest), std::to_string(p.end),
                         p.committed >= 0 ? std::optional(std::to_string(p.committed)) : std::nullopt,
                         std::to_string(p.lag), retention});
        }
        continue;
      }
      // The dead-letter topic is read by people (dlq show), not by the group: no lag.
      const auto ends = admin.watermarks(topic);
      for (std::size_t p = 0; p < ends.high.size(); ++p) {
        table.add_row({topic, std::to_string(p), std::to_string(ends.low[p]), std::to_string(ends.high[p]),
                       std::nullopt, std::nullopt, retention});
      }
    }
    report.table(fmt::format("kafka topics (group {})", cmd_group_), table);
    report.finish();
  });

  auto* dlq = kafka_command->add_subcommand("dlq", "the dead-letter topic: stats, show, replay");
  dlq->require_subcommand(1);
  auto* stats = dlq->add_subcommand("stats", "dead letters kept in the topic: count, oldest, newest");
  stats->add_option("--topic", cmd_topic_, "flights topic whose dead letters to read (default KAFKA_TOPIC)");
  stats->add_option("--by", dlq_by_, "group by reason | attempt | topic");
  stats->callback([this, &context] {
    const auto settings = PipelineTopics::from(context.config, cmd_topic_);
    Report report(context.format);
    report.table("dead letters in " + settings.dead_letters,
                 dead_letter_stats(KafkaSettings::from(context.config), settings.dead_letters,
                                   parse_dead_letter_grouping(dlq_by_)));
    report.finish();
  });
  auto* show = dlq->add_subcommand("show", "dead letters, oldest first, with the original message");
  show->add_option("--topic", cmd_topic_, "flights topic whose dead letters to read (default KAFKA_TOPIC)");
  show->add_option("--reason", dlq_reason_, "only dead letters whose reason contains this text");
  show->add_option("--limit", dlq_limit_, "show at most this many (0: all)")->capture_default_str();
  show->callback([this, &context] {
    const auto settings = PipelineTopics::from(context.config, cmd_topic_);
    Report report(context.format);
    report.table("dead letters in " + settings.dead_letters,
                 show_dead_letters(KafkaSettings::from(context.config), settings.dead_letters, dlq_reason_, dlq_limit_));
    report.finish();
  });
  auto* replay = dlq->add_subcommand(
      "replay", "send dead letters back to their topic (attempt count in header datalab.attempt), each once");
  replay->add_option("--topic", cmd_topic_, "flights topic whose dead letters to replay (default KAFKA_TOPIC)");
  replay->add_option("--reason", replay_.reason, "only dead letters whose reason contains this text");
  replay->add_option("--max-attempts", replay_.max_attempts,
                     "a message that failed on this attempt stays dead (the first delivery is attempt 1)")
      ->capture_default_str();
  replay->add_flag("--dry-run", replay_.dry_run, "count what would be replayed, send nothing");
  replay->callback([this, &context] {
    const auto settings = PipelineTopics::from(context.config, cmd_topic_);
    const auto result = replay_dead_letters(PostgresSettings::from(context.config), KafkaSettings::from(context.config),
                                            settings.dead_letters, replay_);
    Report report(context.format);
    std::vector<std::pair<std::string, std::string>> items{
        {"dead_letter_topic", settings.dead_letters},
        {"matched", std::to_string(result.matched)},
        {replay_.dry_run ? "would_replay" : "replayed", std::to_string(result.replayed)},
        {"already_replayed", std::to_string(result.already_replayed)},
        {"kept_dead", std::to_string(result.kept_dead)},
        {"unavailable", std::to_string(result.unavailable)},
        {"unreadable", std::to_string(result.unreadable)}};
    for (const auto& [topic, count] : result.replayed_to) items.emplace_back("to " + topic, std::to_string(count));
    report.summary("kafka dlq replay", items);
    report.finish();
  });
}

ModuleFootprint KafkaPipelineModule::footprint(const Config& config) const {
  const auto topics = PipelineTopics::from(config);
  return {{"kafka_pipeline"}, {}, {}, {topics.topic, topics.dead_letters}, {}};
}

std::unique_ptr<Module> make_module() { return std::make_unique<KafkaPipelineModule>(); }

}  // namespace datalab::kafka_pipeline
