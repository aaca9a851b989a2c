#include "formats/records.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <arrow/api.h>
#include <arrow/csv/api.h>
#include <arrow/io/memory.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace datalab {

std::vector<TextRecord> parse_json_records(const std::string& text, const std::string& origin) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(fmt::format("{}: not valid JSON: {}", origin, e.what()));
  }
  if (doc.is_object()) doc = nlohmann::json::array({doc});
  if (!doc.is_array()) throw Error(fmt::format("{}: expected a JSON array of objects", origin));
  std::vector<TextRecord> records;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    if (!doc[i].is_object()) throw Error(fmt::format("{}: element {} is not an object", origin, i + 1));
    TextRecord record;
    for (const auto& [key, value] : doc[i].items()) {
      if (value.is_null()) continue;  // null is a missing value
      record[key] = value.is_string() ? value.get<std::string>() : value.dump();
    }
    records.push_back(std::move(record));
  }
  return records;
}

std::vector<TextRecord> parse_csv_records(const std::string& text, const std::string& origin) {
  // Every column is read as text: validation, not type inference, decides what is valid.
  auto read_options = arrow::csv::ReadOptions::Defaults();
  read_options.use_threads = false;  // malformed lines are then reported in file order
  auto parse_options = arrow::csv::ParseOptions::Defaults();
  struct Malformed {
    int64_t line;
    std::string reason;
  };
  std::vector<Malformed> malformed;
  parse_options.invalid_row_handler = [&](const arrow::csv::InvalidRow& row) {
    malformed.push_back({row.number, fmt::format("line {}: expected {} fields, found {}", row.number,
                                                 row.expected_columns, row.actual_columns)});
    return arrow::csv::InvalidRowResult::Skip;
  };
  auto convert_options = arrow::csv::ConvertOptions::Defaults();
  convert_options.strings_can_be_null = false;
  const std::string header = text.substr(0, text.find('\n'));
  {
    auto probe = arrow::csv::TableReader::Make(arrow::io::default_io_context(),
                                               std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(header + "\n")),
                                               read_options, arrow::csv::ParseOptions::Defaults(), convert_options);
    if (!probe.ok()) throw Error(fmt::format("{}: {}", origin, probe.status().ToString()));
    auto header_table = (*probe)->Read();
    if (!header_table.ok()) throw Error(fmt::format("{}: cannot read the header line: {}", origin, header_table.status().message()));
    for (const auto& name : (*header_table)->ColumnNames()) convert_options.column_types[name] = arrow::utf8();
  }
  auto reader = arrow::csv::TableReader::Make(arrow::io::default_io_context(),
                                              std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(text)), read_options,
                                              parse_options, convert_options);
  if (!reader.ok()) throw Error(fmt::format("{}: {}", origin, reader.status().ToString()));
  auto table = (*reader)->Read();
  if (!table.ok()) throw Error(fmt::format("{}: {}", origin, table.status().message()));
  auto combined = (*table)->CombineChunks();
  std::vector<TextRecord> records((*table)->num_rows());
  for (int c = 0; c < (*table)->num_columns(); ++c) {
    const auto& name = (*table)->field(c)->name();
    auto column = std::static_pointer_cast<arrow::StringArray>((*combined)->column(c)->chunk(0));
    for (int64_t r = 0; r < column->length(); ++r) records[r][name] = std::string(column->GetView(r));
  }
  // Line n (the header is line 1) is record n - 2, as long as no value spans lines.
  for (const auto& bad : malformed) {
    const auto at = std::clamp<int64_t>(bad.line - 2, 0, static_cast<int64_t>(records.size()));
    records.insert(records.begin() + at, TextRecord{{kMalformedRowField, bad.reason}});
  }
  return records;
}

std::vector<TextRecord> read_records_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("cannot read '{}'", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (text[first] == '[' || text[first] == '{')) return parse_json_records(text, path);
  return parse_csv_records(text, path);
}

}  // namespace datalab
