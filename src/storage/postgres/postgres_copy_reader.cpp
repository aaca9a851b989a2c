#include "storage/postgres/postgres_copy_reader.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/arrow_status.h"
#include "core/error.h"
#include "storage/postgres/binary_words.h"
#include "storage/postgres/pg_types.h"

namespace datalab {

namespace {
using namespace pg_binary;
void check(const arrow::Status& status) { check_arrow(status, "cannot build Arrow batch"); }
}  // namespace

// One column: its builder and the type table's decoder for its Arrow type.
struct PostgresCopyReader::Column {
  std::string name;
  std::shared_ptr<arrow::DataType> type;
  std::unique_ptr<arrow::ArrayBuilder> builder;
  PgDecode decode = nullptr;

  void append_null() { check(builder->AppendNull()); }

  void append(const char* p, int32_t size) {
    try {
      decode(p, size, *builder, *type);
    } catch (const Error& e) {
      throw Error(fmt::format("column {}: {}", name, e.what()));
    }
  }
};

PostgresCopyReader::PostgresCopyReader(PgConnection& db, const std::string& query,
                                       std::shared_ptr<arrow::Schema> schema, int64_t batch_rows)
    : db_(db), schema_(std::move(schema)), batch_rows_(batch_rows > 0 ? batch_rows : 65536) {
  for (const auto& field : schema_->fields()) {
    auto column = std::make_unique<Column>();
    column->name = field->name();
    column->type = field->type();
    column->decode = pg_decoder(*field);
    auto builder = arrow::MakeBuilder(field->type());
    if (!builder.ok()) throw Error("cannot build Arrow batch: " + builder.status().ToString());
    column->builder = std::move(*builder);
    columns_.push_back(std::move(column));
  }
  db_.exec(fmt::format("COPY ({}) TO STDOUT (FORMAT binary)", query));
}

PostgresCopyReader::~PostgresCopyReader() {
  if (done_) return;
  // Abandoned early: drain the rest of the COPY so the connection stays usable.
  try {
    PQrequestCancel(db_.raw());
    char* buffer = nullptr;
    while (PQgetCopyData(db_.raw(), &buffer, 0) > 0) PQfreemem(buffer);
    while (PGresult* r = PQgetResult(db_.raw())) PQclear(r);
  } catch (...) {
  }
}

bool PostgresCopyReader::read_row() {
  char* buffer = nullptr;
  const int len = PQgetCopyData(db_.raw(), &buffer, 0);
  if (len == -1) {
    finish_copy();
    return false;
  }
  if (len < 0) throw_postgres_error(db_.raw(), nullptr, "COPY from PostgreSQL failed");
  std::unique_ptr<char, decltype(&PQfreemem)> owned(buffer, &PQfreemem);
  bytes_ += static_cast<uint64_t>(len);
  const char* p = buffer;
  const char* end = buffer + len;
  if (!header_done_) {
    if (len < 19 || std::memcmp(p, "PGCOPY\n\377\r\n\0", 11) != 0) throw Error("COPY binary: bad header");
    const uint32_t extension = be32(p + 15);
    p += 19 + extension;
    header_done_ = true;
    if (p >= end) return read_row();  // header in a message of its own
  }
  const int16_t fields = static_cast<int16_t>(be16(p));
  p += 2;
  if (fields == -1) {  // trailer
    return read_row();
  }
  if (fields != static_cast<int16_t>(columns_.size())) {
    throw Error(fmt::format("COPY binary: the query returns {} columns, the schema has {}", fields, columns_.size()));
  }
  for (auto& column : columns_) {
    if (end - p < 4) throw Error("COPY binary: truncated row");
    const int32_t size = static_cast<int32_t>(be32(p));
    p += 4;
    if (size < 0) {
      column->append_null();
      continue;
    }
    if (end - p < size) throw Error("COPY binary: truncated value");
    column->append(p, size);
    p += size;
  }
  ++rows_;
  return true;
}

void PostgresCopyReader::finish_copy() {
  done_ = true;
  const PgResult result(PQgetResult(db_.raw()));
  const bool ok = PQresultStatus(result.get()) == PGRES_COMMAND_OK;
  while (PGresult* r = PQgetResult(db_.raw())) PQclear(r);
  // A query failing part way (a division by zero in row n) arrives here, SQLSTATE and all.
  if (!ok) throw_postgres_error(db_.raw(), result.get(), "COPY from PostgreSQL failed");
}

std::shared_ptr<arrow::RecordBatch> PostgresCopyReader::next() {
  if (done_) return nullptr;
  int64_t n = 0;
  while (n < batch_rows_ && read_row()) ++n;
  if (n == 0) return nullptr;
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  for (auto& column : columns_) {
    std::shared_ptr<arrow::Array> array;
    check(column->builder->Finish(&array));
    arrays.push_back(std::move(array));
  }
  return arrow::RecordBatch::Make(schema_, n, std::move(arrays));
}

}  // namespace datalab
