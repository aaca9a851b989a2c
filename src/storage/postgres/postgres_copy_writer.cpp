#include "storage/postgres/postgres_copy_writer.h"

#include <fmt/format.h>

#include "core/error.h"

namespace datalab {

PostgresCopyWriter::PostgresCopyWriter(PgConnection& connection, const std::string& schema_name,
                                       const std::string& table_name,
                                       std::shared_ptr<arrow::Schema> schema, bool freeze)
    : connection_(connection), encoder_(std::move(schema)) {
  target_ = quote_identifier(schema_name) + "." + quote_identifier(table_name);
  std::string columns;
  for (const auto& field : encoder_.schema()->fields()) {
    columns += (columns.empty() ? "" : ", ") + quote_identifier(field->name());
  }
  connection_.exec(fmt::format("COPY {} ({}) FROM STDIN WITH (FORMAT binary{})", target_, columns,
                               freeze ? ", FREEZE" : ""));
  open_ = true;
  buffer_.reserve(1 << 20);
  CopyBinaryEncoder::append_header(buffer_);
}

PostgresCopyWriter::~PostgresCopyWriter() {
  if (open_) {
    // Abandoned (an exception is on its way): abort the COPY so the connection stays usable.
    PQputCopyEnd(connection_.raw(), "datalab: copy abandoned");
    while (PGresult* result = PQgetResult(connection_.raw())) PQclear(result);
  }
}

void PostgresCopyWriter::send(const std::string& data) {
  if (PQputCopyData(connection_.raw(), data.data(), static_cast<int>(data.size())) != 1) {
    throw_postgres_error(connection_.raw(), nullptr, fmt::format("COPY into {} failed", target_));
  }
}

void PostgresCopyWriter::write(const arrow::RecordBatch& batch) {
  encoder_.append_batch(batch, buffer_);
  if (buffer_.size() >= (1 << 20)) {
    send(buffer_);
    buffer_.clear();
  }
}

long long PostgresCopyWriter::finish() {
  CopyBinaryEncoder::append_trailer(buffer_);
  send(buffer_);
  buffer_.clear();
  open_ = false;
  if (PQputCopyEnd(connection_.raw(), nullptr) != 1) {
    throw_postgres_error(connection_.raw(), nullptr, fmt::format("COPY into {} failed", target_));
  }
  PgResult result(PQgetResult(connection_.raw()));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    throw_postgres_error(connection_.raw(), result.get(), fmt::format("COPY into {} failed", target_));
  }
  const long long rows = result.affected();
  while (PGresult* extra = PQgetResult(connection_.raw())) PQclear(extra);
  return rows;
}

}  // namespace datalab
