#include "storage/clickhouse/clickhouse_sql.h"

#include <charconv>
#include <regex>

namespace datalab::clickhouse {

namespace {

std::string escape(std::string_view value, char quote) {
  std::string out;
  out.reserve(value.size() + 2);
  out += quote;
  for (const char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\0': out += "\\0"; break;
      default:
        if (c == quote) out += '\\';
        out += c;
    }
  }
  out += quote;
  return out;
}

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace

std::string quote_string(std::string_view value) { return escape(value, '\''); }
std::string quote_identifier(std::string_view name) { return escape(name, '`'); }

ServerError parse_server_error(std::string_view body) {
  ServerError error;
  std::string text = trim(std::string(body));
  static const std::regex code_re(R"(Code:\s*(\d+))");
  std::smatch match;
  if (std::regex_search(text, match, code_re)) error.code = std::stoi(match[1]);
  // Keep the message after the last "DB::Exception: " (nested exceptions repeat it).
  const std::string marker = "DB::Exception: ";
  if (const auto at = text.find(marker); at != std::string::npos) text = text.substr(at + marker.size());
  for (const std::string tail : {", e.what() = ", " (version "}) {
    if (const auto at = text.find(tail); at != std::string::npos) text = text.substr(0, at);
  }
  // 21+ ends with the symbolic name, e.g. "... (UNKNOWN_DATABASE)": keep it, it helps.
  // One line: a message may quote the statement with its line breaks.
  for (auto& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  error.message = trim(text);
  if (error.message.size() > 600) error.message = error.message.substr(0, 600) + "...";
  return error;
}

std::optional<ServerVersion> parse_server_version(std::string_view text) {
  ServerVersion version;
  int* parts[] = {&version.major, &version.minor, &version.patch};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 3; ++i) {
    const auto [next, ec] = std::from_chars(p, end, *parts[i]);
    if (ec != std::errc()) {
      if (i < 2) return std::nullopt;  // major and minor are required
      break;
    }
    p = next;
    if (p == end || *p != '.') {
      if (i == 0) return std::nullopt;  // "18" alone is not a version
      break;
    }
    ++p;
  }
  return version;
}

}  // namespace datalab::clickhouse
