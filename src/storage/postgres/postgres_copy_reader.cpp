#include "storage/postgres/postgres_copy_reader.h"

#include <cstring>

#include <fmt/format.h>

#include "core/error.h"
#include "storage/postgres/binary_words.h"

namespace datalab {

using pg_binary::be32;
using pg_binary::be16;

PostgresCopyReader::PostgresCopyReader(PgConnection& db, const std::string& query,
                                       std::shared_ptr<arrow::Schema> schema, int64_t batch_rows)
    : db_(db),
      schema_(std::move(schema)),
      batch_rows_(batch_rows > 0 ? batch_rows : 65536),
      decoder_(schema_, batch_rows_) {
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
  if (end - p >= 2 && static_cast<int16_t>(be16(p)) == -1) return read_row();  // trailer
  decoder_.append_tuple(p, end);
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
  return decoder_.finish_batch();
}

}  // namespace datalab
