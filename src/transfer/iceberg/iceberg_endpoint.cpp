#include "transfer/iceberg/iceberg_endpoint.h"

#include <map>

#include <arrow/compute/cast.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "core/arrow_status.h"
#include "core/error.h"
#include "formats/parquet_file.h"
#include "storage/iceberg/column_stats.h"
#include "storage/iceberg/iceberg_table.h"
#include "storage/iceberg/sql_catalog.h"
#include "storage/objectstore/object_store.h"
#include "storage/postgres/advisory_lock.h"
#include "storage/postgres/postgres_connection.h"
#include "transfer/watermark_text.h"

namespace datalab::transfer {

namespace {

// Iceberg has no 16-bit integers and keeps timestamps in microseconds: those columns widen on
// their way in; any other type Iceberg cannot hold is refused before a row is written.
std::shared_ptr<arrow::DataType> iceberg_arrow_type(const arrow::Field& field) {
  const auto& type = *field.type();
  switch (type.id()) {
    case arrow::Type::INT8:
    case arrow::Type::INT16: return arrow::int32();
    case arrow::Type::LARGE_STRING: return arrow::utf8();
    case arrow::Type::TIMESTAMP: {
      const auto& ts = static_cast<const arrow::TimestampType&>(type);
      if (ts.unit() == arrow::TimeUnit::NANO) break;
      return arrow::timestamp(arrow::TimeUnit::MICRO, ts.timezone().empty() ? "" : "UTC");
    }
    default: {
      try {
        iceberg::iceberg_type_name(type);
        return field.type();
      } catch (const Error&) {
        break;
      }
    }
  }
  throw ConfigError(fmt::format("column '{}': Arrow type {} has no Iceberg type (pass --cast {}=TYPE)", field.name(),
                                type.ToString(), field.name()));
}

// iceberg://catalog/namespace.table[?bucket=…]: the catalog's connection, the warehouse's
// store and the table's name, for the source and the target alike.
struct IcebergEnd {
  IcebergEnd(const Endpoint& endpoint, const Config& config)
      : db(PostgresSettings::from(config)),
        store(ObjectStoreSettings::from(config),
              endpoint.options.count("bucket") ? endpoint.options.at("bucket") : config.value("S3_BUCKET")),
        catalog(db, endpoint.catalog) {
    for (const auto& [name, value] : endpoint.options) {
      if (name != "bucket") throw ConfigError(fmt::format("'{}': unknown parameter '{}' (only bucket=)", endpoint.masked, name));
    }
    const auto dot = endpoint.table.find('.');
    if (endpoint.catalog.empty() || dot == std::string::npos || dot == 0 || dot + 1 == endpoint.table.size()) {
      throw ConfigError(fmt::format("'{}': expected iceberg://catalog/namespace.table", endpoint.masked));
    }
    ns = endpoint.table.substr(0, dot);
    name = endpoint.table.substr(dot + 1);
  }
  std::unique_ptr<iceberg::IcebergTable> table() {
    return std::make_unique<iceberg::IcebergTable>(store, catalog, ns, name,
                                                   fmt::format("iceberg_warehouse/{}/{}", ns, name));
  }

  PgConnection db;
  ObjectStore store;
  iceberg::SqlCatalog catalog;
  std::string ns, name;
};

// The current snapshot's data files, one after the other, each read row group by row group.
// Columns are matched by name to the table's current schema: a column a file lacks (added
// later) reads as NULL, one the file stores in another type is cast to the table's.
class IcebergSource : public BatchSource {
 public:
  IcebergSource(const Endpoint& endpoint, const Config& config) : end_(endpoint, config) {
    scan_ = end_.table()->scan();
    spdlog::debug("iceberg: {}.{} snapshot {} with {} data file(s)", end_.ns, end_.name,
                  scan_.snapshot_id ? std::to_string(*scan_.snapshot_id) : "none", scan_.files.size());
  }

  std::shared_ptr<arrow::Schema> schema() override { return scan_.schema; }

  std::shared_ptr<arrow::RecordBatch> next() override {
    for (;;) {
      if (!reader_) {
        if (index_ == scan_.files.size()) return nullptr;
        const auto& file = scan_.files[index_];
        reader_ = std::make_unique<ParquetBatchReader>(end_.store.open_input(file.key), end_.store.uri(file.key));
      }
      if (auto batch = reader_->next()) return conform(*batch);
      bytes_read_ += static_cast<uint64_t>(scan_.files[index_].size);
      reader_.reset();
      ++index_;
    }
  }

  uint64_t bytes_read() const override { return bytes_read_; }

 private:
  std::shared_ptr<arrow::RecordBatch> conform(const arrow::RecordBatch& batch) const {
    arrow::ArrayVector columns;
    for (const auto& field : scan_.schema->fields()) {
      const auto column = batch.GetColumnByName(field->name());
      if (!column) {
        columns.push_back(unwrap_arrow(arrow::MakeArrayOfNull(field->type(), batch.num_rows()), "null column"));
      } else if (column->type()->Equals(*field->type())) {
        columns.push_back(column);
      } else {
        const auto where = fmt::format("{}: column '{}' ({} in the file, {} in the table)",
                                       end_.store.uri(scan_.files[index_].key), field->name(),
                                       column->type()->ToString(), field->type()->ToString());
        columns.push_back(unwrap_arrow<ConfigError>(arrow::compute::Cast(*column, field->type()), where));
      }
    }
    return arrow::RecordBatch::Make(scan_.schema, batch.num_rows(), std::move(columns));
  }

  IcebergEnd end_;
  iceberg::TableScan scan_;
  std::size_t index_ = 0;
  std::unique_ptr<ParquetBatchReader> reader_;
  uint64_t bytes_read_ = 0;
};

class IcebergTarget : public BatchTarget {
 public:
  IcebergTarget(const Endpoint& endpoint, const Config& config) : end_(endpoint, config) {}

  ~IcebergTarget() override {
    if (writer_) {
      writer_.reset();  // aborts the unfinished upload
      if (table_) table_->discard({data_key_});
    }
  }

  // The watermark lives in the summary of the snapshot that committed the rows (one
  // property per source), so rows and watermark appear together or not at all.
  std::optional<Watermark> stored_watermark(const std::string& source_id, const IncrementalFilter& filter) override {
    lock();
    filter_ = filter;
    const auto stored = end_.table()->summary_property(watermark_property(source_id));
    if (!stored) return std::nullopt;
    return parse_watermark_text(*stored, filter, fmt::format("Iceberg table {}.{}", end_.ns, end_.name));
  }

  std::shared_ptr<arrow::Schema> open(const std::shared_ptr<arrow::Schema>& source_schema,
                                      const TargetOptions& options) override {
    if (options.mode == WriteMode::merge) throw ConfigError("merge into Iceberg is not supported: use append or replace");
    lock();
    mode_ = options.mode == WriteMode::replace ? iceberg::WriteMode::Overwrite : iceberg::WriteMode::Append;
    arrow::FieldVector fields;
    for (const auto& field : source_schema->fields()) fields.push_back(field->WithType(iceberg_arrow_type(*field)));
    schema_ = arrow::schema(fields);
    end_.store.ensure_bucket();
    end_.catalog.ensure_tables();
    end_.catalog.ensure_namespace(end_.ns);
    if (!options.create && !end_.catalog.metadata_location(end_.ns, end_.name)) {
      throw ConfigError(fmt::format("Iceberg table {}.{} does not exist in catalog {}: pass --create to make it from "
                                    "the source's columns",
                                    end_.ns, end_.name, end_.catalog.name()));
    }
    table_ = end_.table();
    table_->check_schema(*schema_);
    data_key_ = table_->new_data_file_key();
    writer_ = std::make_unique<ParquetFileWriter>(end_.store.open_output(data_key_), iceberg::with_field_ids(*schema_));
    return schema_;
  }

  void write(const arrow::RecordBatch& batch) override {
    // The data file carries the Iceberg field ids in its schema.
    auto with_ids = arrow::RecordBatch::Make(iceberg::with_field_ids(*schema_), batch.num_rows(), batch.columns());
    writer_->write(*with_ids);
    rows_ += batch.num_rows();
  }

  void commit(const std::string& source_id, const std::optional<Watermark>& watermark) override {
    writer_->close();
    const auto stats = iceberg::column_stats(*writer_->metadata());
    writer_.reset();
    bytes_ = static_cast<uint64_t>(end_.store.size(data_key_));
    // A commit that fails deletes the data file with everything else it wrote.
    std::map<std::string, std::string> properties;
    if (watermark && filter_) {
      properties[watermark_property(source_id)] = watermark_text(*filter_, *watermark);
    }
    table_->commit(*schema_, {{data_key_, rows_, static_cast<int64_t>(bytes_), stats}}, mode_, properties);
  }

  uint64_t bytes_written() const override { return bytes_; }

 private:
  static std::string watermark_property(const std::string& source_id) { return "datalab.watermark " + source_id; }

  // One copy into a table at a time: two incremental runs would read the same watermark.
  void lock() {
    if (!lock_) lock_ = std::make_unique<AdvisoryLock>(end_.db, fmt::format("datalab copy into iceberg {} {}.{}",
                                                                             end_.catalog.name(), end_.ns, end_.name));
  }

  IcebergEnd end_;
  std::unique_ptr<AdvisoryLock> lock_;
  std::optional<IncrementalFilter> filter_;
  std::string data_key_;
  iceberg::WriteMode mode_ = iceberg::WriteMode::Append;
  std::shared_ptr<arrow::Schema> schema_;
  std::unique_ptr<iceberg::IcebergTable> table_;
  std::unique_ptr<ParquetFileWriter> writer_;
  int64_t rows_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<BatchSource> make_iceberg_source(const Endpoint& endpoint, const Config& config,
                                                 const std::optional<IncrementalFilter>& filter) {
  if (filter) {
    throw ConfigError(fmt::format("--incremental needs a PostgreSQL or ClickHouse source: {} ('{}') is copied whole (its current "
                                  "snapshot)",
                                  endpoint.kind_name(), endpoint.masked));
  }
  return std::make_unique<IcebergSource>(endpoint, config);
}

std::unique_ptr<BatchTarget> make_iceberg_target(const Endpoint& endpoint, const Config& config) {
  return std::make_unique<IcebergTarget>(endpoint, config);
}

}  // namespace datalab::transfer
