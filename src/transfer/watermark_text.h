#pragma once
// A watermark with the columns it was taken with, as JSON text, for the targets that keep it
// beside the rows rather than in a SQL table (an Iceberg snapshot's summary, a Kafka message,
// a Parquet part file's footer):
//   {"cursor_column": "updated_at", "key_columns": ["id"], "cursor": "…", "key": ["…"]}
#include <string>

#include "transfer/batch_stream.h"

namespace datalab::transfer {

std::string watermark_text(const IncrementalFilter& filter, const Watermark& mark);

// The watermark in `text`. A ConfigError naming `where` when it was taken with other columns
// than the filter's (the copy would resume from the wrong place); a ServiceError when the
// text is not one datalab wrote.
Watermark parse_watermark_text(const std::string& text, const IncrementalFilter& filter, const std::string& where);

}  // namespace datalab::transfer
