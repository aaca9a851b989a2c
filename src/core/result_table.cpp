#include "core/result_table.h"

#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "core/error.h"

namespace datalab {

namespace {

// Display width of a UTF-8 string (code points; good enough for names and titles).
std::size_t display_width(const std::string& s) {
  std::size_t width = 0;
  for (unsigned char c : s) width += (c & 0xC0) != 0x80;
  return width;
}

constexpr std::size_t kMaxCellWidth = 60;

std::string clip(const std::string& s) {
  if (display_width(s) <= kMaxCellWidth) return s;
  std::string out;
  std::size_t width = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++width > kMaxCellWidth - 1) break;
    out += s[i];
  }
  return out + "…";
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

OutputFormat parse_output_format(const std::string& name) {
  if (name == "table") return OutputFormat::Table;
  if (name == "json") return OutputFormat::Json;
  if (name == "csv") return OutputFormat::Csv;
  throw ConfigError(fmt::format("unknown output format '{}' (expected table, json or csv)", name));
}

std::string render_text(const ResultTable& table) {
  const std::size_t n = table.columns.size();
  std::vector<std::size_t> widths(n);
  for (std::size_t c = 0; c < n; ++c) widths[c] = display_width(table.columns[c]);
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : table.rows) {
    auto& out = cells.emplace_back();
    for (std::size_t c = 0; c < n; ++c) {
      out.push_back(c < row.size() && row[c] ? clip(*row[c]) : std::string("NULL"));
      widths[c] = std::max(widths[c], display_width(out.back()));
    }
  }
  auto line = [&](const std::vector<std::string>& values, bool header) {
    std::string s;
    for (std::size_t c = 0; c < n; ++c) {
      const std::size_t pad = widths[c] - display_width(values[c]);
      const bool right = !header && table.kind(c) == ValueKind::Number;
      s += c == 0 ? " " : " | ";
      s += right ? std::string(pad, ' ') + values[c] : values[c] + std::string(pad, ' ');
    }
    return s + "\n";
  };
  std::string out = line(table.columns, true);
  std::string rule;
  for (std::size_t c = 0; c < n; ++c) rule += (c == 0 ? "-" : "-+-") + std::string(widths[c], '-');
  out += rule + "-\n";
  for (const auto& row : cells) out += line(row, false);
  out += fmt::format("({} row{})\n", table.rows.size(), table.rows.size() == 1 ? "" : "s");
  return out;
}

std::string render_csv(const ResultTable& table) {
  std::string out;
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    out += (c ? "," : "") + csv_field(table.columns[c]);
  }
  out += "\n";
  for (const auto& row : table.rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      out += (c ? "," : "") + (row[c] ? csv_field(*row[c]) : std::string());
    }
    out += "\n";
  }
  return out;
}

nlohmann::json to_json(const ResultTable& table) {
  auto rows = nlohmann::json::array();
  for (const auto& row : table.rows) {
    nlohmann::json object = nlohmann::json::object();
    for (std::size_t c = 0; c < table.columns.size() && c < row.size(); ++c) {
      const auto& value = row[c];
      if (!value) {
        object[table.columns[c]] = nullptr;
      } else if (table.kind(c) == ValueKind::Number) {
        // Keep exact decimals exact: integers as numbers, others parsed as double only
        // when that round-trips; otherwise the text.
        try {
          std::size_t used = 0;
          const long long i = std::stoll(*value, &used);
          if (used == value->size()) { object[table.columns[c]] = i; continue; }
          const double d = std::stod(*value, &used);
          object[table.columns[c]] = used == value->size() ? nlohmann::json(d) : nlohmann::json(*value);
        } catch (const std::exception&) {
          object[table.columns[c]] = *value;
        }
      } else if (table.kind(c) == ValueKind::Bool) {
        object[table.columns[c]] = *value == "t" || *value == "true";
      } else {
        object[table.columns[c]] = *value;
      }
    }
    rows.push_back(std::move(object));
  }
  return rows;
}

void Report::table(const std::string& title, const ResultTable& t) {
  switch (format_) {
    case OutputFormat::Table:
      std::cout << "\n== " << title << " ==\n" << render_text(t) << std::flush;
      break;
    case OutputFormat::Json:
      sections_.push_back({{"title", title}, {"rows", to_json(t)}});
      break;
    case OutputFormat::Csv:
      csv_ += "# " + title + "\n" + render_csv(t) + "\n";
      break;
  }
}

void Report::note(const std::string& text) {
  if (format_ == OutputFormat::Table) {
    std::cout << text << "\n" << std::flush;
  } else if (format_ == OutputFormat::Json) {
    sections_.push_back({{"note", text}});
  } else {
    csv_ += "# " + text + "\n";
  }
}

void Report::summary(const std::string& title,
                     const std::vector<std::pair<std::string, std::string>>& items) {
  if (format_ == OutputFormat::Json) {
    nlohmann::json object = nlohmann::json::object();
    for (const auto& [k, v] : items) object[k] = v;
    sections_.push_back({{"title", title}, {"summary", object}});
    return;
  }
  ResultTable t{{"item", "value"}, {}, {}};
  for (const auto& [k, v] : items) t.add_row({k, v});
  table(title, t);
}

void Report::finish() {
  if (format_ == OutputFormat::Json) {
    std::cout << sections_.dump(2) << "\n";
  } else if (format_ == OutputFormat::Csv) {
    std::cout << csv_;
  }
  std::cout << std::flush;
}

}  // namespace datalab
