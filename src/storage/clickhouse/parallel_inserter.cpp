#include "storage/clickhouse/parallel_inserter.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/stopwatch.h"
#include "storage/clickhouse/native_block_encoder.h"

namespace datalab::clickhouse {

ParallelInsertSummary insert_in_parallel(const ClickHouseSettings& settings, const std::string& table,
                                         int64_t batch_count, const BatchProducer& produce,
                                         const BatchDone& done, const ParallelInsertOptions& options) {
  ParallelInsertSummary summary;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  summary.threads = static_cast<int>(
      std::clamp<int64_t>(options.threads > 0 ? options.threads : cores, 1, std::max<int64_t>(batch_count, 1)));
  const auto start = std::chrono::steady_clock::now();
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;  // guards summary, done() and first_error
  std::exception_ptr first_error;

  auto worker = [&] {
    try {
      ClickHouseClient client(settings);
      std::string body;
      for (int64_t n = next++; n < batch_count && !failed; n = next++) {
        const auto batch = produce(n);
        body.clear();
        NativeBlockEncoder(batch->schema()).encode(*batch, body);
        const uint64_t encoded = body.size();
        if (options.compression == BodyCompression::Gzip) body = gzip_compress(body, options.gzip_level);
        client.insert_raw(table, "Native", body, options.compression);
        std::lock_guard lock(mutex);
        summary.rows += batch->num_rows();
        summary.batches += 1;
        summary.encoded_bytes += encoded;
        summary.sent_bytes += body.size();
        if (done) done(batch->num_rows());
      }
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!first_error) first_error = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < summary.threads; ++i) threads.emplace_back(worker);
  for (auto& thread : threads) thread.join();
  if (first_error) std::rethrow_exception(first_error);
  summary.seconds = seconds_since(start);
  return summary;
}

}  // namespace datalab::clickhouse
