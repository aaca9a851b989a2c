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
#include "storage/postgres/copy_tuple_decoder.h"

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

// The shape of bench/copy's orders table: bigint, bigint, numeric(12,2), a short text,
// timestamptz, a 30-character text (NULL in 2 %), date.
std::shared_ptr<arrow::RecordBatch> orders_batch(int64_t rows) {
  arrow::Int64Builder ids, customers;
  arrow::Decimal128Builder amounts(arrow::decimal128(12, 2));
  arrow::StringBuilder statuses, notes;
  arrow::TimestampBuilder created(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool());
  arrow::Date32Builder days;
  static const char* kStatuses[] = {"new", "paid", "shipped", "delivered", "cancelled"};
  for (int64_t i = 0; i < rows; ++i) {
    (void)ids.Append(i + 1);
    (void)customers.Append((i * 7919) % 100'000);
    (void)amounts.Append(arrow::Decimal128((i * 104'729) % 10'000'000));
    (void)statuses.Append(kStatuses[i % 5]);
    (void)created.Append(1'700'000'000'000'000 + i * 1'000'000);
    if (i % 50 == 0) {
      (void)notes.AppendNull();
    } else {
      (void)notes.Append("note for order number " + std::to_string(10'000'000 + i));
    }
    (void)days.Append(19'000 + static_cast<int32_t>(i % 3650));
  }
  auto schema = arrow::schema({arrow::field("id", arrow::int64()), arrow::field("customer_id", arrow::int64()),
                               arrow::field("amount", amounts.type()), arrow::field("status", arrow::utf8()),
                               arrow::field("created_at", created.type()), arrow::field("note", arrow::utf8()),
                               arrow::field("day", arrow::date32())});
  return arrow::RecordBatch::Make(schema, rows,
                                  {*ids.Finish(), *customers.Finish(), *amounts.Finish(), *statuses.Finish(),
                                   *created.Finish(), *notes.Finish(), *days.Finish()});
}

// What a copy out of PostgreSQL does per row on the client: binary COPY tuples into Arrow.
void BM_DecodeOrdersCopyBinary(benchmark::State& state) {
  const auto batch = orders_batch(kBatchRows);
  CopyBuffer encoded;
  CopyBinaryEncoder(batch->schema()).append_batch(*batch, encoded);
  CopyTupleDecoder decoder(batch->schema(), kBatchRows);
  for (auto _ : state) {
    const char* p = encoded.data();
    const char* end = p + encoded.size();
    while (p < end) p = decoder.append_tuple(p, end);
    benchmark::DoNotOptimize(decoder.finish_batch());
  }
  state.SetItemsProcessed(state.iterations() * kBatchRows);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(encoded.size()));
}
BENCHMARK(BM_DecodeOrdersCopyBinary)->Unit(benchmark::kMillisecond);

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
