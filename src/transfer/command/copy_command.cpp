#include "transfer/command/copy_command.h"

#include <unistd.h>

#include <memory>
#include <optional>

#include <fmt/format.h>

#include "core/error.h"
#include "core/progress.h"
#include "transfer/copy_run.h"
#include "transfer/endpoint.h"
#include "transfer/reject_file.h"
#include "transfer/cdc/cdc_command.h"
#include "transfer/clickhouse/clickhouse_endpoint.h"
#include "transfer/files/file_endpoint.h"
#include "transfer/iceberg/iceberg_endpoint.h"
#include "transfer/kafka/kafka_endpoint.h"
#include "transfer/postgres/postgres_endpoint.h"
#include "transfer/spark/spark_copy.h"

namespace datalab::transfer {

namespace {

struct Arguments {
  std::string source, target, mode = "append", cursor, engine = "native", reject;
  std::vector<std::string> keys, casts;
  bool create = false, incremental = false;
};

[[noreturn]] void unsupported(const Endpoint& e, const char* role) {
  throw ConfigError(fmt::format("copying {} {} ('{}') is not supported yet", role, e.kind_name(), e.masked));
}

SourceFactory source_factory(const Endpoint& e, const Config& config) {
  switch (e.kind) {
    case EndpointKind::postgres:
      return [e](const std::optional<IncrementalFilter>& filter) { return make_postgres_source(e, filter); };
    case EndpointKind::clickhouse:
      return [e](const std::optional<IncrementalFilter>& filter) { return make_clickhouse_source(e, filter); };
    case EndpointKind::files:
      return [e, &config](const std::optional<IncrementalFilter>& filter) {
        return make_file_source(e, config, filter);
      };
    case EndpointKind::kafka:
      return [e, &config](const std::optional<IncrementalFilter>& filter) {
        return make_kafka_source(e, config, filter);
      };
    case EndpointKind::iceberg:
      return [e, &config](const std::optional<IncrementalFilter>& filter) {
        return make_iceberg_source(e, config, filter);
      };
    case EndpointKind::postgres_cdc: break;  // run() hands it to the change stream
  }
  unsupported(e, "from");
}

std::unique_ptr<BatchTarget> make_target(const Endpoint& e, const Config& config) {
  switch (e.kind) {
    case EndpointKind::postgres: return make_postgres_target(e);
    case EndpointKind::clickhouse: return make_clickhouse_target(e);
    case EndpointKind::files: return make_file_target(e, config);
    case EndpointKind::iceberg: return make_iceberg_target(e, config);
    case EndpointKind::kafka: return make_kafka_target(e, config);
    case EndpointKind::postgres_cdc: break;  // a change stream is only a source
  }
  unsupported(e, "into");
}

WriteMode mode_of(const std::string& text) {
  if (text == "append") return WriteMode::append;
  if (text == "replace") return WriteMode::replace;
  if (text == "merge") return WriteMode::merge;
  throw ConfigError(fmt::format("--mode {}: expected append, replace or merge", text));
}

std::string watermark_text(const std::optional<Watermark>& mark) {
  if (!mark) return "(none: every row)";
  if (mark->key.empty()) return mark->cursor;
  return fmt::format("{} (key {})", mark->cursor, fmt::join(mark->key, ", "));
}

void run(const Arguments& args, AppContext& context) {
  const Endpoint source = parse_endpoint(args.source, context.config);
  const Endpoint target_end = parse_endpoint(args.target, context.config);
  if (target_end.kind == EndpointKind::postgres_cdc) unsupported(target_end, "into");
  if (source.kind == EndpointKind::postgres_cdc) {
    // A change stream has its own flags: the copy is one batch run of it.
    if (args.mode != "append" || !args.keys.empty() || args.create || args.incremental || !args.casts.empty() ||
        !args.reject.empty() || args.engine != "native") {
      throw ConfigError("copying from postgres+cdc:// takes no --mode, --key, --create, --incremental, --cast, "
                        "--reject or --engine: the stream keeps its own position (see `datalab cdc run --help`)");
    }
    cdc::run_cdc_until_caught_up(args.source, args.target, context);
    return;
  }
  CopyOptions options;
  options.target.mode = mode_of(args.mode);
  options.target.merge_keys = args.keys;
  options.target.create = args.create;
  for (const auto& cast : args.casts) {
    const auto equals = cast.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw ConfigError(fmt::format("--cast {}: expected column=type, e.g. price=decimal(12,2)", cast));
    }
    try {
      options.casts.emplace_back(cast.substr(0, equals), parse_arrow_type(cast.substr(equals + 1)));
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("--cast {}: {}", cast, e.what()));
    }
  }
  if (args.incremental) {
    if (args.cursor.empty()) throw ConfigError("--incremental needs --cursor column (e.g. --cursor updated_at)");
    options.incremental = IncrementalFilter{args.cursor, args.keys, std::nullopt};
  } else if (!args.cursor.empty()) {
    throw ConfigError("--cursor is for incremental copies: add --incremental");
  }
  if (options.target.mode == WriteMode::replace && options.incremental) {
    throw ConfigError("--incremental copies only new rows: use --mode append or merge, not replace");
  }
  options.progress = context.format == OutputFormat::Table && isatty(STDERR_FILENO) == 1;

  const bool spark = args.engine == "spark";
  std::optional<RejectFile> rejects;
  if (!args.reject.empty()) {
    if (target_end.kind != EndpointKind::postgres || spark) {
      throw ConfigError("--reject: only a PostgreSQL target, on the native engine, tells which rows it refuses; "
                        "into other targets a refused row fails the whole copy, which changes nothing");
    }
    rejects.emplace(args.reject);
    options.target.rejects = &*rejects;
  }
  CopyResult result;
  if (spark) {
    result = run_spark_copy(source, target_end, options, context.config);
  } else {
    auto target = make_target(target_end, context.config);
    result = run_copy(source_factory(source, context.config), *target, source.masked, options);
  }

  std::vector<std::pair<std::string, std::string>> items = {
      {"source", source.masked},
      {"target", target_end.masked},
      {"mode", args.mode},
      {"rows", std::to_string(result.rows)},
      {"rejected", std::to_string(result.rejected)},
      {"bytes read", spark ? "-" : human_bytes(result.bytes_read)},  // Spark's are not measured
      {"bytes written", spark ? "-" : human_bytes(result.bytes_written)},
      {"seconds", fmt::format("{:.3f}", result.seconds)},
      {"rows/s", result.seconds > 0 ? human_rate(result.rows / result.seconds) : "-"},
  };
  if (options.incremental) {
    items.emplace_back("watermark before", watermark_text(result.previous));
    items.emplace_back("watermark after", watermark_text(result.watermark));
    items.emplace_back("rows with a NULL cursor (not copied)", std::to_string(result.null_cursor_rows));
  }
  Report report(context.format);
  report.summary("copy", items);
  if (result.no_columns) report.note("the source has no columns and no rows: the target was left as it is");
  for (const auto& rejection : result.rejections) report.note("rejected " + rejection);
  if (result.rejected > static_cast<int64_t>(result.rejections.size())) {
    report.note(fmt::format("... and {} more rejected", result.rejected - static_cast<int64_t>(result.rejections.size())));
  }
  report.finish();
  // The rows that could be copied are committed; the rejected ones make the exit code 4.
  if (result.rejected > 0) {
    throw RejectedRows(fmt::format("copy: {} record(s) rejected (see the notes above{})", result.rejected,
                                   args.reject.empty() ? "" : "; the refused rows are in " + args.reject),
                       result.rejected);
  }
}

}  // namespace

void add_copy_command(CLI::App& root, AppContext& context) {
  auto args = std::make_shared<Arguments>();
  auto* copy = root.add_subcommand(
      "copy", "copy a table, query or files from one storage to another (PostgreSQL, ClickHouse, S3/local files, ...)");
  copy->add_option("source", args->source, "postgres://…?table=schema.t | ?query=SELECT…, s3://bucket/key.parquet, …")
      ->required();
  copy->add_option("target", args->target, "postgres://…?table=schema.t, clickhouse://…/db.table, s3://…, a path")
      ->required();
  copy->add_option("--mode", args->mode, "append | replace (atomic) | merge (upsert on --key)")->capture_default_str();
  copy->add_option("--key", args->keys, "key columns: merge upserts on them; incremental breaks cursor ties by them")
      ->delimiter(',');
  copy->add_option("--engine", args->engine,
                   "native (datalab itself) or spark (the cluster at SPARK_CONNECT_URL: PostgreSQL and S3 ends)")
      ->check(CLI::IsMember({"native", "spark"}))
      ->capture_default_str();
  copy->add_flag("--create", args->create, "create a missing target table from the source's columns");
  copy->add_option("--reject", args->reject,
                   "PostgreSQL target: rows the server refuses (NOT NULL, unique, CHECK, range) go to this JSON Lines "
                   "file with the reason; the others are committed (exit 4)");
  copy->add_flag("--incremental", args->incremental, "copy only rows past the watermark the target stored last time");
  copy->add_option("--cursor", args->cursor, "incremental: the column that grows (updated_at, id)");
  copy->add_option("--cast", args->casts, "column=type conversions, e.g. --cast price=decimal(12,2)");
  copy->fallthrough();  // --format json after the subcommand too
  copy->callback([args, &context] { run(*args, context); });
}

}  // namespace datalab::transfer
