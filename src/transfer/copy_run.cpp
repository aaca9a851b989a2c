#include "transfer/copy_run.h"

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <regex>

#include <arrow/compute/cast.h>
#include <arrow/compute/initialize.h>
#include <arrow/util/decimal.h>
#include <fmt/format.h>

#include "core/arrow_status.h"
#include "core/dates.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/stopwatch.h"

namespace datalab::transfer {

namespace {

// The schema after the user's --cast columns; a cast naming no source column is an error.
std::shared_ptr<arrow::Schema> cast_schema(const arrow::Schema& schema, const CopyOptions& options) {
  arrow::FieldVector fields = schema.fields();
  for (const auto& [column, type] : options.casts) {
    const int index = schema.GetFieldIndex(column);
    if (index < 0) throw ConfigError(fmt::format("--cast {}: the source has no column '{}'", column, column));
    fields[index] = fields[index]->WithType(type);
  }
  return arrow::schema(fields);
}

// Converts a batch to `schema` column by column (only where the types differ).
std::shared_ptr<arrow::RecordBatch> conform(const std::shared_ptr<arrow::RecordBatch>& batch,
                                            const std::shared_ptr<arrow::Schema>& schema, int64_t first_row) {
  if (batch->schema()->Equals(*schema, /*check_metadata=*/false)) return batch;
  std::vector<std::shared_ptr<arrow::Array>> columns;
  for (int c = 0; c < batch->num_columns(); ++c) {
    const auto& want = schema->field(c)->type();
    if (batch->column(c)->type()->Equals(*want)) {
      columns.push_back(batch->column(c));
      continue;
    }
    auto cast = arrow::compute::Cast(*batch->column(c), want, arrow::compute::CastOptions::Safe());
    if (!cast.ok()) {
      throw ConfigError(fmt::format("column '{}': a value in rows {}-{} cannot be converted from {} to {}: {}",
                                    schema->field(c)->name(), first_row + 1, first_row + batch->num_rows(),
                                    batch->column(c)->type()->ToString(), want->ToString(),
                                    cast.status().message()));
    }
    columns.push_back(*cast);
  }
  return arrow::RecordBatch::Make(schema, batch->num_rows(), std::move(columns));
}

std::string micros_text(int64_t micros, bool zoned) {
  const int64_t day_micros = 86'400'000'000LL;
  int64_t days = micros / day_micros;
  int64_t rest = micros % day_micros;
  if (rest < 0) {
    rest += day_micros;
    --days;
  }
  const int64_t seconds = rest / 1'000'000;
  return fmt::format("{} {:02}:{:02}:{:02}.{:06}{}", format_iso_date(static_cast<int32_t>(days)), seconds / 3600,
                     seconds / 60 % 60, seconds % 60, rest % 1'000'000, zoned ? "+00" : "");
}

// Reads and converts the source's batches on a second thread, up to two ahead: decoding the
// next batch overlaps with the target encoding and sending the current one (each half of a
// copy is about one core's work). The source is used by that thread only until it ends.
class Prefetcher {
 public:
  struct Batch {
    std::shared_ptr<arrow::RecordBatch> source, conformed;
  };

  Prefetcher(BatchSource& source, std::shared_ptr<arrow::Schema> schema)
      : schema_(std::move(schema)), thread_([this, &source] { run(source); }) {}

  ~Prefetcher() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  // The next batch, or nullopt after the last; rethrows what the source or a cast threw.
  std::optional<Batch> next() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return std::nullopt;
    }
    Batch batch = std::move(queue_.front());
    queue_.pop_front();
    changed_.notify_all();
    return batch;
  }

 private:
  static constexpr std::size_t kAhead = 2;

  void run(BatchSource& source) {
    int64_t rows = 0;
    try {
      while (auto batch = source.next()) {
        if (batch->num_rows() == 0) continue;
        Batch item{batch, conform(batch, schema_, rows)};
        rows += batch->num_rows();
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return queue_.size() < kAhead || stop_; });
        if (stop_) return;
        queue_.push_back(std::move(item));
        changed_.notify_all();
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      error_ = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    done_ = true;
    changed_.notify_all();
  }

  std::shared_ptr<arrow::Schema> schema_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> queue_;
  bool done_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: starts once everything it uses exists
};

}  // namespace

bool widens(const arrow::DataType& from, const arrow::DataType& to) {
  using T = arrow::Type;
  // Integer widths in bytes; unsigned ones negative, so a sign change is visible.
  const auto width = [](T::type id) {
    switch (id) {
      case T::INT8: return 1;
      case T::INT16: return 2;
      case T::INT32: return 4;
      case T::INT64: return 8;
      case T::UINT8: return -1;
      case T::UINT16: return -2;
      case T::UINT32: return -4;
      case T::UINT64: return -8;
      default: return 0;
    }
  };
  const int a = width(from.id()), b = width(to.id());
  if (a && b) {
    if ((a > 0) == (b > 0)) return std::abs(a) <= std::abs(b);
    return a < 0 && b > 0 && -a < b;  // unsigned into a wider signed
  }
  if (a && to.id() == T::DECIMAL128) {
    const int digits = std::abs(a) == 1 ? 3 : std::abs(a) == 2 ? 5 : std::abs(a) == 4 ? 10 : 20;
    const auto& d = static_cast<const arrow::Decimal128Type&>(to);
    return d.precision() - d.scale() >= digits;
  }
  if (a && std::abs(a) <= 4 && to.id() == T::DOUBLE) return true;  // exact below 2^53
  if (a && std::abs(a) <= 2 && to.id() == T::FLOAT) return true;   // exact below 2^24
  if (from.id() == T::DECIMAL128 && to.id() == T::DECIMAL128) {
    const auto& x = static_cast<const arrow::Decimal128Type&>(from);
    const auto& y = static_cast<const arrow::Decimal128Type&>(to);
    return y.scale() >= x.scale() && y.precision() - y.scale() >= x.precision() - x.scale();
  }
  if (from.id() == T::FLOAT && to.id() == T::DOUBLE) return true;
  if (from.id() == T::DATE32 && to.id() == T::TIMESTAMP) return true;  // midnight
  if (from.id() == T::LARGE_STRING && to.id() == T::STRING) return true;
  if (from.id() == T::TIMESTAMP && to.id() == T::TIMESTAMP) {  // a finer unit, the same kind of zone
    const auto& x = static_cast<const arrow::TimestampType&>(from);
    const auto& y = static_cast<const arrow::TimestampType&>(to);
    return x.timezone().empty() == y.timezone().empty() && x.unit() <= y.unit();
  }
  return false;
}

std::string literal_text(const arrow::Array& array, int64_t row) {
  switch (array.type_id()) {
    case arrow::Type::DATE32:
      return format_iso_date(static_cast<const arrow::Date32Array&>(array).Value(row));
    case arrow::Type::TIMESTAMP: {
      const auto& type = static_cast<const arrow::TimestampType&>(*array.type());
      int64_t value = static_cast<const arrow::TimestampArray&>(array).Value(row);
      switch (type.unit()) {
        case arrow::TimeUnit::SECOND: value *= 1'000'000; break;
        case arrow::TimeUnit::MILLI: value *= 1'000; break;
        case arrow::TimeUnit::MICRO: break;
        case arrow::TimeUnit::NANO: value /= 1'000; break;
      }
      return micros_text(value, !type.timezone().empty());
    }
    case arrow::Type::DECIMAL128: {
      const auto& type = static_cast<const arrow::Decimal128Type&>(*array.type());
      return arrow::Decimal128(static_cast<const arrow::Decimal128Array&>(array).GetValue(row)).ToString(type.scale());
    }
    default: {
      auto scalar = unwrap_arrow(array.GetScalar(row), "cannot read a watermark value");
      return scalar->ToString();
    }
  }
}

std::shared_ptr<arrow::DataType> parse_arrow_type(const std::string& name) {
  static const std::vector<std::pair<std::vector<std::string>, std::shared_ptr<arrow::DataType>>> simple = {
      {{"int16", "smallint"}, arrow::int16()},
      {{"int32", "int", "integer"}, arrow::int32()},
      {{"int64", "bigint"}, arrow::int64()},
      {{"float32", "float", "real"}, arrow::float32()},
      {{"float64", "double"}, arrow::float64()},
      {{"bool", "boolean"}, arrow::boolean()},
      {{"utf8", "string", "text"}, arrow::utf8()},
      {{"date32", "date"}, arrow::date32()},
      {{"timestamp[us]", "timestamp"}, arrow::timestamp(arrow::TimeUnit::MICRO)},
      {{"timestamp[us, UTC]", "timestamptz"}, arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")},
      // Whole seconds or milliseconds, for targets that hold no finer time (ClickHouse's DateTime).
      {{"timestamp[s]"}, arrow::timestamp(arrow::TimeUnit::SECOND)},
      {{"timestamp[s, UTC]"}, arrow::timestamp(arrow::TimeUnit::SECOND, "UTC")},
      {{"timestamp[ms]"}, arrow::timestamp(arrow::TimeUnit::MILLI)},
      {{"timestamp[ms, UTC]"}, arrow::timestamp(arrow::TimeUnit::MILLI, "UTC")},
  };
  for (const auto& [names, type] : simple) {
    for (const auto& n : names) {
      if (n == name) return type;
    }
  }
  static const std::regex decimal(R"(decimal(?:128)?\((\d+),\s*(\d+)\))");
  std::smatch match;
  if (std::regex_match(name, match, decimal)) {
    const int precision = std::stoi(match[1]), scale = std::stoi(match[2]);
    if (precision < 1 || precision > 38 || scale > precision) {
      throw ConfigError(fmt::format("type {}: precision must be 1-38 and scale at most the precision", name));
    }
    return arrow::decimal128(precision, scale);
  }
  throw ConfigError(fmt::format("type '{}' is unknown (expected int16, int32, int64, float32, float64, bool, "
                                "utf8, date32, timestamp, timestamptz, timestamp[s], timestamp[s, UTC], timestamp[ms], "
                                "timestamp[ms, UTC] or decimal(p,s))",
                                name));
}

CopyResult run_copy(const SourceFactory& make_source, BatchTarget& target, const std::string& source_id,
                    const CopyOptions& options) {
  check_arrow(arrow::compute::Initialize(), "cannot initialise Arrow's compute kernels");
  const auto start = std::chrono::steady_clock::now();
  CopyResult result;
  std::optional<IncrementalFilter> filter = options.incremental;
  if (filter) {
    filter->after = target.stored_watermark(source_id, *filter);
    result.previous = filter->after;
  }
  auto source = make_source(filter);
  if (source->schema()->num_fields() == 0) {
    // A source that tells no columns (a topic without new messages) has no rows either: the
    // target is left alone rather than created or opened with no columns.
    result.no_columns = true;
    result.seconds = seconds_since(start);
    return result;
  }
  if (const auto existing = target.existing_columns()) source->read_as(*existing);
  const auto source_schema = cast_schema(*source->schema(), options);
  const auto target_schema = target.open(source_schema, options.target);

  std::optional<ProgressBar> progress;
  if (options.progress) progress.emplace("copying", 0);
  std::shared_ptr<arrow::RecordBatch> last;
  {
    Prefetcher ahead(*source, target_schema);
    while (auto batch = ahead.next()) {
      target.write(*batch->conformed);
      result.rows += batch->source->num_rows();
      if (progress) progress->advance(static_cast<uint64_t>(batch->source->num_rows()));
      last = std::move(batch->source);
    }
  }
  if (filter) {
    result.null_cursor_rows = source->null_cursor_rows();
    result.watermark = filter->after;
    if (last) {
      const int64_t row = last->num_rows() - 1;
      Watermark mark;
      mark.cursor = literal_text(*last->GetColumnByName(filter->cursor_column), row);
      for (const auto& key : filter->key_columns) mark.key.push_back(literal_text(*last->GetColumnByName(key), row));
      result.watermark = mark;
    }
  }
  target.commit(source_id, result.watermark);
  source->committed();
  result.rejected = source->rejected_rows();
  result.rejections = source->rejections();
  if (auto* rejects = options.target.rejects) {
    rejects->commit();
    result.rejected += rejects->count();
    for (auto& reason : rejects->reasons()) result.rejections.push_back(std::move(reason));
  }
  if (progress) progress->finish();
  result.bytes_read = source->bytes_read();
  result.bytes_written = target.bytes_written();
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace datalab::transfer
