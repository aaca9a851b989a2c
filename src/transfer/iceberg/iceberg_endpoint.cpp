#include "transfer/iceberg/iceberg_endpoint.h"

#include <fmt/format.h>

#include "core/error.h"
#include "formats/parquet_file.h"
#include "storage/iceberg/column_stats.h"
#include "storage/iceberg/iceberg_table.h"
#include "storage/iceberg/sql_catalog.h"
#include "storage/objectstore/object_store.h"
#include "storage/postgres/postgres_connection.h"

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

class IcebergTarget : public BatchTarget {
 public:
  IcebergTarget(const Endpoint& endpoint, const Config& config)
      : db_(PostgresSettings::from(config)),
        store_(ObjectStoreSettings::from(config),
               endpoint.options.count("bucket") ? endpoint.options.at("bucket") : config.value("S3_BUCKET")),
        catalog_(db_, endpoint.catalog) {
    for (const auto& [name, value] : endpoint.options) {
      if (name != "bucket") throw ConfigError(fmt::format("'{}': unknown parameter '{}' (only bucket=)", endpoint.masked, name));
    }
    const auto dot = endpoint.table.find('.');
    if (endpoint.catalog.empty() || dot == std::string::npos || dot == 0 || dot + 1 == endpoint.table.size()) {
      throw ConfigError(fmt::format("'{}': expected iceberg://catalog/namespace.table", endpoint.masked));
    }
    ns_ = endpoint.table.substr(0, dot);
    name_ = endpoint.table.substr(dot + 1);
  }

  ~IcebergTarget() override {
    if (writer_) {
      writer_.reset();  // aborts the unfinished upload
      if (table_) table_->discard({data_key_});
    }
  }

  std::optional<Watermark> stored_watermark(const std::string&, const IncrementalFilter&) override {
    throw ConfigError("incremental copies into Iceberg are not supported yet: copy into PostgreSQL, or copy the "
                      "whole source with --mode replace");
  }

  std::shared_ptr<arrow::Schema> open(const std::shared_ptr<arrow::Schema>& source_schema,
                                      const TargetOptions& options) override {
    if (options.mode == WriteMode::merge) throw ConfigError("merge into Iceberg is not supported: use append or replace");
    mode_ = options.mode == WriteMode::replace ? iceberg::WriteMode::Overwrite : iceberg::WriteMode::Append;
    arrow::FieldVector fields;
    for (const auto& field : source_schema->fields()) fields.push_back(field->WithType(iceberg_arrow_type(*field)));
    schema_ = arrow::schema(fields);
    store_.ensure_bucket();
    catalog_.ensure_tables();
    catalog_.ensure_namespace(ns_);
    if (!options.create && !catalog_.metadata_location(ns_, name_)) {
      throw ConfigError(fmt::format("Iceberg table {}.{} does not exist in catalog {}: pass --create to make it from "
                                    "the source's columns",
                                    ns_, name_, catalog_.name()));
    }
    table_ = std::make_unique<iceberg::IcebergTable>(store_, catalog_, ns_, name_,
                                                     fmt::format("iceberg_warehouse/{}/{}", ns_, name_));
    table_->check_schema(*schema_);
    data_key_ = table_->new_data_file_key();
    writer_ = std::make_unique<ParquetFileWriter>(store_.open_output(data_key_), iceberg::with_field_ids(*schema_));
    return schema_;
  }

  void write(const arrow::RecordBatch& batch) override {
    // The data file carries the Iceberg field ids in its schema.
    auto with_ids = arrow::RecordBatch::Make(iceberg::with_field_ids(*schema_), batch.num_rows(), batch.columns());
    writer_->write(*with_ids);
    rows_ += batch.num_rows();
  }

  void commit(const std::string&, const std::optional<Watermark>&) override {
    writer_->close();
    const auto stats = iceberg::column_stats(*writer_->metadata());
    writer_.reset();
    bytes_ = static_cast<uint64_t>(store_.size(data_key_));
    // A commit that fails deletes the data file with everything else it wrote.
    table_->commit(*schema_, {{data_key_, rows_, static_cast<int64_t>(bytes_), stats}}, mode_);
  }

  uint64_t bytes_written() const override { return bytes_; }

 private:
  PgConnection db_;
  ObjectStore store_;
  iceberg::SqlCatalog catalog_;
  std::string ns_, name_, data_key_;
  iceberg::WriteMode mode_ = iceberg::WriteMode::Append;
  std::shared_ptr<arrow::Schema> schema_;
  std::unique_ptr<iceberg::IcebergTable> table_;
  std::unique_ptr<ParquetFileWriter> writer_;
  int64_t rows_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<BatchTarget> make_iceberg_target(const Endpoint& endpoint, const Config& config) {
  return std::make_unique<IcebergTarget>(endpoint, config);
}

}  // namespace datalab::transfer
