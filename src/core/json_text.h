#pragma once
// JSON text written by hand on hot paths (a message or row per value, where building a JSON
// tree would cost more than the data): the one string escaper they share.
#include <string>
#include <string_view>

namespace datalab {

// Appends `text` as a JSON string: quotes, backslashes and control characters escaped,
// UTF-8 passed through as it is.
void append_json_string(std::string& out, std::string_view text);

}  // namespace datalab
