#pragma once
// The one table of the types datalab moves between Arrow and PostgreSQL: for each Arrow type
// the PostgreSQL type it is stored as, and how one value travels in binary COPY either way
// (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"):
//   bool <-> boolean, int16 <-> smallint, int32 <-> integer, int64 <-> bigint,
//   float <-> real, double <-> double precision, utf8 <-> text (also read from varchar,
//   char, name; large_utf8 is written as text), binary <-> bytea, date32 <-> date,
//   timestamp <-> timestamp (written from any unit, read as microseconds),
//   timestamp with a zone <-> timestamptz, decimal128(p,s) <-> numeric(p,s).
// The COPY encoder, the COPY reader and every CREATE TABLE from an Arrow schema use it.
#include <cstdint>
#include <memory>
#include <string>

#include <arrow/api.h>

namespace datalab {

// How the COPY encoder writes a value (a switch over these inlines each case in its row loop;
// the encoders themselves are in pg_binary_encode.h).
enum class PgKind { boolean, int16, int32, int64, float32, float64, text, large_text, bytea, date, timestamp, decimal };
// Appends one binary COPY field value of `size` bytes to `builder`, whose type is `type`.
// Throws datalab::Error saying what does not fit (the caller adds the column).
using PgDecode = void (*)(const char* value, int32_t size, arrow::ArrayBuilder& builder, const arrow::DataType& type);

// The PostgreSQL column type for an Arrow field ("bigint", "numeric(12,2)", "timestamptz").
// Throws datalab::Error naming the field and its type when PostgreSQL cannot hold it.
std::string pg_column_type(const arrow::Field& field);
// "name type" pairs for CREATE TABLE, in the schema's order; NOT NULL where the field is.
std::string pg_column_definitions(const arrow::Schema& schema);
PgKind pg_kind(const arrow::Field& field);  // throws like pg_column_type
PgDecode pg_decoder(const arrow::Field& field);  // throws when datalab cannot read into it

// The Arrow type a PostgreSQL result column of type `oid` (with its type modifier) is read
// as, or nullptr when datalab does not read that type (cast it in the query).
std::shared_ptr<arrow::DataType> arrow_type_of_pg(uint32_t oid, int typmod);

// PostgreSQL's binary numeric for a decimal given as its unscaled integer digits and scale,
// e.g. ("-12345", 2) for -123.45. Exposed for tests.
std::string encode_pg_numeric(const std::string& unscaled, int scale);

// The binary COPY framing: the signature and header before the first tuple, the trailer after the last.
void append_copy_binary_header(std::string& out);
void append_copy_binary_trailer(std::string& out);

}  // namespace datalab
