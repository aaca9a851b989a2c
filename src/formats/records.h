#pragma once
// Small input batches as records of text fields (field -> value), read from CSV with a
// header line or from JSON (an array of objects, or one object). Absent fields stay absent
// so validation can tell "missing" from "empty".
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace datalab {

using TextRecord = std::map<std::string, std::string>;

// A CSV line that does not split into the header's fields is kept, in its place, as a
// record holding only this key with the reason, so callers reject it like any bad row
// instead of losing the file or the row.
inline constexpr const char* kMalformedRowField = "#malformed";

// A JSON value that is not a string is kept as its text (numbers exactly as written) and
// its JSON type under "#json:<field>" ("number", "boolean", "object" or "array"), so that
// validation can refuse a number where a name belongs, or an object anywhere.
inline constexpr const char* kJsonTypePrefix = "#json:";

std::vector<TextRecord> read_records_file(const std::string& path);
// JSON text as records; an element that is not an object is a malformed record in its place.
std::vector<TextRecord> parse_json_records(const std::string& text, const std::string& origin);
// CSV through Arrow (whole text in memory), used by the star module.
std::vector<TextRecord> parse_csv_records(const std::string& text, const std::string& origin);

// Streaming input, one record at a time, memory bounded by the longest record: CSV with a
// header line (RFC 4180 quoting; blank lines skipped) or JSON (an array of objects, or one
// object), told apart by the first non-blank byte. Bytes are passed through as they are
// (NUL or invalid UTF-8 included): validation rejects such a row, not the whole file.
// A CSV problem confined to one record (wrong field count, a field longer than
// max_field_bytes, an unbalanced quote) becomes a malformed record in its place.
struct RecordReadOptions {
  std::size_t max_field_bytes = 1 << 20;  // longer fields are not kept: their row is malformed
};
struct RecordStreamSummary {
  bool json = false;
  bool empty = false;        // no content at all (only blanks)
  bool header_only = false;  // CSV with a header line and no rows
  std::size_t records = 0;   // records handed to the sink (malformed ones included)
};
using RecordSink = std::function<void(TextRecord&&)>;
RecordStreamSummary stream_records_file(const std::string& path, const RecordSink& sink,
                                        const RecordReadOptions& options = {});
RecordStreamSummary stream_records(std::istream& in, const std::string& origin, const RecordSink& sink,
                                   const RecordReadOptions& options = {});
// stream_records over a string, collected (for tests and small inputs).
std::vector<TextRecord> read_records(const std::string& text, const std::string& origin,
                                     const RecordReadOptions& options = {});

// JSON must be UTF-8, and a JSON parser refuses a whole file for one bad byte; so the JSON
// reader stands in for each byte that is not UTF-8 with a private-use character (U+10FF80
// to U+10FFFF, one per byte value), which invalid_utf8_at reports as invalid: the row that
// held it is rejected, the rest of the file is read. (Those 128 private-use characters
// are therefore refused in JSON input.)
// Offset of the first byte that is not part of well-formed UTF-8 (or such a stand-in).
std::optional<std::size_t> invalid_utf8_at(std::string_view text);
// The byte at `at` as it was in the input (the original of a stand-in).
unsigned char input_byte_at(std::string_view text, std::size_t at);
// Text safe to print and to put into JSON: NUL and control bytes as \0 / \xNN, invalid
// UTF-8 bytes as \xNN; cut to at most max_bytes (plus "...").
std::string printable(std::string_view text, std::size_t max_bytes = 40);

}  // namespace datalab
