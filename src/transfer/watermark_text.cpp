#include "transfer/watermark_text.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace datalab::transfer {

std::string watermark_text(const IncrementalFilter& filter, const Watermark& mark) {
  return nlohmann::json{{"cursor_column", filter.cursor_column}, {"key_columns", filter.key_columns},
                        {"cursor", mark.cursor}, {"key", mark.key}}
      .dump();
}

Watermark parse_watermark_text(const std::string& text, const IncrementalFilter& filter, const std::string& where) {
  std::string cursor_column;
  std::vector<std::string> key_columns;
  Watermark mark;
  try {
    const auto j = nlohmann::json::parse(text);
    cursor_column = j.at("cursor_column").get<std::string>();
    key_columns = j.at("key_columns").get<std::vector<std::string>>();
    mark.cursor = j.at("cursor").get<std::string>();
    mark.key = j.at("key").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    throw ServiceError(fmt::format("{} holds a watermark that is not one datalab wrote: {}", where, text));
  }
  if (cursor_column != filter.cursor_column || key_columns != filter.key_columns) {
    throw ConfigError(fmt::format("{} holds a watermark for this source taken with --cursor {}{}, not --cursor {}{}: "
                                  "copy with the same columns, or into another target to start over",
                                  where, cursor_column,
                                  key_columns.empty() ? "" : fmt::format(" --key {}", fmt::join(key_columns, ",")),
                                  filter.cursor_column,
                                  filter.key_columns.empty() ? ""
                                                             : fmt::format(" --key {}", fmt::join(filter.key_columns, ","))));
  }
  return mark;
}

}  // namespace datalab::transfer
