// Micro-benchmarks (Google Benchmark) of datalab's client-side hot paths: generating rows
// into Arrow batches and encoding them for the wire. They show where a bulk load's client
// time goes; the side-by-side comparisons with baselines are the scripts in bench/*/.
//   build/release/bench/datalab_micro_bench
#include <benchmark/benchmark.h>

#include "core/dates.h"
#include "datagen/library_generator.h"
#include "datagen/web_log_generator.h"
#include "storage/clickhouse/native_block_encoder.h"
#include "storage/postgres/copy_binary_encoder.h"

namespace {

using namespace datalab;

constexpr int64_t kBatchRows = 65'536;
const int32_t kAsOf = days_from_civil(2025, 6, 30);

void BM_GenerateBooks(benchmark::State& state) {
  const LibraryGenerator generator({100'000, 1'000'000, 0, 0}, 42, kAsOf);
  int64_t begin = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(generator.books(begin, kBatchRows));
    begin = (begin + kBatchRows) % 900'000;
  }
  state.SetItemsProcessed(state.iterations() * kBatchRows);
}
BENCHMARK(BM_GenerateBooks)->Unit(benchmark::kMillisecond);

void BM_EncodeBooksCopyBinary(benchmark::State& state) {
  const LibraryGenerator generator({100'000, 1'000'000, 0, 0}, 42, kAsOf);
  const auto batch = generator.books(0, kBatchRows);
  const CopyBinaryEncoder encoder(LibraryGenerator::books_schema());
  CopyBuffer out;
  for (auto _ : state) {
    out.clear();
    encoder.append_batch(*batch, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kBatchRows);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_EncodeBooksCopyBinary)->Unit(benchmark::kMillisecond);

void BM_GenerateWebLogs(benchmark::State& state) {
  const WebLogGenerator generator(42, kAsOf);
  int64_t begin = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(generator.batch(begin, kBatchRows));
    begin += kBatchRows;
  }
  state.SetItemsProcessed(state.iterations() * kBatchRows);
}
BENCHMARK(BM_GenerateWebLogs)->Unit(benchmark::kMillisecond);

void BM_EncodeWebLogsNative(benchmark::State& state) {
  const WebLogGenerator generator(42, kAsOf);
  const auto batch = generator.batch(0, kBatchRows);
  const clickhouse::NativeBlockEncoder encoder(WebLogGenerator::schema());
  std::string out;
  for (auto _ : state) {
    out.clear();
    encoder.encode(*batch, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kBatchRows);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_EncodeWebLogsNative)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
