#pragma once
// Splits a SQL script into statements on top-level semicolons, so each statement can be
// run and reported on its own. Understands '...' and "..." quoting, E'' escapes,
// dollar-quoted bodies ($$ ... $$, $tag$ ... $tag$), -- and /* */ comments.
#include <string>
#include <string_view>
#include <vector>

namespace datalab {

struct SqlStatement {
  std::string text;  // without the terminating semicolon, trimmed
  int line;          // 1-based line where the statement starts in the script
};

std::vector<SqlStatement> split_sql_script(std::string_view script);

}  // namespace datalab
