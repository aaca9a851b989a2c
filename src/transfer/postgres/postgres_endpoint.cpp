#include "transfer/postgres/postgres_endpoint.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"
#include "storage/postgres/advisory_lock.h"
#include "storage/postgres/copy_in.h"
#include "storage/postgres/pg_types.h"
#include "storage/postgres/postgres_connection.h"
#include "storage/postgres/postgres_copy_reader.h"
#include "storage/postgres/staging_table.h"
#include "transfer/copy_run.h"

namespace datalab::transfer {

namespace {

// A result column: its name, PostgreSQL type (as format_type() writes it) and Arrow type
// (nullptr when datalab does not read that type).
struct PgColumn {
  std::string name, pg_type;
  std::shared_ptr<arrow::DataType> arrow_type;
};

std::vector<PgColumn> describe(PgConnection& db, const std::string& query) {
  const PgResult shape = db.exec("SELECT * FROM (" + query + ") AS datalab_q LIMIT 0");
  std::vector<PgColumn> columns;
  for (int c = 0; c < PQnfields(shape.get()); ++c) {
    const uint32_t oid = PQftype(shape.get(), c);
    const int typmod = PQfmod(shape.get(), c);
    const std::string pg_type(
        db.exec("SELECT format_type($1::oid, $2::int)", {std::to_string(oid), std::to_string(typmod)}).value(0, 0));
    columns.push_back({PQfname(shape.get(), c), pg_type, arrow_type_of_pg(oid, typmod)});
  }
  return columns;
}

class PostgresSource : public BatchSource {
 public:
  PostgresSource(const Endpoint& endpoint, const std::optional<IncrementalFilter>& filter)
      : db_(postgres_settings_of(endpoint)) {
    db_.exec("SET TimeZone = 'UTC'");
    base_ = endpoint.query.empty() ? "SELECT * FROM " + postgres_table_of(endpoint).quoted() : endpoint.query;
    if (endpoint.query.empty() && endpoint.table.empty()) {
      throw ConfigError(fmt::format("'{}' names no table or query: add ?table=schema.table or ?query=SELECT…",
                                    endpoint.masked));
    }
    const auto columns = describe(db_, base_);
    arrow::FieldVector fields;
    for (const auto& column : columns) {
      if (!column.arrow_type) {
        throw ConfigError(fmt::format("column '{}' has PostgreSQL type {}, which datalab does not read: cast it in "
                                      "a ?query= (e.g. {}::text, or ::numeric(38,10) for a numeric without "
                                      "precision)",
                                      column.name, column.pg_type, column.name));
      }
      fields.push_back(arrow::field(column.name, column.arrow_type));
    }
    schema_ = arrow::schema(fields);
    std::string query = base_;
    if (filter) query = incremental_query(*filter, columns);
    reader_ = std::make_unique<PostgresCopyReader>(db_, query, schema_);
    filter_ = filter;
  }

  std::shared_ptr<arrow::Schema> schema() override { return schema_; }
  std::shared_ptr<arrow::RecordBatch> next() override { return reader_->next(); }
  uint64_t bytes_read() const override { return reader_->bytes_read(); }

  int64_t null_cursor_rows() override {
    if (!filter_) return 0;
    return db_.exec(fmt::format("SELECT count(*) FROM ({}) AS datalab_q WHERE {} IS NULL", base_,
                                quote_identifier(filter_->cursor_column)))
        .integer(0, 0);
  }

 private:
  // Rows past the watermark, in (cursor, key…) order: the last row read is the next watermark.
  std::string incremental_query(const IncrementalFilter& filter, const std::vector<PgColumn>& columns) {
    const auto type_of = [&](const std::string& name) {
      const auto it = std::find_if(columns.begin(), columns.end(), [&](const PgColumn& c) { return c.name == name; });
      if (it == columns.end()) throw ConfigError(fmt::format("the source has no column '{}' for the incremental copy", name));
      return it->pg_type;
    };
    std::vector<std::string> order{quote_identifier(filter.cursor_column)};
    std::vector<std::string> types{type_of(filter.cursor_column)};
    for (const auto& key : filter.key_columns) {
      order.push_back(quote_identifier(key));
      types.push_back(type_of(key));
    }
    std::string where = quote_identifier(filter.cursor_column) + " IS NOT NULL";
    if (filter.after) {
      std::vector<std::string> values{db_.literal(filter.after->cursor) + "::" + types[0]};
      for (std::size_t k = 0; k < filter.key_columns.size() && k < filter.after->key.size(); ++k) {
        values.push_back(db_.literal(filter.after->key[k]) + "::" + types[k + 1]);
      }
      if (values.size() != order.size()) {
        throw ConfigError("the stored watermark has other key columns than --key: rerun without --incremental");
      }
      where += fmt::format(" AND ({}) > ({})", fmt::join(order, ", "), fmt::join(values, ", "));
    }
    return fmt::format("SELECT * FROM ({}) AS datalab_q WHERE {} ORDER BY {}", base_, where, fmt::join(order, ", "));
  }

  PgConnection db_;
  std::string base_;
  std::shared_ptr<arrow::Schema> schema_;
  std::unique_ptr<PostgresCopyReader> reader_;
  std::optional<IncrementalFilter> filter_;
};

constexpr const char* kWatermarkTable = "datalab.copy_watermarks";

class PostgresTarget : public BatchTarget {
 public:
  explicit PostgresTarget(const Endpoint& endpoint)
      : db_(postgres_settings_of(endpoint)), name_(postgres_table_of(endpoint)) {
    if (!endpoint.query.empty()) throw ConfigError(fmt::format("'{}': a target takes ?table=, not ?query=", endpoint.masked));
    db_.exec("SET TimeZone = 'UTC'");
  }

  ~PostgresTarget() override {
    copy_.reset();  // aborts an unfinished COPY first
    if (db_.in_transaction()) PQclear(PQexec(db_.raw(), "ROLLBACK"));
  }

  std::optional<Watermark> stored_watermark(const std::string& source_id, const IncrementalFilter& filter) override {
    begin();
    incremental_cursor_ = filter.cursor_column;
    incremental_keys_ = fmt::format("{}", fmt::join(filter.key_columns, ","));
    if (!exists("datalab", "copy_watermarks")) return std::nullopt;
    const auto r = db_.exec(fmt::format("SELECT cursor_value, key_values, cursor_column, key_columns FROM {} "
                                        "WHERE target_table = $1 AND source = $2",
                                        kWatermarkTable),
                            {name_.text(), source_id});
    if (r.rows() == 0) return std::nullopt;
    const std::string& keys = incremental_keys_;
    if (r.value(0, 2) != filter.cursor_column || r.value(0, 3) != keys) {
      throw ConfigError(fmt::format("{} holds a watermark for this source on cursor '{}' (key '{}'), not '{}' (key "
                                    "'{}'): delete its row in {} to start over",
                                    name_.text(), r.value(0, 2), r.value(0, 3), filter.cursor_column, keys,
                                    kWatermarkTable));
    }
    Watermark mark;
    mark.cursor = std::string(r.value(0, 0));
    const auto key_rows = db_.exec("SELECT unnest($1::text[])", {std::string(r.value(0, 1))});
    for (int i = 0; i < key_rows.rows(); ++i) mark.key.emplace_back(key_rows.value(i, 0));
    return mark;
  }

  std::shared_ptr<arrow::Schema> existing_columns() override {
    begin();
    if (!exists(name_.schema, name_.table)) return nullptr;
    arrow::FieldVector fields;
    for (const auto& column : describe(db_, "SELECT * FROM " + name_.quoted())) {
      if (column.arrow_type) fields.push_back(arrow::field(column.name, column.arrow_type));
    }
    return arrow::schema(fields);
  }

  std::shared_ptr<arrow::Schema> open(const std::shared_ptr<arrow::Schema>& source_schema,
                                      const TargetOptions& options) override {
    begin();
    options_ = options;
    std::vector<std::string> columns;
    for (const auto& field : source_schema->fields()) columns.push_back(field->name());
    if (options.mode == WriteMode::merge) {
      if (options.merge_keys.empty()) throw ConfigError("merge needs --key column[,column]");
      for (const auto& key : options.merge_keys) {
        if (std::find(columns.begin(), columns.end(), key) == columns.end()) {
          throw ConfigError(fmt::format("--key {}: the source has no such column", key));
        }
      }
    }
    bool created = false;
    if (!exists(name_.schema, name_.table)) {
      if (!options.create) {
        throw ConfigError(fmt::format("table {} does not exist in {}: pass --create to make it from the source's "
                                      "columns",
                                      name_.text(), db_.settings().describe()));
      }
      std::string definition = pg_column_definitions(*source_schema);
      if (!options.merge_keys.empty()) {
        definition += fmt::format(", PRIMARY KEY ({})", quoted_list(options.merge_keys));
      }
      db_.exec(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", quote_identifier(name_.schema)));
      db_.exec(fmt::format("CREATE TABLE {} ({})", name_.quoted(), definition));
      created = true;
    }
    schema_ = conform_to_target(source_schema);
    columns_ = columns;
    if (options.mode == WriteMode::merge) stage_.emplace(db_, "datalab_copy_stage", *schema_);
    // Replace: readers keep seeing the old rows until the commit, then the new ones.
    if (options.mode == WriteMode::replace && !created) db_.exec("TRUNCATE " + name_.quoted());
    // COPY FREEZE needs the table created or truncated in the same (sub)transaction, which
    // the savepoints of --reject are not.
    freeze_ = (created || options.mode == WriteMode::replace) && !options.rejects;
    if (!options.rejects) copy_ = new_copy();
    return schema_;
  }

  void write(const arrow::RecordBatch& batch) override {
    if (options_.rejects) {
      write_or_reject(batch);
    } else {
      copy_->write(batch);
    }
  }
  uint64_t bytes_written() const override { return bytes_written_ + (copy_ ? copy_->bytes_sent() : 0); }

  void commit(const std::string& source_id, const std::optional<Watermark>& watermark) override {
    try {
      if (copy_) {
        copy_->finish();
        bytes_written_ += copy_->bytes_sent();
        copy_.reset();
      }
      if (stage_) {
        stage_->analyze();
        stage_->merge_into(name_.schema, name_.table, columns_, options_.merge_keys, /*update_existing=*/true);
      }
    } catch (const PostgresError& e) {
      if (e.sqlstate() == "42P10") {
        throw ConfigError(fmt::format("merge into {}: --key {} is not a primary key or unique constraint of the table",
                                      name_.text(), fmt::join(options_.merge_keys, ",")));
      }
      throw;
    }
    if (watermark) store_watermark(source_id, *watermark);
    db_.exec("COMMIT");
  }

 private:
  std::unique_ptr<CopyIn> new_copy() {
    if (stage_) return std::make_unique<CopyIn>(stage_->copy(schema_));
    return std::make_unique<CopyIn>(db_, name_.schema, name_.table, schema_, freeze_);
  }

  // --reject: each batch in a COPY of its own under a savepoint. A batch the server refuses
  // for its data (SQLSTATE class 22 or 23: a NULL into NOT NULL, a duplicate key, a value
  // out of range, a failed CHECK) is rolled back to the savepoint and split in halves until
  // the refused rows stand alone; they go to the reject file with the server's message.
  void write_or_reject(const arrow::RecordBatch& batch) {
    db_.exec("SAVEPOINT datalab_copy_batch");
    try {
      auto copy = new_copy();
      copy->write(batch);
      copy->finish();
      bytes_written_ += copy->bytes_sent();
      db_.exec("RELEASE SAVEPOINT datalab_copy_batch");
      return;
    } catch (const PostgresError& e) {
      if (!e.is_data_error()) throw;
      db_.exec("ROLLBACK TO SAVEPOINT datalab_copy_batch");
      db_.exec("RELEASE SAVEPOINT datalab_copy_batch");
      if (batch.num_rows() == 1) {
        options_.rejects->reject(batch, 0, fmt::format("{} (SQLSTATE {})", e.server_message(), e.sqlstate()));
        return;
      }
    }
    const int64_t half = batch.num_rows() / 2;
    write_or_reject(*batch.Slice(0, half));
    write_or_reject(*batch.Slice(half));
  }

  void begin() {
    if (db_.in_transaction()) return;
    // One copy into a table at a time: two incremental runs would read the same watermark.
    lock_ = std::make_unique<AdvisoryLock>(db_, "datalab copy into " + name_.text());
    db_.exec("BEGIN");
  }

  bool exists(const std::string& schema, const std::string& table) {
    return db_.exec("SELECT to_regclass($1) IS NOT NULL", {quote_identifier(schema) + "." + quote_identifier(table)})
               .value(0, 0) == "t";
  }

  static std::string quoted_list(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) out += (out.empty() ? "" : ", ") + quote_identifier(name);
    return out;
  }

  // The schema the batches must have to be COPYed in binary: each source column as the
  // target column's type (binary COPY needs the exact type), where the value always fits.
  std::shared_ptr<arrow::Schema> conform_to_target(const std::shared_ptr<arrow::Schema>& source) {
    const auto target_columns = describe(db_, "SELECT * FROM " + name_.quoted());
    arrow::FieldVector fields;
    for (const auto& field : source->fields()) {
      const auto it = std::find_if(target_columns.begin(), target_columns.end(),
                                   [&](const PgColumn& c) { return c.name == field->name(); });
      if (it == target_columns.end()) {
        std::vector<std::string> names;
        for (const auto& c : target_columns) names.push_back(c.name);
        throw ConfigError(fmt::format("the source column '{}' is not in {} (its columns: {})", field->name(),
                                      name_.text(), fmt::join(names, ", ")));
      }
      if (!it->arrow_type) {
        throw ConfigError(fmt::format("column '{}': datalab cannot write the target's PostgreSQL type {}",
                                      field->name(), it->pg_type));
      }
      if (!field->type()->Equals(*it->arrow_type) && !widens(*field->type(), *it->arrow_type)) {
        throw ConfigError(fmt::format("column '{}': the source's {} does not fit the target's PostgreSQL type {} "
                                      "(pass --cast {}=TYPE to convert it)",
                                      field->name(), field->type()->ToString(), it->pg_type, field->name()));
      }
      fields.push_back(arrow::field(field->name(), it->arrow_type));
    }
    return arrow::schema(fields);
  }

  void store_watermark(const std::string& source_id, const Watermark& watermark) {
    db_.exec("CREATE SCHEMA IF NOT EXISTS datalab");
    db_.exec(fmt::format("CREATE TABLE IF NOT EXISTS {} (target_table text NOT NULL, source text NOT NULL, "
                         "cursor_column text NOT NULL, key_columns text NOT NULL, cursor_value text NOT NULL, "
                         "key_values text[] NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), "
                         "PRIMARY KEY (target_table, source))",
                         kWatermarkTable));
    std::vector<std::optional<std::string>> keys(watermark.key.begin(), watermark.key.end());
    db_.exec(fmt::format("INSERT INTO {} (target_table, source, cursor_column, key_columns, cursor_value, key_values) "
                         "VALUES ($1, $2, $3, $4, $5, $6::text[]) ON CONFLICT (target_table, source) DO UPDATE SET "
                         "cursor_column = EXCLUDED.cursor_column, key_columns = EXCLUDED.key_columns, "
                         "cursor_value = EXCLUDED.cursor_value, key_values = EXCLUDED.key_values, updated_at = now()",
                         kWatermarkTable),
             {name_.text(), source_id, incremental_cursor_, incremental_keys_, watermark.cursor, to_pg_array(keys)});
  }

  PgConnection db_;
  PgTableName name_;
  std::unique_ptr<AdvisoryLock> lock_;
  TargetOptions options_;
  std::shared_ptr<arrow::Schema> schema_;
  std::vector<std::string> columns_;
  std::optional<StagingTable> stage_;
  std::unique_ptr<CopyIn> copy_;  // the one COPY of the whole copy (none with --reject: one per batch)
  bool freeze_ = false;
  std::string incremental_cursor_, incremental_keys_;
  uint64_t bytes_written_ = 0;
};

}  // namespace

PostgresSettings postgres_settings_of(const Endpoint& e) {
  if (!e.options.empty()) {
    throw ConfigError(fmt::format("'{}': the parameter '{}' is not supported (only table= and query=)", e.masked,
                                  e.options.begin()->first));
  }
  return {e.host, e.port, e.database, e.user, e.password};
}

std::string PgTableName::quoted() const { return quote_identifier(schema) + "." + quote_identifier(table); }

PgTableName postgres_table_of(const Endpoint& e) {
  if (e.table.empty()) throw ConfigError(fmt::format("'{}' names no table: add ?table=schema.table", e.masked));
  const auto dot = e.table.find('.');
  if (dot == std::string::npos) return {"public", e.table};
  return {e.table.substr(0, dot), e.table.substr(dot + 1)};
}

std::unique_ptr<BatchSource> make_postgres_source(const Endpoint& endpoint, const std::optional<IncrementalFilter>& filter) {
  return std::make_unique<PostgresSource>(endpoint, filter);
}

std::unique_ptr<BatchTarget> make_postgres_target(const Endpoint& endpoint) {
  return std::make_unique<PostgresTarget>(endpoint);
}

}  // namespace datalab::transfer
