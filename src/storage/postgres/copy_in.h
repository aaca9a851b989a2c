#pragma once
// COPY … FROM STDIN: the one way datalab writes rows into PostgreSQL in bulk. It owns the
// protocol: it sends the rows in 1 MiB pieces, frames binary COPY (header before the first
// tuple, trailer after the last), turns a refusal into a PostgresError carrying the SQLSTATE,
// and aborts the COPY when dropped unfinished, so the connection stays usable.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/api.h>

#include "storage/postgres/copy_binary_encoder.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab {

enum class CopyFormat { text, csv, binary };

struct CopyOptions {
  CopyFormat format = CopyFormat::binary;
  // COPY FREEZE: only into a table created or truncated in the same transaction.
  bool freeze = false;
};

class CopyIn {
 public:
  // Rows the caller encodes in `options.format` (text or CSV lines; binary tuples from
  // CopyBinaryTuple) into `columns` of schema.table (every column in table order when empty).
  CopyIn(PgConnection& connection, const std::string& schema_name, const std::string& table_name,
         const std::vector<std::string>& columns, CopyOptions options);
  // Arrow record batches, binary format, into the columns named by the schema's fields.
  CopyIn(PgConnection& connection, const std::string& schema_name, const std::string& table_name,
         std::shared_ptr<arrow::Schema> schema, bool freeze = false);
  ~CopyIn();
  CopyIn(CopyIn&& other) noexcept;
  CopyIn(const CopyIn&) = delete;
  CopyIn& operator=(const CopyIn&) = delete;
  CopyIn& operator=(CopyIn&&) = delete;

  // Encoded rows (whole rows; in binary format, whole tuples).
  void write_rows(std::string_view rows);
  // One Arrow batch; only for the Arrow constructor.
  void write(const arrow::RecordBatch& batch);
  // Ends the COPY; returns the rows the server stored. Throws PostgresError when the server
  // refused the data; its sqlstate() tells why (e.g. "23505", a unique violation).
  long long finish();
  uint64_t bytes_sent() const { return bytes_sent_; }  // COPY data handed to the server so far

 private:
  void open(const std::vector<std::string>& columns, CopyOptions options);
  void send_if_full();
  void send();
  [[noreturn]] void fail(const PGresult* result);

  PgConnection* connection_;
  std::string target_;  // "schema"."table", for messages
  std::optional<CopyBinaryEncoder> encoder_;
  CopyBuffer buffer_;
  bool binary_ = false, open_ = false;
  uint64_t bytes_sent_ = 0;
};

// Appends one row in COPY's text format: fields escaped and tab-separated, std::nullopt as NULL.
void append_copy_text_row(std::string& out, const std::vector<std::optional<std::string>>& fields);

}  // namespace datalab
