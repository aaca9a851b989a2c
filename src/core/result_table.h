#pragma once
// A small result set (query output, summaries) and its renderings for people
// (aligned table) and machines (JSON, CSV).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace datalab {

enum class ValueKind { Text, Number, Bool };
enum class OutputFormat { Table, Json, Csv };

OutputFormat parse_output_format(const std::string& name);

struct ResultTable {
  std::vector<std::string> columns;
  std::vector<ValueKind> kinds;  // one per column; Text when empty
  std::vector<std::vector<std::optional<std::string>>> rows;

  void add_row(std::vector<std::optional<std::string>> row) { rows.push_back(std::move(row)); }
  ValueKind kind(std::size_t column) const {
    return column < kinds.size() ? kinds[column] : ValueKind::Text;
  }
};

std::string render_text(const ResultTable& table);
std::string render_csv(const ResultTable& table);
nlohmann::json to_json(const ResultTable& table);

// Collects what a command reports. In table format sections print as they come (so long
// runs show progress); JSON and CSV are printed whole by finish().
class Report {
 public:
  explicit Report(OutputFormat format) : format_(format) {}
  void table(const std::string& title, const ResultTable& table);
  void note(const std::string& text);
  // Key/value summary, shown as a two-column table.
  void summary(const std::string& title, const std::vector<std::pair<std::string, std::string>>& items);
  void finish();
  OutputFormat format() const { return format_; }

 private:
  OutputFormat format_;
  nlohmann::json sections_ = nlohmann::json::array();
  std::string csv_;
};

}  // namespace datalab
