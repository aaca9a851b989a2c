#pragma once
// Inserts many Arrow batches into one ClickHouse table from several threads, each with its
// own HTTP connection: a thread takes the next batch number, produces the batch (e.g. runs
// a generator), encodes it as a Native block, compresses it when asked and sends it. Memory
// stays bounded at about one batch (plus its encoding) per thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <arrow/api.h>

#include "storage/clickhouse/clickhouse_client.h"

namespace datalab::clickhouse {

struct ParallelInsertOptions {
  int threads = 0;  // 0: one per core
  BodyCompression compression = BodyCompression::None;
  int gzip_level = 1;
};

struct ParallelInsertSummary {
  int64_t rows = 0, batches = 0;
  uint64_t encoded_bytes = 0, sent_bytes = 0;
  double seconds = 0;
  int threads = 0;
};

using BatchProducer = std::function<std::shared_ptr<arrow::RecordBatch>(int64_t batch_number)>;
// Called (serialized) after each batch is stored, with its row count.
using BatchDone = std::function<void(int64_t rows)>;

// Produces and inserts batches 0 .. batch_count-1. The first failure stops the other
// threads and is rethrown here.
ParallelInsertSummary insert_in_parallel(const ClickHouseSettings& settings, const std::string& table,
                                         int64_t batch_count, const BatchProducer& produce,
                                         const BatchDone& done, const ParallelInsertOptions& options);

}  // namespace datalab::clickhouse
