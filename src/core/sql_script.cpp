#include "core/sql_script.h"

#include <cctype>

namespace datalab {

namespace {

std::string trimmed(std::string_view text) {
  std::size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  return std::string(text.substr(b, e - b));
}

// A dollar-quote tag starts at text[i] == '$': returns "$tag$" or "" when it is not one
// (e.g. a positional parameter $1).
std::string_view dollar_tag(std::string_view text, std::size_t i) {
  std::size_t j = i + 1;
  if (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) return {};
  while (j < text.size() &&
         (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) ++j;
  if (j < text.size() && text[j] == '$') return text.substr(i, j - i + 1);
  return {};
}

}  // namespace

std::vector<SqlStatement> split_sql_script(std::string_view script) {
  std::vector<SqlStatement> statements;
  std::size_t start = 0, i = 0;
  int line = 1, start_line = 1;
  bool in_statement = false;  // seen a character that is neither blank nor comment

  auto advance_to = [&](std::size_t target) {
    for (; i < target && i < script.size(); ++i) if (script[i] == '\n') ++line;
  };
  auto flush = [&](std::size_t end) {
    if (in_statement) statements.push_back({trimmed(script.substr(start, end - start)), start_line});
    in_statement = false;
  };

  while (i < script.size()) {
    const char c = script[i];
    const bool comment = script.substr(i, 2) == "--" || script.substr(i, 2) == "/*";
    if (!in_statement && !comment && c != ';' && !std::isspace(static_cast<unsigned char>(c))) {
      in_statement = true;
      start = i;
      start_line = line;
    }
    if (c == '-' && script.substr(i, 2) == "--") {
      const auto end = script.find('\n', i);
      advance_to(end == std::string_view::npos ? script.size() : end);
    } else if (c == '/' && script.substr(i, 2) == "/*") {
      const auto end = script.find("*/", i + 2);
      advance_to(end == std::string_view::npos ? script.size() : end + 2);
    } else if (c == '\'' || c == '"') {
      // E'...' strings allow backslash escapes; doubled quotes escape everywhere.
      const bool backslash_escapes = c == '\'' && i > 0 && (script[i - 1] == 'E' || script[i - 1] == 'e');
      std::size_t j = i + 1;
      while (j < script.size()) {
        if (backslash_escapes && script[j] == '\\') { j += 2; continue; }
        if (script[j] == c) {
          if (j + 1 < script.size() && script[j + 1] == c) { j += 2; continue; }
          break;
        }
        ++j;
      }
      advance_to(j + 1);
    } else if (c == '$' && !dollar_tag(script, i).empty()) {
      const auto tag = dollar_tag(script, i);
      const auto end = script.find(tag, i + tag.size());
      advance_to(end == std::string_view::npos ? script.size() : end + tag.size());
    } else if (c == ';') {
      flush(i);
      advance_to(i + 1);
    } else {
      advance_to(i + 1);
    }
  }
  flush(script.size());
  return statements;
}

}  // namespace datalab
