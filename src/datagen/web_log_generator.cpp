#include "datagen/web_log_generator.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/dates.h"
#include "core/error.h"
#include "datagen/random.h"

namespace datalab {

namespace {

constexpr int64_t kSecondsPerDay = 86'400;

// The same day of the month six months earlier (clamped to the month's last day).
int32_t six_months_before(int32_t day) {
  const std::string iso = format_iso_date(day);
  int year = std::stoi(iso.substr(0, 4)), month = std::stoi(iso.substr(5, 2)) - 6;
  unsigned dom = static_cast<unsigned>(std::stoi(iso.substr(8, 2)));
  if (month < 1) {
    month += 12;
    year -= 1;
  }
  while (dom > 28 && !parse_iso_date(fmt::format("{:04d}-{:02d}-{:02d}", year, month, dom))) --dom;
  return days_from_civil(year, static_cast<unsigned>(month), dom);
}

template <typename Status>
void check(const Status& status) {
  if (!status.ok()) throw Error("web log generator: " + status.ToString());
}

}  // namespace

WebLogGenerator::WebLogGenerator(uint64_t seed, int32_t as_of)
    : seed_(seed), first_second_(six_months_before(as_of) * kSecondsPerDay), end_second_(as_of * kSecondsPerDay) {}

std::shared_ptr<arrow::Schema> WebLogGenerator::schema() {
  static const auto schema = arrow::schema({
      arrow::field("timestamp", arrow::timestamp(arrow::TimeUnit::SECOND, "UTC"), false),
      arrow::field("user_id", arrow::uint32(), false),
      arrow::field("url", arrow::utf8(), false),
      arrow::field("response_time", arrow::uint32(), false),
      arrow::field("status_code", arrow::uint16(), false),
  });
  return schema;
}

std::shared_ptr<arrow::RecordBatch> WebLogGenerator::batch(int64_t begin, int64_t count) const {
  arrow::TimestampBuilder timestamps(schema()->field(0)->type(), arrow::default_memory_pool());
  arrow::UInt32Builder users, response_times;
  arrow::StringBuilder urls;
  arrow::UInt16Builder statuses;
  check(timestamps.Reserve(count));
  check(users.Reserve(count));
  check(response_times.Reserve(count));
  check(statuses.Reserve(count));
  check(urls.Reserve(count));
  check(urls.ReserveData(count * 10));
  for (int64_t row = begin; row < begin + count; ++row) {
    Rng rng = Rng::for_stream(seed_, static_cast<uint64_t>(row));
    timestamps.UnsafeAppend(rng.uniform(first_second_, end_second_ - 1));
    users.UnsafeAppend(static_cast<uint32_t>(rng.uniform(1, kUsers)));
    const std::string_view url = rng.pick(kUrls);
    check(urls.Append(url.data(), static_cast<int32_t>(url.size())));
    // Whole milliseconds, at least 1: integer sums keep averages exact however they are split.
    const double millis = std::ceil(std::exp(kResponseMu + kResponseSigma * rng.normal()));
    response_times.UnsafeAppend(static_cast<uint32_t>(
        std::clamp(millis, 1.0, static_cast<double>(std::numeric_limits<uint32_t>::max()))));
    statuses.UnsafeAppend(rng.pick(kStatusCodes));
  }
  std::shared_ptr<arrow::Array> columns[5];
  check(timestamps.Finish(&columns[0]));
  check(users.Finish(&columns[1]));
  check(urls.Finish(&columns[2]));
  check(response_times.Finish(&columns[3]));
  check(statuses.Finish(&columns[4]));
  return arrow::RecordBatch::Make(schema(), count, {columns[0], columns[1], columns[2], columns[3], columns[4]});
}

}  // namespace datalab
