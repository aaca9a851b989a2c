#pragma once
// Iceberg's per-column metrics of a data file (sizes, value and null counts, lower and upper
// bounds in Iceberg's single-value binary form), taken from the Parquet footer the writer
// produced, so readers can skip files a filter cannot match.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace parquet {
class FileMetaData;
}

namespace datalab::iceberg {

struct ColumnStats {
  int32_t field_id = 0;
  int64_t size = 0;  // compressed bytes of the column's chunks
  int64_t value_count = 0;
  std::optional<int64_t> null_count;    // unknown when a row group has no statistics
  std::optional<std::string> lower, upper;  // unknown for types without bounds here
};

// One entry per top-level column whose field id the Parquet schema carries
// (PARQUET:field_id, as with_field_ids() sets it). Bounds for int32, int64, date,
// timestamp, string and decimal columns.
std::vector<ColumnStats> column_stats(const parquet::FileMetaData& metadata);

}  // namespace datalab::iceberg
