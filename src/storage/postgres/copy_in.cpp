#include "storage/postgres/copy_in.h"

#include <fmt/format.h>

#include "core/error.h"

namespace datalab {

namespace {
constexpr std::size_t kSendBytes = 1 << 20;
}  // namespace

CopyIn::CopyIn(PgConnection& connection, const std::string& schema_name, const std::string& table_name,
               const std::vector<std::string>& columns, CopyOptions options)
    : connection_(&connection), target_(quote_identifier(schema_name) + "." + quote_identifier(table_name)) {
  open(columns, options);
}

CopyIn::CopyIn(PgConnection& connection, const std::string& schema_name, const std::string& table_name,
               std::shared_ptr<arrow::Schema> schema, bool freeze)
    : connection_(&connection),
      target_(quote_identifier(schema_name) + "." + quote_identifier(table_name)),
      encoder_(std::in_place, std::move(schema)) {
  std::vector<std::string> columns;
  for (const auto& field : encoder_->schema()->fields()) columns.push_back(field->name());
  open(columns, {CopyFormat::binary, freeze});
}

CopyIn::CopyIn(CopyIn&& other) noexcept
    : connection_(other.connection_),
      target_(std::move(other.target_)),
      encoder_(std::move(other.encoder_)),
      buffer_(std::move(other.buffer_)),
      binary_(other.binary_),
      open_(other.open_),
      bytes_sent_(other.bytes_sent_) {
  other.open_ = false;
}

void CopyIn::open(const std::vector<std::string>& columns, CopyOptions options) {
  std::string column_list;
  for (const auto& column : columns) column_list += (column_list.empty() ? "" : ", ") + quote_identifier(column);
  const char* format = options.format == CopyFormat::binary ? "binary" : options.format == CopyFormat::csv ? "csv" : "text";
  connection_->exec(fmt::format("COPY {}{} FROM STDIN WITH (FORMAT {}{})", target_,
                                column_list.empty() ? "" : " (" + column_list + ")", format,
                                options.freeze ? ", FREEZE" : ""));
  open_ = true;
  binary_ = options.format == CopyFormat::binary;
  if (binary_) {
    std::string header;
    append_copy_binary_header(header);
    buffer_.append(header);
  }
}

CopyIn::~CopyIn() {
  if (open_) {
    // Abandoned (an exception is on its way): abort the COPY so the connection stays usable.
    PQputCopyEnd(connection_->raw(), "datalab: copy abandoned");
    while (PGresult* result = PQgetResult(connection_->raw())) PQclear(result);
  }
}

void CopyIn::fail(const PGresult* result) {
  throw_postgres_error(connection_->raw(), result, fmt::format("COPY into {} failed", target_));
}

void CopyIn::send() {
  if (buffer_.empty()) return;
  if (PQputCopyData(connection_->raw(), buffer_.data(), static_cast<int>(buffer_.size())) != 1) fail(nullptr);
  bytes_sent_ += buffer_.size();
  buffer_.clear();
}

void CopyIn::send_if_full() {
  if (buffer_.size() >= kSendBytes) send();
}

void CopyIn::write_rows(std::string_view rows) {
  buffer_.append(rows);
  send_if_full();
}

void CopyIn::write(const arrow::RecordBatch& batch) {
  if (!encoder_) throw Error(fmt::format("COPY into {}: Arrow batches need the Arrow-schema CopyIn", target_));
  encoder_->append_batch(batch, buffer_);
  send_if_full();
}

long long CopyIn::finish() {
  if (binary_) {
    std::string trailer;
    append_copy_binary_trailer(trailer);
    buffer_.append(trailer);
  }
  send();
  open_ = false;
  if (PQputCopyEnd(connection_->raw(), nullptr) != 1) fail(nullptr);
  const PgResult result(PQgetResult(connection_->raw()));
  const bool ok = PQresultStatus(result.get()) == PGRES_COMMAND_OK;
  while (PGresult* extra = PQgetResult(connection_->raw())) PQclear(extra);
  if (!ok) fail(result.get());
  return result.affected();
}

void append_copy_text_row(std::string& out, const std::vector<std::optional<std::string>>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += '\t';
    if (!fields[i]) {
      out += "\\N";
      continue;
    }
    for (const char c : *fields[i]) {
      switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
      }
    }
  }
  out += '\n';
}

}  // namespace datalab
