#pragma once
// Rows as JSON objects, the one convention of every JSON-writing end (JSON Lines files,
// Kafka messages): numbers and decimals exact as JSON numbers, dates and timestamps as ISO
// text (Arrow's cast to text, as in CSV), NaN and infinities as null.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/api.h>

namespace datalab::transfer {

class JsonRowEncoder {
 public:
  explicit JsonRowEncoder(const arrow::Schema& schema);
  // Takes a batch of the schema: its columns as text, once per batch.
  void start(const arrow::RecordBatch& batch);
  // Appends row `row` of the started batch as one JSON object (no line break).
  void append_row(int64_t row, std::string& out) const;
  // The text of one value of the started batch; nullopt for NULL.
  std::optional<std::string_view> text(int column, int64_t row) const;

 private:
  enum class Kind { literal, floating, text };
  std::vector<std::string> prefixes_;  // "name": per column
  std::vector<Kind> kinds_;
  std::vector<std::shared_ptr<arrow::StringArray>> texts_;
};

// Whether Arrow's cast makes text of the type (what CSV and JSON can hold).
bool text_holds(const arrow::DataType& type);

}  // namespace datalab::transfer
