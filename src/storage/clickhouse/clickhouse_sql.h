#pragma once
// Quoting for the few values datalab puts into ClickHouse SQL text, and parsing of the
// server's error and version strings. 18.16 has no query parameters ({name:Type}), so
// values are quoted here instead of being spliced raw.
#include <optional>
#include <string>
#include <string_view>

namespace datalab::clickhouse {

// 'it''s' style is not ClickHouse's: backslash-escapes quotes, backslashes and controls.
std::string quote_string(std::string_view value);
// `name` with backquotes and backslashes escaped.
std::string quote_identifier(std::string_view name);

struct ServerError {
  int code = 0;            // ClickHouse's error code (81 UNKNOWN_DATABASE, 193/516 wrong password, ...)
  std::string message;     // the exception text without the "Code: N" and "e.what()" noise
};
// Parses "Code: 81, e.displayText() = DB::Exception: ..." (18.x) and
// "Code: 81. DB::Exception: ... (UNKNOWN_DATABASE) (version ...)" (21+).
ServerError parse_server_error(std::string_view body);

struct ServerVersion {
  int major = 0, minor = 0, patch = 0;
  bool at_least(int want_major, int want_minor) const {
    return major > want_major || (major == want_major && minor >= want_minor);
  }
};
std::optional<ServerVersion> parse_server_version(std::string_view text);

}  // namespace datalab::clickhouse
