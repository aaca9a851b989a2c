#include "transfer/spark/spark_copy.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <fmt/format.h>

#include "core/error.h"
#include "core/stopwatch.h"
#include "core/uuid.h"
#include "storage/postgres/advisory_lock.h"
#include "storage/postgres/pg_types.h"
#include "storage/postgres/postgres_connection.h"
#include "storage/spark/spark_dataframe.h"
#include "storage/spark/spark_session.h"
#include "transfer/postgres/postgres_endpoint.h"

namespace datalab::transfer {

namespace {

using spark::Column;
using spark::DataFrame;
using spark::SaveMode;
using spark::SparkSession;

[[noreturn]] void not_on_spark(const Endpoint& e, const char* role, const std::string& why) {
  throw ConfigError(fmt::format("--engine spark cannot copy {} {} ('{}'): {}; use --engine native", role,
                                e.kind_name(), e.masked, why));
}

constexpr const char* kSparkEnds = "Spark reaches PostgreSQL (JDBC) and files on S3 (s3a) here";

bool is_s3_folder(const Endpoint& e) { return e.key.empty() || e.key.ends_with('/'); }

// The JDBC URL carries no credentials: user and password travel as options, which Spark
// redacts from its UI and which the session masks in every error.
struct Jdbc {
  std::string url;
  std::map<std::string, std::string> properties;
};

Jdbc jdbc_of(const PostgresSettings& pg) {
  const std::string host = pg.host.find(':') != std::string::npos ? "[" + pg.host + "]" : pg.host;
  return {fmt::format("jdbc:postgresql://{}:{}/{}?reWriteBatchedInserts=true", host,
                      pg.port.empty() ? "5432" : pg.port, pg.database),
          {{"user", pg.user}, {"password", pg.password}, {"driver", "org.postgresql.Driver"}}};
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + quote_identifier(name);
  return out;
}

// --cast types (parse_arrow_type) in Spark's SQL type syntax.
std::string spark_type(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::INT16: return "smallint";
    case arrow::Type::INT32: return "int";
    case arrow::Type::INT64: return "bigint";
    case arrow::Type::FLOAT: return "float";
    case arrow::Type::DOUBLE: return "double";
    case arrow::Type::BOOL: return "boolean";
    case arrow::Type::STRING: return "string";
    case arrow::Type::DATE32: return "date";
    case arrow::Type::TIMESTAMP:
      return static_cast<const arrow::TimestampType&>(type).timezone().empty() ? "timestamp_ntz" : "timestamp";
    case arrow::Type::DECIMAL128: {
      const auto& decimal = static_cast<const arrow::Decimal128Type&>(type);
      return fmt::format("decimal({},{})", decimal.precision(), decimal.scale());
    }
    default: throw ConfigError(fmt::format("--cast to {} is not available with --engine spark", type.ToString()));
  }
}

// The parallelism of the cluster as this session sees it: the partitions of a JDBC read.
int cores(SparkSession& session) {
  for (const char* key : {"spark.default.parallelism", "spark.cores.max", "spark.executor.cores"}) {
    const auto value = session.get_config(key);
    if (!value) continue;
    try {
      const int n = std::stoi(*value);
      if (n > 0) return n;
    } catch (const std::exception&) {
    }
  }
  return 1;
}

DataFrame read_postgres(SparkSession& session, const Endpoint& e, const CopyOptions& options) {
  const auto settings = postgres_settings_of(e);
  auto jdbc = jdbc_of(settings);
  jdbc.properties["fetchsize"] = "10000";
  jdbc.properties["preferTimestampNTZ"] = "true";  // timestamp stays without time zone, as in PostgreSQL
  const std::string base = e.query.empty() ? postgres_table_of(e).quoted() : "(" + e.query + ")";
  const std::string relation = e.query.empty() ? base : base + " AS datalab_q";

  // One integer --key: Spark reads numPartitions ranges of it in parallel, bounds from the data.
  if (options.target.merge_keys.size() == 1) {
    const std::string& key = options.target.merge_keys[0];
    PgConnection db(settings);
    const auto shape = db.exec(fmt::format("SELECT * FROM {} AS datalab_q LIMIT 0", base));
    const int column = PQfnumber(shape.get(), quote_identifier(key).c_str());
    if (column < 0) throw ConfigError(fmt::format("--key {}: the source has no such column", key));
    const uint32_t oid = PQftype(shape.get(), column);
    const int partitions = cores(session);
    if ((oid == 20 || oid == 21 || oid == 23) && partitions > 1) {  // int8, int2, int4
      const auto bounds = db.exec(fmt::format("SELECT min({0})::text, max({0})::text FROM {1} AS datalab_q",
                                              quote_identifier(key), base));
      if (!bounds.is_null(0, 0) && bounds.value(0, 0) != bounds.value(0, 1)) {
        jdbc.properties["partitionColumn"] = key;
        jdbc.properties["lowerBound"] = std::string(bounds.value(0, 0));
        jdbc.properties["upperBound"] = std::string(bounds.value(0, 1));
        jdbc.properties["numPartitions"] = std::to_string(partitions);
      }
    }
  }
  return session.read_jdbc(jdbc.url, relation, jdbc.properties);
}

DataFrame read_files(SparkSession& session, const Endpoint& e) {
  const std::string path = "s3a://" + e.bucket + "/" + e.key;
  // A bare folder is read as Parquet: what Spark itself writes into folders.
  switch (e.format.value_or(FileFormat::parquet)) {
    case FileFormat::parquet: return session.read("parquet", {path});
    case FileFormat::csv:
      return session.read("csv", {path}, {{"header", "true"}, {"inferSchema", "true"}, {"mode", "FAILFAST"}});
    case FileFormat::jsonl: return session.read("json", {path}, {{"mode", "FAILFAST"}});
  }
  throw ConfigError(fmt::format("'{}': unknown file format", e.masked));
}

// Drops the copy's staging table unless the commit did.
class Stage {
 public:
  Stage(PgConnection& db, std::string schema) : db_(db), schema_(std::move(schema)) {
    table_ = "datalab_copy_stage_" + random_uuid().substr(0, 8);
  }
  ~Stage() {
    if (!live_) return;
    try {
      if (db_.in_transaction()) db_.exec("ROLLBACK");
      db_.exec("DROP TABLE IF EXISTS " + quoted());
    } catch (...) {
    }
  }
  void create(const std::string& as) {
    db_.exec(fmt::format("CREATE UNLOGGED TABLE {} {}", quoted(), as));
    live_ = true;
  }
  void dropped() { live_ = false; }
  std::string quoted() const { return quote_identifier(schema_) + "." + quote_identifier(table_); }

 private:
  PgConnection& db_;
  std::string schema_, table_;
  bool live_ = false;
};

int64_t write_postgres(const DataFrame& frame, const Endpoint& e, const CopyOptions& options) {
  if (!e.query.empty()) throw ConfigError(fmt::format("'{}': a target takes ?table=, not ?query=", e.masked));
  const auto settings = postgres_settings_of(e);
  const PgTableName name = postgres_table_of(e);
  const auto& keys = options.target.merge_keys;
  const WriteMode mode = options.target.mode;
  PgConnection db(settings);
  // The same lock as the native target: one copy into a table at a time.
  AdvisoryLock lock(db, "datalab copy into " + name.text());

  const auto schema = frame.schema();
  std::vector<std::string> columns;
  for (const auto& field : schema->fields()) columns.push_back(field->name());
  if (mode == WriteMode::merge) {
    if (keys.empty()) throw ConfigError("merge needs --key column[,column]");
    for (const auto& key : keys) {
      if (std::find(columns.begin(), columns.end(), key) == columns.end()) {
        throw ConfigError(fmt::format("--key {}: the source has no such column", key));
      }
    }
  }

  const bool exists =
      db.exec("SELECT to_regclass($1) IS NOT NULL", {name.quoted()}).value(0, 0) == "t";
  std::string create_target;
  Stage stage(db, name.schema);
  if (!exists) {
    if (!options.target.create) {
      throw ConfigError(fmt::format("table {} does not exist in {}: pass --create to make it from the source's columns",
                                    name.text(), settings.describe()));
    }
    std::string definition = pg_column_definitions(*schema);
    if (!keys.empty()) definition += fmt::format(", PRIMARY KEY ({})", quoted_list(keys));
    create_target = fmt::format("CREATE TABLE {} ({})", name.quoted(), definition);
    db.exec(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", quote_identifier(name.schema)));
    stage.create(fmt::format("({})", pg_column_definitions(*schema)));
  } else {
    const auto target = db.exec(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory FROM pg_attribute a "
        "JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        {name.quoted()});
    std::vector<std::string> target_columns;
    for (int r = 0; r < target.rows(); ++r) target_columns.emplace_back(target.value(r, 0));
    for (const auto& field : schema->fields()) {
      const auto it = std::find(target_columns.begin(), target_columns.end(), field->name());
      if (it == target_columns.end()) {
        throw ConfigError(fmt::format("the source column '{}' is not in {} (its columns: {})", field->name(),
                                      name.text(), fmt::join(target_columns, ", ")));
      }
      // Spark sends strings as varchar, which PostgreSQL assigns only to string types.
      const int row = static_cast<int>(it - target_columns.begin());
      const bool text = field->type()->id() == arrow::Type::STRING || field->type()->id() == arrow::Type::LARGE_STRING;
      if (text && target.value(row, 2) != "S") {
        throw ConfigError(fmt::format("column '{}': the source's text does not fit the target's PostgreSQL type {} "
                                      "(pass --cast {}=TYPE to convert it)",
                                      field->name(), target.value(row, 1), field->name()));
      }
    }
    // The target's own column types: a value PostgreSQL would refuse fails in Spark's write.
    stage.create(fmt::format("AS SELECT {} FROM {} WITH NO DATA", quoted_list(columns), name.quoted()));
  }

  // Spark's JDBC writer commits each partition on its own: hence the stage.
  const auto jdbc = jdbc_of(settings);
  auto properties = jdbc.properties;
  properties["batchsize"] = "10000";
  frame.write_jdbc(jdbc.url, stage.quoted(), properties, SaveMode::Append);

  const int64_t rows = db.exec("SELECT count(*) FROM " + stage.quoted()).integer(0, 0);
  std::string move = fmt::format("INSERT INTO {0} ({1}) SELECT {1} FROM {2}", name.quoted(), quoted_list(columns),
                                 stage.quoted());
  if (mode == WriteMode::merge) {
    std::vector<std::string> updates;
    for (const auto& column : columns) {
      if (std::find(keys.begin(), keys.end(), column) == keys.end()) {
        updates.push_back(fmt::format("{0} = EXCLUDED.{0}", quote_identifier(column)));
      }
    }
    move += fmt::format(" ON CONFLICT ({}) {}", quoted_list(keys),
                        updates.empty() ? "DO NOTHING" : "DO UPDATE SET " + fmt::format("{}", fmt::join(updates, ", ")));
    db.exec("ANALYZE " + stage.quoted());  // a fresh table has no statistics: plan the merge on real ones
  }
  try {
    db.transaction([&] {
      if (!create_target.empty()) db.exec(create_target);
      if (mode == WriteMode::replace && create_target.empty()) db.exec("TRUNCATE " + name.quoted());
      db.exec(move);
      db.exec("DROP TABLE " + stage.quoted());
    });
  } catch (const PostgresError& error) {
    if (error.sqlstate() == "42P10") {
      throw ConfigError(fmt::format("merge into {}: --key {} is not a primary key or unique constraint of the table",
                                    name.text(), fmt::join(keys, ",")));
    }
    throw;
  }
  stage.dropped();
  return rows;
}

// The rows of a Parquet folder, from the files' footers; 0 when the folder does not exist.
int64_t parquet_rows(SparkSession& session, const std::string& path) {
  try {
    return session.read("parquet", {path}).count();
  } catch (const ServiceError& error) {
    if (std::string(error.what()).find("PATH_NOT_FOUND") != std::string::npos) return 0;
    throw;
  }
}

int64_t write_parquet(SparkSession& session, const DataFrame& frame, const Endpoint& e, const CopyOptions& options) {
  const std::string path = "s3a://" + e.bucket + "/" + e.key;
  const bool append = options.target.mode == WriteMode::append;
  const int64_t before = append ? parquet_rows(session, path) : 0;
  // Spark's default INT96 timestamps read back as nanoseconds without a time zone elsewhere.
  session.set_config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS");
  frame.write("parquet", path, {}, append ? SaveMode::Append : SaveMode::Overwrite);
  return parquet_rows(session, path) - before;
}

}  // namespace

void check_spark_copy(const Endpoint& source, const Endpoint& target, const CopyOptions& options) {
  switch (source.kind) {
    case EndpointKind::postgres: break;
    case EndpointKind::files:
      if (!source.s3) not_on_spark(source, "from", "Spark's executors read files from S3, not from this machine's disk");
      break;
    default: not_on_spark(source, "from", kSparkEnds);
  }
  switch (target.kind) {
    case EndpointKind::postgres: break;
    case EndpointKind::files:
      if (!target.s3) not_on_spark(target, "into", "Spark's executors write files to S3, not to this machine's disk");
      if (target.format && *target.format != FileFormat::parquet) {
        not_on_spark(target, "into", "Spark writes Parquet here");
      }
      if (!is_s3_folder(target)) {
        throw ConfigError(fmt::format("'{}': Spark writes a folder of part files: name a folder (s3://{}/{}/)",
                                      target.masked, target.bucket, target.key));
      }
      if (options.target.mode == WriteMode::merge) {
        throw ConfigError("--mode merge: files cannot update rows in place; use --mode replace (or append)");
      }
      break;
    default: not_on_spark(target, "into", kSparkEnds);
  }
  if (options.incremental) throw ConfigError("--incremental is not available with --engine spark: use --engine native");
}

CopyResult run_spark_copy(const Endpoint& source, const Endpoint& target, const CopyOptions& options,
                          const Config& config) {
  check_spark_copy(source, target, options);
  const auto start = std::chrono::steady_clock::now();
  auto session = SparkSession::connect(spark::SparkConnectSettings::from(config));
  session->set_config("spark.sql.session.timeZone", "UTC");  // as the native engine reads and writes

  DataFrame frame =
      source.kind == EndpointKind::postgres ? read_postgres(*session, source, options) : read_files(*session, source);
  for (const auto& [column, type] : options.casts) frame = frame.with_column(column, Column::col(column).cast(spark_type(*type)));

  CopyResult result;
  result.rows = target.kind == EndpointKind::postgres ? write_postgres(frame, target, options)
                                                      : write_parquet(*session, frame, target, options);
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace datalab::transfer
