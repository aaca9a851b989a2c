#include "transfer/cdc/cdc_command.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/progress.h"
#include "core/stop_signal.h"
#include "transfer/cdc/cdc_source.h"
#include "transfer/cdc/cdc_stream.h"
#include "transfer/cdc/kafka_change_sink.h"
#include "transfer/cdc/postgres_change_sink.h"
#include "transfer/endpoint.h"

namespace datalab::cdc {

namespace {

struct Arguments {
  std::string source, target, max_lag;
  bool until_caught_up = false, drop_over_limit = false;
  int flush_interval_ms = 500;
  int retry_seconds = 5;
};

std::unique_ptr<ChangeSink> make_sink(const std::string& target_text, const CdcSource& source, const Config& config) {
  const transfer::Endpoint target = transfer::parse_endpoint(target_text, config);
  switch (target.kind) {
    case transfer::EndpointKind::kafka:
      return std::make_unique<KafkaChangeSink>(target, config, source.stream_id(), source.slot, source.db.database);
    case transfer::EndpointKind::postgres: return std::make_unique<PostgresChangeSink>(target, source.stream_id(), source.publication, source.slot);
    default:
      throw ConfigError(fmt::format("'{}': changes go to Kafka (kafka://host:port/prefix) or PostgreSQL tables "
                                    "(postgres://…[?schema=name]) for now",
                                    target.masked));
  }
}

std::string bytes_text(int64_t bytes) { return human_bytes(static_cast<uint64_t>(std::max<int64_t>(bytes, 0))); }

// "512MB", "2GB", "1048576": a byte count (binary units).
int64_t parse_bytes(const std::string& text) {
  std::size_t used = 0;
  double number = 0;
  try {
    number = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::vector<std::pair<std::string, int64_t>> units = {
      {"", 1}, {"B", 1}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", int64_t{1} << 30}, {"TB", int64_t{1} << 40}};
  for (const auto& [name, factor] : units) {
    if (used > 0 && number >= 0 && unit == name) return static_cast<int64_t>(number * static_cast<double>(factor));
  }
  throw ConfigError(fmt::format("--max-lag {}: expected a size such as 512MB or 2GB", text));
}

// Waits `seconds` unless a stop is asked for meanwhile; false then.
bool wait_unless_stopped(int seconds, const std::atomic<bool>& stop) {
  for (int waited = 0; waited < seconds * 10; ++waited) {
    if (stop.load()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return !stop.load();
}

// While a stream cannot store (its target or broker down), its slot holds ever more WAL:
// over --max-lag it warns, and with --drop-over-limit drops the slot and gives up.
void check_slot_limit(const Arguments& args, const CdcSource& source) {
  if (args.max_lag.empty()) return;
  const int64_t limit = parse_bytes(args.max_lag);
  SlotStatus slot;
  try {
    slot = slot_status(source);
  } catch (const ServiceError&) {
    return;  // the server itself is down: it writes no WAL meanwhile
  }
  if (!slot.exists || slot.retained_bytes <= limit) return;
  spdlog::warn("cdc: slot {} retains {} of WAL, over the limit of {}", source.slot, human_bytes(slot.retained_bytes),
               human_bytes(limit));
  if (args.drop_over_limit) {
    drop_slot_and_publication(source);
    throw Error(fmt::format("slot {} retained more WAL than --max-lag {} while the stream could not store: dropped "
                            "it (and the publication); the next run takes a new snapshot",
                            source.slot, args.max_lag));
  }
}

// A new sink for a resumed stream; while its service is still down, tries again every
// --retry-seconds. nullptr when a stop was asked for meanwhile.
std::unique_ptr<ChangeSink> connect_with_retries(const Arguments& args, const CdcSource& source, const Config& config,
                                                 const std::atomic<bool>& stop) {
  for (;;) {
    try {
      return make_sink(args.target, source, config);
    } catch (const ServiceError& e) {
      spdlog::warn("cdc: {}; trying again in {} s", e.what(), args.retry_seconds);
    }
    check_slot_limit(args, source);
    if (!wait_unless_stopped(args.retry_seconds, stop)) return nullptr;
  }
}

void run(const Arguments& args, AppContext& context) {
  const CdcSource source = cdc_source_of(transfer::parse_endpoint(args.source, context.config));
  if (!args.max_lag.empty()) parse_bytes(args.max_lag);  // a bad size is refused before anything runs
  auto sink = make_sink(args.target, source, context.config);
  const std::string target = sink->describe();
  StreamOptions options;
  options.until_caught_up = args.until_caught_up;
  options.flush_interval_ms = args.flush_interval_ms;
  options.stop = &stop_on_signals();
  options.progress = !args.until_caught_up;
  if (!args.until_caught_up) spdlog::info("cdc: streaming {} into {} (Ctrl-C stops)", source.masked, target);
  StreamResult result;
  for (;;) {
    try {
      run_stream(source, *sink, options, result);
      break;
    } catch (const ServiceError& e) {
      // A batch run reports the failure; a long-running stream outlives a restart of its
      // server, broker or target: it resumes from the position the target holds.
      if (args.until_caught_up || options.stop->load()) throw;
      ++result.restarts;
      spdlog::warn("cdc: {}; resuming in {} s from the position stored at the target", e.what(), args.retry_seconds);
      sink.reset();  // its connection or producer may be broken: a new one
      check_slot_limit(args, source);
      if (!wait_unless_stopped(args.retry_seconds, *options.stop)) break;
      sink = connect_with_retries(args, source, context.config, *options.stop);
      if (!sink) break;
    }
  }
  Report report(context.format);
  report.summary("cdc run", {
      {"source", source.masked},
      {"target", target},
      {"slot", source.slot},
      {"snapshot taken", result.snapshot ? "yes" : "no"},
      {"snapshot rows", std::to_string(result.snapshot_rows)},
      {"changes", std::to_string(result.changes)},
      {"transactions", std::to_string(result.transactions)},
      {"transactions already stored (skipped)", std::to_string(result.skipped_transactions)},
      {"position before", lsn_text(result.started_at)},
      {"position after", lsn_text(result.stored_at)},
      {"seconds", fmt::format("{:.3f}", result.seconds)},
      {"restarts", std::to_string(result.restarts)},
      {"changes/s", result.seconds > 0 ? human_rate((result.changes + result.snapshot_rows) / result.seconds) : "-"},
  });
  for (const auto& note : result.notes) report.note(note);
  report.finish();
}

void status(const Arguments& args, AppContext& context) {
  const CdcSource source = cdc_source_of(transfer::parse_endpoint(args.source, context.config));
  const int64_t limit = args.max_lag.empty() ? 0 : parse_bytes(args.max_lag);
  const SlotStatus slot = slot_status(source);
  Report report(context.format);
  std::vector<std::pair<std::string, std::string>> items = {
      {"source", source.masked},
      {"publication", slot.publication_exists ? source.publication : source.publication + " (missing)"},
      {"tables", fmt::format("{}", fmt::join(slot.tables, ", "))},
      {"slot", slot.exists ? source.slot : source.slot + " (missing)"},
  };
  if (slot.exists) {
    items.insert(items.end(), {
        {"active", slot.active ? "yes (server process " + slot.active_pid + ")" : "no"},
        {"server position", lsn_text(slot.current)},
        {"confirmed position", lsn_text(slot.confirmed)},
        {"lag bytes", std::to_string(slot.lag_bytes)},
        {"lag", bytes_text(slot.lag_bytes)},
        {"lag seconds", slot.lag_seconds ? fmt::format("{:.1f}", *slot.lag_seconds) : "0 (nothing waiting)"},
        {"WAL retained", bytes_text(slot.retained_bytes)},
        {"WAL status", slot.wal_status},
    });
  }
  const bool over = slot.exists && limit > 0 && slot.retained_bytes > limit;
  std::vector<std::string> dropped;
  if (over && args.drop_over_limit) dropped = drop_slot_and_publication(source);
  report.summary("cdc status", items);
  if (over) {
    report.note(fmt::format("slot {} retains {} of WAL, over the limit of {}{}", source.slot,
                            bytes_text(slot.retained_bytes), bytes_text(limit),
                            args.drop_over_limit ? ": dropped (" + fmt::format("{}", fmt::join(dropped, ", ")) +
                                                       "); the next `cdc run` takes a new snapshot"
                                                 : ": start its reader, or drop it (--drop-over-limit or cdc drop)"));
  }
  report.finish();
  if (over && !args.drop_over_limit) {
    throw Error(fmt::format("slot {} is over its WAL limit ({} > {})", source.slot, bytes_text(slot.retained_bytes),
                            bytes_text(limit)));
  }
}

void drop(const Arguments& args, AppContext& context) {
  const CdcSource source = cdc_source_of(transfer::parse_endpoint(args.source, context.config));
  std::vector<std::string> dropped = drop_slot_and_publication(source);
  if (!args.target.empty()) {
    auto sink = make_sink(args.target, source, context.config);
    sink->forget_position();
    dropped.push_back("the position stored at " + sink->describe());
  }
  Report report(context.format);
  report.summary("cdc drop", {{"source", source.masked},
                              {"dropped", dropped.empty() ? "nothing (none of it existed)"
                                                          : fmt::format("{}", fmt::join(dropped, ", "))}});
  report.finish();
}

}  // namespace

void run_cdc_until_caught_up(const std::string& source, const std::string& target, AppContext& context) {
  Arguments args;
  args.source = source;
  args.target = target;
  args.until_caught_up = true;
  run(args, context);
}

void add_cdc_command(CLI::App& root, AppContext& context) {
  auto args = std::make_shared<Arguments>();
  auto* cdc = root.add_subcommand("cdc", "change data capture from PostgreSQL (logical replication) into Kafka or PostgreSQL tables");
  cdc->require_subcommand(1);
  const char* source_help = "postgres+cdc://user:pass@host:port/db?publication=P[&slot=S][&tables=schema.t,…]";

  auto* run_command = cdc->add_subcommand(
      "run", "snapshot the publication's tables, then stream their changes (stops cleanly on SIGINT/SIGTERM)");
  run_command->add_option("source", args->source, source_help)->required();
  run_command->add_option("target", args->target,
                          "kafka://host:port/prefix (topics prefix.schema.table) or postgres://…[?schema=name] "
                          "(tables merged by primary key)")
      ->required();
  run_command->add_flag("--until-caught-up", args->until_caught_up,
                        "stop once every change committed before the start is stored (a batch run)");
  run_command->add_option("--flush-interval-ms", args->flush_interval_ms,
                          "longest wait between a commit at the source and its storing at the target")
      ->check(CLI::Range(1, 60'000))
      ->capture_default_str();
  run_command->add_option("--retry-seconds", args->retry_seconds,
                          "a long-running stream whose server, broker or target failed resumes after this long")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  run_command->add_option("--max-lag", args->max_lag,
                          "while the stream cannot store, warn when its slot retains more WAL than this (e.g. 2GB)");
  run_command->add_flag("--drop-over-limit", args->drop_over_limit,
                        "and then drop the slot and publication and stop (exit 1; the next run snapshots again)");
  run_command->callback([args, &context] { run(*args, context); });

  auto* status_command = cdc->add_subcommand("status", "the slot's lag in bytes and seconds, and the WAL it retains");
  status_command->add_option("source", args->source, source_help)->required();
  status_command->add_option("--max-lag", args->max_lag,
                             "warn (exit 1) when the slot retains more WAL than this, e.g. 2GB");
  status_command->add_flag("--drop-over-limit", args->drop_over_limit,
                           "drop the slot and publication when over --max-lag (the next run snapshots again)");
  status_command->callback([args, &context] { status(*args, context); });

  auto* drop_command = cdc->add_subcommand("drop", "drop the slot and the publication (and the target's position)");
  drop_command->add_option("source", args->source, source_help)->required();
  drop_command->add_option("target", args->target, "kafka://…/prefix or postgres://…: also forget the position stored there");
  drop_command->callback([args, &context] { drop(*args, context); });
  for (auto* command : {run_command, status_command, drop_command}) command->fallthrough();
}

}  // namespace datalab::cdc
