#pragma once
// One copy, storage-blind: source → Arrow record batches → target, streamed, with the casts
// the user asked for (or the target needs), a progress bar and the figures of the report.
// Incremental copies ask the target for its watermark first, so the source reads only the
// rows past it, and hand the new watermark to the target's commit.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "transfer/batch_stream.h"

namespace datalab::transfer {

struct CopyOptions {
  TargetOptions target;
  std::optional<IncrementalFilter> incremental;  // `after` is filled from the target's watermark
  // --cast column=type: columns converted before the target sees them (Arrow's safe cast:
  // a value that does not fit is an error, never truncated).
  std::vector<std::pair<std::string, std::shared_ptr<arrow::DataType>>> casts;
  bool progress = true;
};

struct CopyResult {
  int64_t rows = 0;
  uint64_t bytes_read = 0, bytes_written = 0;
  double seconds = 0;
  int64_t null_cursor_rows = 0;          // incremental: rows never copied (NULL cursor)
  int64_t rejected = 0;                  // source input that made no row, and rows the target refused
  std::vector<std::string> rejections;   // where and why, the first few
  std::optional<Watermark> watermark;    // incremental: where the next run starts
  std::optional<Watermark> previous;     // incremental: where this run started
  bool no_columns = false;               // the source had no columns (and no rows): target untouched
};

using SourceFactory = std::function<std::unique_ptr<BatchSource>(const std::optional<IncrementalFilter>& filter)>;

// `source_id` names the source in the target's watermark records (its URL without secrets).
CopyResult run_copy(const SourceFactory& make_source, BatchTarget& target, const std::string& source_id,
                    const CopyOptions& options);

// An Arrow type from its name as a user writes it in --cast: int16, int32, int64, float32,
// float64, bool, utf8 (string, text), date32 (date), timestamp[us] (timestamp),
// timestamp[us, UTC] (timestamptz), timestamp[s], timestamp[ms] (each also with ", UTC"),
// decimal(p,s). Throws ConfigError listing them.
std::shared_ptr<arrow::DataType> parse_arrow_type(const std::string& name);

// Whether every value of `from` is exactly a value of `to` (a wider integer, decimal or
// float, a date at midnight, a finer timestamp unit): targets take such columns as their
// own wider type, and the copy converts on the way.
bool widens(const arrow::DataType& from, const arrow::DataType& to);

// A value as SQL literal text, for watermarks: 42, 2024-05-01, 2024-05-01 10:00:00.000001+00.
std::string literal_text(const arrow::Array& array, int64_t row);

}  // namespace datalab::transfer
