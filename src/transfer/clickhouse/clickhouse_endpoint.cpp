#include "transfer/clickhouse/clickhouse_endpoint.h"

#include <algorithm>
#include <optional>
#include <regex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/dates.h"
#include "core/error.h"
#include "storage/clickhouse/clickhouse_client.h"
#include "storage/clickhouse/clickhouse_sql.h"
#include "storage/clickhouse/native_block_decoder.h"
#include "storage/clickhouse/native_block_encoder.h"
#include "transfer/copy_run.h"

namespace datalab::transfer {

namespace {

using clickhouse::ClickHouseClient;
using clickhouse::NativeBlockEncoder;
using clickhouse::quote_identifier;
using clickhouse::quote_string;

ClickHouseSettings settings_of(const Endpoint& e) {
  if (!e.options.empty()) {
    throw ConfigError(fmt::format("'{}': the parameter '{}' is not supported (only query=)", e.masked,
                                  e.options.begin()->first));
  }
  return {e.host, e.port, e.database, e.user, e.password};
}

struct ChColumn {
  std::string name, type;
};

// ClickHouse as a copy source: a table or a ?query=, streamed in Native format over HTTP
// and decoded block by block (blocks of at most kBlockRows rows), so memory stays bounded
// by a few blocks whatever the result's size. Incremental: only the rows past the watermark,
// in (cursor, key…) order (a tuple comparison on the server, the watermark typed as the
// column), rows with a NULL cursor counted and left out.
class ClickHouseSource : public BatchSource {
 public:
  ClickHouseSource(const Endpoint& endpoint, const std::optional<IncrementalFilter>& filter)
      : client_(settings_of(endpoint)), filter_(filter) {
    if (endpoint.query.empty() && endpoint.table.empty()) {
      throw ConfigError(fmt::format("'{}' names no table or query: write clickhouse://host:port/db.table or "
                                    "…/db?query=SELECT…",
                                    endpoint.masked));
    }
    base_ = endpoint.query.empty()
                ? "SELECT * FROM " + quote_identifier(endpoint.database) + "." + quote_identifier(endpoint.table)
                : endpoint.query;
    // The result's columns and types, known before any row: the query with no rows.
    const auto shape = client_.select("SELECT * FROM (" + base_ + ") LIMIT 0");
    arrow::FieldVector fields;
    for (std::size_t c = 0; c < shape.columns.size(); ++c) {
      auto field = NativeBlockEncoder::arrow_field(shape.columns[c], shape.types[c]);
      if (!field) {
        throw ConfigError(fmt::format("column '{}' has ClickHouse type {}, which datalab does not read: convert it in "
                                      "a ?query= (e.g. toString({}))",
                                      shape.columns[c], shape.types[c], shape.columns[c]));
      }
      fields.push_back(field);
    }
    schema_ = arrow::schema(fields);
    clickhouse::QueryOptions options;
    options.settings.emplace_back("max_block_size", std::to_string(kBlockRows));
    stream_ = client_.select_stream(filter ? incremental_query(*filter) : base_, "Native", options);
    decoder_.emplace(schema_, [this](char* out, std::size_t n) { return stream_->read(out, n); });
  }

  int64_t null_cursor_rows() override {
    if (!filter_) return 0;
    return std::stoll(client_.scalar(fmt::format("SELECT count() FROM ({}) WHERE isNull({})", base_,
                                                 quote_identifier(filter_->cursor_column))));
  }

  std::shared_ptr<arrow::Schema> schema() override { return schema_; }
  std::shared_ptr<arrow::RecordBatch> next() override { return decoder_->next(); }
  uint64_t bytes_read() const override { return stream_->bytes_read(); }

 private:
  // Rows past the watermark, in (cursor, key…) order: the last row read is the next watermark.
  std::string incremental_query(const IncrementalFilter& filter) {
    std::vector<std::string> order{filter.cursor_column};
    order.insert(order.end(), filter.key_columns.begin(), filter.key_columns.end());
    std::vector<std::string> quoted;
    for (const auto& column : order) {
      if (schema_->GetFieldIndex(column) < 0) {
        throw ConfigError(fmt::format("the source has no column '{}' for the incremental copy", column));
      }
      const auto id = schema_->GetFieldByName(column)->type()->id();
      if (!arrow::is_integer(id) && id != arrow::Type::DECIMAL128 && id != arrow::Type::DATE32 &&
          id != arrow::Type::TIMESTAMP && id != arrow::Type::STRING) {
        throw ConfigError(fmt::format("column '{}' ({}) cannot be the cursor or key of an incremental copy from "
                                      "ClickHouse: use an integer, decimal, date, DateTime or String column",
                                      column, schema_->GetFieldByName(column)->type()->ToString()));
      }
      quoted.push_back(quote_identifier(column));
    }
    std::string where = fmt::format("isNotNull({})", quoted[0]);
    if (filter.after) {
      if (filter.after->key.size() != filter.key_columns.size()) {
        throw ConfigError("the stored watermark has other key columns than --key: rerun without --incremental");
      }
      std::vector<std::string> values{literal(filter.cursor_column, filter.after->cursor)};
      for (std::size_t k = 0; k < filter.key_columns.size(); ++k) {
        values.push_back(literal(filter.key_columns[k], filter.after->key[k]));
      }
      where += fmt::format(" AND ({}) > ({})", fmt::join(quoted, ", "), fmt::join(values, ", "));
    }
    return fmt::format("SELECT * FROM ({}) WHERE {} ORDER BY {}", base_, where, fmt::join(quoted, ", "));
  }

  // A watermark value (as the copy wrote it from this column's Arrow type) as a ClickHouse
  // expression of the column's type, so the comparison is typed, not textual.
  std::string literal(const std::string& column, const std::string& text) {
    const auto& type = *schema_->GetFieldByName(column)->type();
    const auto refuse = [&] {
      return ConfigError(fmt::format("the stored watermark '{}' is not a value of column '{}' ({}): rerun without "
                                     "--incremental",
                                     text, column, type.ToString()));
    };
    switch (type.id()) {
      case arrow::Type::INT8: case arrow::Type::INT16: case arrow::Type::INT32: case arrow::Type::INT64:
      case arrow::Type::UINT8: case arrow::Type::UINT16: case arrow::Type::UINT32: case arrow::Type::UINT64: {
        static const std::regex integer(R"(-?[0-9]+)");
        if (!std::regex_match(text, integer)) throw refuse();
        return text;
      }
      case arrow::Type::DECIMAL128: {
        static const std::regex decimal(R"(-?[0-9]+(\.[0-9]+)?)");
        if (!std::regex_match(text, decimal)) throw refuse();
        return fmt::format("toDecimal128({}, {})", quote_string(text),
                           static_cast<const arrow::Decimal128Type&>(type).scale());
      }
      case arrow::Type::DATE32:
        if (!parse_iso_date(text)) throw refuse();
        return fmt::format("toDate({})", quote_string(text));
      case arrow::Type::TIMESTAMP: {
        // DateTime reads as whole seconds since the epoch: "YYYY-MM-DD hh:mm:ss.000000".
        static const std::regex timestamp(R"((\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2}):(\d{2})\.0{6}(\+00)?)");
        std::smatch m;
        const auto day = std::regex_match(text, m, timestamp) ? parse_iso_date(m[1].str()) : std::nullopt;
        if (!day) throw refuse();
        const int64_t seconds = int64_t{*day} * 86400 + std::stoi(m[2]) * 3600 + std::stoi(m[3]) * 60 + std::stoi(m[4]);
        return fmt::format("toDateTime({})", seconds);
      }
      default:  // a String (incremental_query allows no other type)
        return quote_string(text);
    }
  }

  static constexpr int64_t kBlockRows = 65536;
  ClickHouseClient client_;
  std::optional<IncrementalFilter> filter_;
  std::string base_;
  std::shared_ptr<arrow::Schema> schema_;
  std::unique_ptr<clickhouse::ResultStream> stream_;
  std::optional<clickhouse::NativeBlockDecoder> decoder_;
};

// Why a source type has no ClickHouse column, with what to do about it.
std::string unsupported_type_hint(const arrow::Field& field) {
  if (field.type()->id() == arrow::Type::TIMESTAMP) {
    const auto& ts = static_cast<const arrow::TimestampType&>(*field.type());
    return fmt::format("ClickHouse's DateTime holds whole seconds only (this server has no DateTime64): pass "
                       "--cast {}={} to copy whole seconds (a value with a fraction of a second then fails the copy)",
                       field.name(), ts.timezone().empty() ? "timestamp[s]" : "timestamp[s, UTC]");
  }
  return fmt::format("pass --cast {}=TYPE to convert it", field.name());
}

// ClickHouse as a copy target. Append streams each batch as one Native INSERT; ClickHouse
// has no transactions, so an interrupted append leaves the whole blocks inserted so far
// (a table this copy created is dropped again when the copy fails with an error). Replace
// loads `<t>__datalab_new` (CREATE TABLE … AS t: same columns and engine) and at commit
// swaps it in with one RENAME TABLE, so readers see the old rows or the new ones; a failed
// replace drops the new table and leaves t as it was. Merge loads the same twin, adds the
// rows of t whose key the source does not have, and swaps it in the same way: an upsert
// that rewrites the table (ClickHouse has no UPDATE; a ReplacingMergeTree would show readers
// both rows until a background merge). Rows appended to t by others during a replace or a
// merge are lost with the old table. An incremental copy takes its watermark from the
// table's own rows and attaches the new ones at once (stored_watermark).
class ClickHouseTarget : public BatchTarget {
 public:
  explicit ClickHouseTarget(const Endpoint& endpoint)
      : client_(settings_of(endpoint)), database_(endpoint.database), table_(endpoint.table) {
    if (!endpoint.query.empty()) {
      throw ConfigError(fmt::format("'{}': a target is a table (clickhouse://…/db.table), not a ?query=", endpoint.masked));
    }
    if (table_.empty()) {
      throw ConfigError(fmt::format("'{}' names no table: write clickhouse://host:port/db.table", endpoint.masked));
    }
  }

  ~ClickHouseTarget() override {
    if (committed_ || loading_.empty()) return;
    try {
      if (loading_ != table_) client_.execute("DROP TABLE IF EXISTS " + qualified(loading_));
      else if (created_) client_.execute("DROP TABLE IF EXISTS " + qualified(table_));
    } catch (const std::exception& e) {  // the copy's own error is the one to report
      spdlog::warn("could not drop {} after the failed copy: {}", qualified(loading_), e.what());
    }
  }

  // ClickHouse has no transaction to store a watermark with the rows, so the rows are the
  // watermark: the largest (cursor, key…) the table holds. The new rows reach the table in
  // one ALTER … ATTACH PARTITION (all their parts at once), so the table holds every row of a
  // run or none, and the next run starts exactly after the last one. A partitioned table
  // would attach partition by partition, which an interrupt could split: refused.
  std::optional<Watermark> stored_watermark(const std::string&, const IncrementalFilter& filter) override {
    incremental_ = true;
    if (!exists(table_)) return std::nullopt;  // --create makes it; the first run copies every row
    const std::string partition_key = client_.scalar(
        fmt::format("SELECT partition_key FROM system.tables WHERE database = {} AND name = {}",
                    quote_string(database_), quote_string(table_)));
    if (!partition_key.empty()) {
      throw ConfigError(fmt::format("incremental copies into {}.{} are not supported: the table is partitioned by {}, "
                                    "and new rows can only be added to all partitions at once to an unpartitioned "
                                    "MergeTree",
                                    database_, table_, partition_key));
    }
    std::vector<std::string> order{filter.cursor_column};
    order.insert(order.end(), filter.key_columns.begin(), filter.key_columns.end());
    const auto columns = table_columns();
    arrow::FieldVector fields;
    std::vector<std::string> quoted, descending;
    for (const auto& name : order) {
      const auto it = std::find_if(columns.begin(), columns.end(), [&](const ChColumn& c) { return c.name == name; });
      auto field = it == columns.end() ? nullptr : NativeBlockEncoder::arrow_field(it->name, it->type);
      if (!field) {
        throw ConfigError(fmt::format("incremental copy into {}.{}: the table has no column '{}' datalab can read as "
                                      "the watermark",
                                      database_, table_, name));
      }
      fields.push_back(field);
      quoted.push_back(quote_identifier(name));
      descending.push_back(quoted.back() + " DESC");
    }
    auto stream = client_.select_stream(fmt::format("SELECT {} FROM {} WHERE isNotNull({}) ORDER BY {} LIMIT 1",
                                                    fmt::join(quoted, ", "), qualified(table_), quoted[0],
                                                    fmt::join(descending, ", ")),
                                        "Native");
    clickhouse::NativeBlockDecoder decoder(arrow::schema(fields),
                                           [&](char* out, std::size_t n) { return stream->read(out, n); });
    std::shared_ptr<arrow::RecordBatch> last;
    while (auto batch = decoder.next()) {
      if (batch->num_rows() > 0) last = batch;
    }
    if (!last) return std::nullopt;
    Watermark mark;
    mark.cursor = literal_text(*last->column(0), 0);
    for (int k = 1; k < last->num_columns(); ++k) mark.key.push_back(literal_text(*last->column(k), 0));
    return mark;
  }

  std::shared_ptr<arrow::Schema> open(const std::shared_ptr<arrow::Schema>& source_schema,
                                      const TargetOptions& options) override {
    if (options.mode == WriteMode::merge && options.merge_keys.empty()) {
      throw ConfigError("merge needs --key column[,column]");
    }
    for (const auto& key : options.merge_keys) {
      if (source_schema->GetFieldIndex(key) < 0) throw ConfigError(fmt::format("--key {}: the source has no such column", key));
    }
    if (!exists(table_)) {
      if (!options.create) {
        throw ConfigError(fmt::format("table {}.{} does not exist in ClickHouse at {}: pass --create to make it from "
                                      "the source's columns",
                                      database_, table_, client_.settings().describe()));
      }
      create(*source_schema, options.merge_keys);
    }
    schema_ = conform_to_table(*source_schema);
    encoder_.emplace(schema_);
    for (const auto& field : schema_->fields()) columns_.push_back(field->name());
    merge_keys_ = options.mode == WriteMode::merge ? options.merge_keys : std::vector<std::string>{};
    if (!merge_keys_.empty()) {
      // The kept rows of t are copied whole: the source must bring every column, or the
      // rows it updates would lose the values of the others.
      for (const auto& column : table_columns()) {
        if (source_schema->GetFieldIndex(column.name) < 0) {
          throw ConfigError(fmt::format("merge into {}.{}: the table's column '{}' is not in the source; a merge into "
                                        "ClickHouse rewrites whole rows, so the source needs every column",
                                        database_, table_, column.name));
        }
      }
    }
    loading_ = table_;
    // Replace, merge and incremental appends load a twin first (created_: the table is new
    // and empty, so the rows go straight in).
    if ((options.mode != WriteMode::append || incremental_) && !created_) {
      loading_ = table_ + "__datalab_new";
      // A leftover of an interrupted replace: ours by its name, and never read.
      client_.execute("DROP TABLE IF EXISTS " + qualified(loading_));
      client_.execute(fmt::format("CREATE TABLE {} AS {}", qualified(loading_), qualified(table_)));
    }
    return schema_;
  }

  void write(const arrow::RecordBatch& batch) override {
    body_.clear();
    encoder_->encode(batch, body_, rows_);
    client_.insert_raw(loading_, "Native", body_, clickhouse::BodyCompression::None, columns_);
    bytes_written_ += body_.size();
    rows_ += batch.num_rows();
  }

  void commit(const std::string&, const std::optional<Watermark>&) override {
    if (!merge_keys_.empty()) merge_unmatched_rows();
    if (loading_ != table_ && incremental_ && merge_keys_.empty()) {
      // An incremental append: the twin's parts join the table in one statement.
      client_.execute(fmt::format("ALTER TABLE {} ATTACH PARTITION tuple() FROM {}", qualified(table_),
                                  qualified(loading_)));
      committed_ = true;
      client_.execute("DROP TABLE " + qualified(loading_));
      return;
    }
    if (loading_ != table_) {
      const std::string old = table_ + "__datalab_old";
      client_.execute("DROP TABLE IF EXISTS " + qualified(old));
      // One statement for both renames: no moment without a table named t.
      client_.execute(fmt::format("RENAME TABLE {} TO {}, {} TO {}", qualified(table_), qualified(old),
                                  qualified(loading_), qualified(table_)));
      committed_ = true;
      client_.execute("DROP TABLE " + qualified(old));
    }
    committed_ = true;
  }

  uint64_t bytes_written() const override { return bytes_written_; }

 private:
  std::string qualified(const std::string& table) const {
    return quote_identifier(database_) + "." + quote_identifier(table);
  }

  // Merge: the rows of t whose key the source does not have join the source's rows in the
  // twin. A key the source has twice is refused (as PostgreSQL refuses to update a row twice
  // in one statement), before t changes. Rows with a NULL key never match one another.
  void merge_unmatched_rows() {
    std::vector<std::string> keys;
    for (const auto& key : merge_keys_) keys.push_back(quote_identifier(key));
    const std::string key_list = fmt::format("{}", fmt::join(keys, ", "));
    const std::string repeated = client_.scalar(
        fmt::format("SELECT count() FROM (SELECT {} FROM {} GROUP BY {} HAVING count() > 1)", key_list,
                    qualified(loading_), key_list));
    if (repeated != "0") {
      throw Error(fmt::format("merge into {}.{}: {} value(s) of --key {} occur more than once in the source; nothing "
                              "was changed",
                              database_, table_, repeated, fmt::join(merge_keys_, ",")));
    }
    if (loading_ == table_) return;  // the table was made by this copy: there are no old rows
    // open() made sure the source has every column of the table and no other: columns_ are the table's.
    std::vector<std::string> columns;
    for (const auto& column : columns_) columns.push_back(quote_identifier(column));
    const std::string column_list = fmt::format("{}", fmt::join(columns, ", "));
    const std::string key_tuple = keys.size() == 1 ? keys[0] : "(" + key_list + ")";
    client_.execute(fmt::format("INSERT INTO {} ({}) SELECT {} FROM {} WHERE {} NOT IN (SELECT {} FROM {})",
                                qualified(loading_), column_list, column_list, qualified(table_), key_tuple, key_list,
                                qualified(loading_)));
  }

  bool exists(const std::string& table) {
    return client_.scalar(fmt::format("SELECT count() FROM system.tables WHERE database = {} AND name = {}",
                                      quote_string(database_), quote_string(table))) != "0";
  }

  // MergeTree ordered by the --key columns (not Nullable: a sorting key cannot be), else unordered.
  void create(const arrow::Schema& source, const std::vector<std::string>& keys) {
    std::vector<std::string> definitions;
    for (const auto& field : source.fields()) {
      const std::string type = NativeBlockEncoder::clickhouse_type(*field->type());
      if (type.empty()) {
        throw ConfigError(fmt::format("column '{}': the source's {} has no ClickHouse type here: {}", field->name(),
                                      field->type()->ToString(), unsupported_type_hint(*field)));
      }
      const bool key = std::find(keys.begin(), keys.end(), field->name()) != keys.end();
      definitions.push_back(quote_identifier(field->name()) + " " +
                            (field->nullable() && !key ? "Nullable(" + type + ")" : type));
    }
    std::vector<std::string> order;
    for (const auto& key : keys) order.push_back(quote_identifier(key));
    client_.execute(fmt::format("CREATE TABLE {} ({}) ENGINE = MergeTree ORDER BY {}", qualified(table_),
                                fmt::join(definitions, ", "),
                                order.empty() ? "tuple()" : fmt::format("({})", fmt::join(order, ", "))));
    created_ = true;
  }

  std::shared_ptr<arrow::Schema> existing_columns() override {
    if (!exists(table_)) return nullptr;
    arrow::FieldVector fields;
    for (const auto& column : table_columns()) {
      if (auto field = NativeBlockEncoder::arrow_field(column.name, column.type)) fields.push_back(std::move(field));
    }
    return arrow::schema(fields);
  }

  std::vector<ChColumn> table_columns() {
    const auto result = client_.select(fmt::format("SELECT name, type FROM system.columns WHERE database = {} AND "
                                                   "table = {}",
                                                   quote_string(database_), quote_string(table_)));
    std::vector<ChColumn> columns;
    for (const auto& row : result.rows) columns.push_back({row[0].value_or(""), row[1].value_or("")});
    return columns;
  }

  // Each source column as the table holds it: the source's own type where the encoder sends
  // it as exactly the table's type, else the table's type where every value fits (the copy
  // casts), with the table's nullability. Anything else fails here, before any row.
  std::shared_ptr<arrow::Schema> conform_to_table(const arrow::Schema& source) {
    const auto columns = table_columns();
    arrow::FieldVector fields;
    for (const auto& field : source.fields()) {
      const auto it = std::find_if(columns.begin(), columns.end(), [&](const ChColumn& c) { return c.name == field->name(); });
      if (it == columns.end()) {
        std::vector<std::string> names;
        for (const auto& c : columns) names.push_back(c.name);
        throw ConfigError(fmt::format("the source column '{}' is not in {}.{} (its columns: {})", field->name(),
                                      database_, table_, fmt::join(names, ", ")));
      }
      const auto target = NativeBlockEncoder::arrow_field(field->name(), it->type);
      if (!target) {
        throw ConfigError(fmt::format("column '{}': datalab cannot write the table's ClickHouse type {}", field->name(),
                                      it->type));
      }
      const bool nullable = target->nullable();
      const std::string base = nullable ? it->type.substr(9, it->type.size() - 10) : it->type;
      if (NativeBlockEncoder::clickhouse_type(*field->type()) == base) {
        fields.push_back(arrow::field(field->name(), field->type(), nullable));
      } else if (widens(*field->type(), *target->type())) {
        fields.push_back(target);
      } else {
        throw ConfigError(fmt::format("column '{}': the source's {} does not fit the table's ClickHouse type {}: {}",
                                      field->name(), field->type()->ToString(), it->type,
                                      unsupported_type_hint(*field)));
      }
    }
    return arrow::schema(fields);
  }

  ClickHouseClient client_;
  std::string database_, table_;
  std::string loading_;  // the table rows go into: table_, or its __datalab_new twin (replace)
  bool created_ = false, committed_ = false;
  bool incremental_ = false;  // the table's own largest (cursor, key) is the watermark
  std::shared_ptr<arrow::Schema> schema_;
  std::optional<NativeBlockEncoder> encoder_;
  std::vector<std::string> columns_;
  std::vector<std::string> merge_keys_;  // merge: the columns that identify a row
  std::string body_;
  int64_t rows_ = 0;
  uint64_t bytes_written_ = 0;
};

}  // namespace

std::unique_ptr<BatchSource> make_clickhouse_source(const Endpoint& endpoint, const std::optional<IncrementalFilter>& filter) {
  return std::make_unique<ClickHouseSource>(endpoint, filter);
}

std::unique_ptr<BatchTarget> make_clickhouse_target(const Endpoint& endpoint) {
  return std::make_unique<ClickHouseTarget>(endpoint);
}

}  // namespace datalab::transfer
