#pragma once
// COPY ... FROM STDIN of bytes the caller has already formatted: CSV files as they are, or
// rows encoded by the caller (text, or binary tuples from CopyBinaryTuple); a refusal is a
// PostgresError carrying the SQLSTATE.
#include <string>
#include <string_view>

#include "storage/postgres/postgres_connection.h"

namespace datalab {

class PostgresCopyStream {
 public:
  // `copy_statement` is the full "COPY ... FROM STDIN ..." statement.
  PostgresCopyStream(PgConnection& connection, std::string copy_statement);
  ~PostgresCopyStream();
  PostgresCopyStream(const PostgresCopyStream&) = delete;
  PostgresCopyStream& operator=(const PostgresCopyStream&) = delete;

  void write(std::string_view data);
  // Ends the COPY; returns the rows the server stored. Throws PostgresError when the server
  // refused the data; its sqlstate() tells why (e.g. "23505", a unique violation).
  long long finish();

 private:
  void send();
  PgConnection& connection_;
  std::string statement_, buffer_;
  bool open_ = false;
};

// Appends a value escaped for COPY's text format (backslash, tab, newline, carriage return).
void append_copy_text(std::string& out, std::string_view value);

}  // namespace datalab
