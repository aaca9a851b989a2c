#pragma once
// Small input batches as records of text fields (field -> value), read from CSV with a
// header line or from JSON (an array of objects, or one object). Absent fields stay absent
// so validation can tell "missing" from "empty".
#include <map>
#include <string>
#include <vector>

namespace datalab {

using TextRecord = std::map<std::string, std::string>;

// A CSV line that does not split into the header's fields is kept, in its place, as a
// record holding only this key with the reason, so callers reject it like any bad row
// instead of losing the file or the row.
inline constexpr const char* kMalformedRowField = "#malformed";

std::vector<TextRecord> read_records_file(const std::string& path);
std::vector<TextRecord> parse_json_records(const std::string& text, const std::string& origin);
std::vector<TextRecord> parse_csv_records(const std::string& text, const std::string& origin);

}  // namespace datalab
